// placeholder so the training library is never empty; removed once the folder has code.
