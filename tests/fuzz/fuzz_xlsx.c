/* fuzz_xlsx.c — libFuzzer target for the xlsx reader of resident import (report/xlsx_read.c through
 * report/sheet.h: libzip for the archive, expat for the workbook, shared strings and sheet XML): any
 * bytes as an .xlsx file. The invariants are sheet_common.h's. Seeds are small valid workbooks
 * (gen_corpus.py); most mutations break the zip's CRC, which libzip refuses early, so the seeds also
 * hold stored (uncompressed) members whose XML the fuzzer can reach. */
#include "sheet_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sheet_fuzz(data, size, "xlsx");
    return 0;
}
