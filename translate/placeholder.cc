// placeholder so the translate library is never empty; removed once the folder has code.
