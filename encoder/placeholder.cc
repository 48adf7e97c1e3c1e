// placeholder so the encoder library is never empty; removed once the folder has code.
