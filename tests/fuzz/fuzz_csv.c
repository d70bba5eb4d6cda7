/* fuzz_csv.c — libFuzzer target for the CSV reader of resident import (report/csv.c through
 * report/sheet.h): any bytes as a CSV file (UTF-8 with or without BOM, or GBK). The invariants are
 * sheet_common.h's. */
#include "sheet_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sheet_fuzz(data, size, "csv");
    return 0;
}
