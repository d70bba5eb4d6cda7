/* flags.h — the one parser for the subcommands' own flags (`nuanxin demo --seed N`, `device add IMEI
 * --protocol iw`, `simulate --devices N` …).
 *
 * A command describes its flags in a table (name, kind, where the value goes, accepted range or
 * words, help line) and hands argv to cli_flags_parse, which checks every word against the table:
 * "--name VALUE" and "--name=VALUE" both work, numbers are read with str_to_i64 / strtod and
 * checked against the range, a word not starting with '-' is positional. Anything else — an unknown
 * flag, a missing or bad value, one positional too many — is a usage error: one Chinese line on
 * stderr ("nuanxin: --seed 应为非负整数"), the exit status 2. Configuration flags (--data,
 * --listen …) never reach a command: main.c applies and removes them first. */
#ifndef NX_CLI_FLAGS_H
#define NX_CLI_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum {
    CLI_FLAG_STR,    /* out: const char ** (points into argv) */
    CLI_FLAG_INT,    /* out: int64_t *, within [min, max] */
    CLI_FLAG_REAL,   /* out: double *, within [rmin, rmax] */
    CLI_FLAG_BOOL,   /* out: bool *; "--name" sets true, "--name=false" false (str_to_bool words) */
    CLI_FLAG_CHOICE, /* out: int *, the index of the value in words (NULL-terminated) */
} cli_flag_kind;

typedef struct {
    const char *name; /* with its dashes: "--seed" */
    cli_flag_kind kind;
    void *out;                /* written only when the flag is given, so it holds the default */
    int64_t min, max;         /* CLI_FLAG_INT */
    double rmin, rmax;        /* CLI_FLAG_REAL */
    const char *const *words; /* CLI_FLAG_CHOICE */
    const char *expect;       /* error text after "应为"; NULL: said from the range or the words */
    const char *help;         /* one line for cli_flags_help */
} cli_flag;

/* Table entries: name, where the value goes, its range or words, the help line. x is the error
 * text after "应为" (NULL: said from the range). */
#define CLI_STR(n, o, h)  {.name = (n), .kind = CLI_FLAG_STR, .out = (o), .help = (h)}
#define CLI_BOOL(n, o, h) {.name = (n), .kind = CLI_FLAG_BOOL, .out = (o), .help = (h)}
#define CLI_INT(n, o, lo, hi, x, h)                                                                     \
    {.name = (n), .kind = CLI_FLAG_INT, .out = (o), .min = (lo), .max = (hi), .expect = (x), .help = (h)}
#define CLI_REAL(n, o, lo, hi, h)                                                                       \
    {.name = (n), .kind = CLI_FLAG_REAL, .out = (o), .rmin = (lo), .rmax = (hi), .help = (h)}
#define CLI_CHOICE(n, o, w, h) {.name = (n), .kind = CLI_FLAG_CHOICE, .out = (o), .words = (w), .help = (h)}

/* Parse argv[first .. argc) against the nflags entries of flags (flags may be NULL when nflags is
 * 0). Positional words go to pos[0 .. *npos), at most maxpos of them (pos and npos may be NULL
 * when maxpos is 0); a lone "-" is positional too. The outputs of flags that are absent are not
 * touched; a flag given twice keeps the last value. Returns 0, or 2 after printing the reason to
 * stderr (the command returns it as its exit status). Does not block. */
int cli_flags_parse(const cli_flag *flags, size_t nflags, int argc, char **argv, int first, const char **pos,
                    int maxpos, int *npos);

/* One line per flag ("  --seed  help") on f. */
void cli_flags_help(FILE *f, const cli_flag *flags, size_t nflags);

#endif
