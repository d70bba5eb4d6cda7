/* sheet_common.h — the body shared by fuzz_csv.c and fuzz_xlsx.c: open the input as a spreadsheet of
 * the given kind with small caps (so that the caps are reached too) and read every row.
 * Invariants: no crash; a row has 1..max_cols cells, each valid UTF-8 within max_cell bytes; row
 * numbers increase and stay within max_rows; an error is a known code with a Chinese message and
 * stays (the next call answers the same); the end stays the end. */
#ifndef NX_FUZZ_SHEET_COMMON_H
#define NX_FUZZ_SHEET_COMMON_H

#include "fuzz.h"

#include "base/str.h"
#include "report/sheet.h"

#include <string.h>

static void sheet_fuzz(const uint8_t *data, size_t size, const char *hint)
{
    sheet_limits lim;
    sheet_limits_default(&lim);
    lim.max_rows = 2000;
    lim.max_cols = 64;
    lim.max_cell = 4096;
    lim.max_bytes = 4u << 20;
    sheet_reader *r = NULL;
    nx_err e = {0};
    int rc = sheet_open_mem_ex(data, size, hint, &lim, &r, &e);
    if (rc != 0) {
        FUZZ_ASSERT(rc == NX_EINVAL || rc == NX_ETOOBIG || rc == NX_EUNSUPP || rc == NX_EIO);
        FUZZ_ASSERT(e.msg[0] != '\0' && str_utf8_valid(e.msg, strlen(e.msg)));
        FUZZ_ASSERT(r == NULL);
        return;
    }
    int last = 0;
    const char *const *cells;
    int n;
    for (int rows = 0; rows < 100000; rows++) {
        rc = sheet_next_row(r, &cells, &n);
        if (rc != 1)
            break;
        FUZZ_ASSERT(n >= 1 && n <= lim.max_cols);
        int num = sheet_row_number(r);
        FUZZ_ASSERT(num > last && num <= lim.max_rows);
        last = num;
        for (int i = 0; i < n; i++) {
            FUZZ_ASSERT(cells[i] != NULL);
            size_t len = strlen(cells[i]);
            FUZZ_ASSERT(len <= lim.max_cell && str_utf8_valid(cells[i], len));
        }
    }
    if (rc < 0) {
        FUZZ_ASSERT(rc == NX_EINVAL || rc == NX_ETOOBIG || rc == NX_EIO || rc == NX_ENOMEM);
        const nx_err *se = sheet_error(r);
        FUZZ_ASSERT(se != NULL && se->code == rc && se->msg[0] != '\0' && str_utf8_valid(se->msg, strlen(se->msg)));
        FUZZ_ASSERT(sheet_next_row(r, &cells, &n) == rc);
    } else if (rc == 0) {
        FUZZ_ASSERT(sheet_next_row(r, &cells, &n) == 0);
    }
    sheet_close(r);
}

#endif
