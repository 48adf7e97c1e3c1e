// placeholder so the eval library is never empty; removed once the folder has code.
