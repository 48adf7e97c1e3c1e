// placeholder so the decoder library is never empty; removed once the folder has code.
