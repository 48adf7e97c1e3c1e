// placeholder so the tokenization library is never empty; removed once the folder has code.
