/* flags.c — the subcommands' flag parser (flags.h).
 *
 * One pass over argv: a word starting with '-' (other than a lone "-") must name a table entry,
 * exactly ("--resident" is not "--resident-id"); its value is the text after '=' or the next word,
 * whatever it looks like (so "--lat -12.5" works); booleans take no next word. Values are checked
 * here, once, with the same words for every command: a bad number is reported with the flag's
 * range ("--residents 应为 10 到 2000000 之间的整数") unless the table says it better ("应为居民编号").
 * Nothing is allocated; outputs point into argv. */
#include "cli/flags.h"

#include "base/str.h"

#include <stdlib.h>
#include <string.h>

static const cli_flag *find(const cli_flag *flags, size_t nflags, const char *word, size_t len)
{
    for (size_t i = 0; i < nflags; i++)
        if (strlen(flags[i].name) == len && strncmp(flags[i].name, word, len) == 0)
            return &flags[i];
    return NULL;
}

/* "nuanxin: --mode 应为 normal、flood、hold 或 probe" and its kin; returns 2. */
static int bad_value(const cli_flag *f)
{
    if (f->expect) {
        fprintf(stderr, "nuanxin: %s 应为%s\n", f->name, f->expect);
        return 2;
    }
    switch (f->kind) {
    case CLI_FLAG_INT:
        fprintf(stderr, "nuanxin: %s 应为 %lld 到 %lld 之间的整数\n", f->name, (long long)f->min, (long long)f->max);
        break;
    case CLI_FLAG_REAL: fprintf(stderr, "nuanxin: %s 应为 %g 到 %g 之间的数\n", f->name, f->rmin, f->rmax); break;
    case CLI_FLAG_CHOICE: {
        fprintf(stderr, "nuanxin: %s 应为 ", f->name);
        for (size_t i = 0; f->words[i]; i++)
            fprintf(stderr, "%s%s", i == 0 ? "" : f->words[i + 1] ? "、" : " 或 ", f->words[i]);
        fprintf(stderr, "\n");
        break;
    }
    default: fprintf(stderr, "nuanxin: %s 应为 true 或 false\n", f->name); break;
    }
    return 2;
}

/* Store value v of flag f; 0 or 2 (printed). */
static int set_value(const cli_flag *f, const char *v)
{
    switch (f->kind) {
    case CLI_FLAG_STR: *(const char **)f->out = v; return 0;
    case CLI_FLAG_INT: {
        int64_t x;
        if (str_to_i64(v, f->min, f->max, &x))
            return bad_value(f);
        *(int64_t *)f->out = x;
        return 0;
    }
    case CLI_FLAG_REAL: {
        char *end = NULL;
        double x = strtod(v, &end);
        if (end == v || *end != '\0' || !(x >= f->rmin && x <= f->rmax))
            return bad_value(f);
        *(double *)f->out = x;
        return 0;
    }
    case CLI_FLAG_BOOL: {
        bool b;
        if (str_to_bool(v, &b))
            return bad_value(f);
        *(bool *)f->out = b;
        return 0;
    }
    case CLI_FLAG_CHOICE:
        for (int i = 0; f->words[i]; i++)
            if (strcmp(v, f->words[i]) == 0) {
                *(int *)f->out = i;
                return 0;
            }
        return bad_value(f);
    }
    return bad_value(f);
}

int cli_flags_parse(const cli_flag *flags, size_t nflags, int argc, char **argv, int first, const char **pos,
                    int maxpos, int *npos)
{
    int np = 0;
    for (int i = first; i < argc; i++) {
        const char *w = argv[i];
        if (w[0] != '-' || w[1] == '\0') {
            if (np >= maxpos) {
                fprintf(stderr, "nuanxin: 多余的参数 %s\n", w);
                return 2;
            }
            pos[np++] = w;
            continue;
        }
        const char *eq = strchr(w, '=');
        const cli_flag *f = find(flags, nflags, w, eq ? (size_t)(eq - w) : strlen(w));
        if (f == NULL) {
            fprintf(stderr, "nuanxin: 未知参数 %s\n", w);
            if (nflags) {
                fprintf(stderr, "可用参数 Options:\n");
                cli_flags_help(stderr, flags, nflags);
            }
            return 2;
        }
        const char *v = eq ? eq + 1 : NULL;
        if (v == NULL && f->kind == CLI_FLAG_BOOL) {
            *(bool *)f->out = true;
            continue;
        }
        if (v == NULL) {
            if (i + 1 >= argc) {
                fprintf(stderr, "nuanxin: %s 需要一个值\n", f->name);
                return 2;
            }
            v = argv[++i];
        }
        if (set_value(f, v))
            return 2;
    }
    if (npos)
        *npos = np;
    return 0;
}

void cli_flags_help(FILE *f, const cli_flag *flags, size_t nflags)
{
    for (size_t i = 0; i < nflags; i++)
        fprintf(f, "  %-16s %s\n", flags[i].name, flags[i].help ? flags[i].help : "");
}
