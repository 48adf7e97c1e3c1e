// placeholder so the model library is never empty; removed once the folder has code.
