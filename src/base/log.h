/* log.h — one logging macro for the whole program.
 *
 * nx_log(LEVEL, "event key=value key=value", ...) writes one line to stderr:
 *   2026-11-29T09:10:11.123Z INFO req=42 http.access method=GET path=/healthz status=200 ms=0.21
 * The level is checked before formatting. A request or connection id is attached with
 * nx_log_set_ctx() (thread-local) so every line of one request carries it. Never pass a password,
 * token, ID number, phone or address: the log is not a place for personal data. Thread-safe. */
#ifndef NX_BASE_LOG_H
#define NX_BASE_LOG_H

enum nx_log_level { NX_LOG_DEBUG = 0, NX_LOG_INFO = 1, NX_LOG_WARN = 2, NX_LOG_ERROR = 3, NX_LOG_OFF = 4 };

extern int nx_log_threshold;

/* Parse "debug|info|warn|error|off"; returns -1 if unknown. */
int nx_log_level_parse(const char *s);

void nx_log_write(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Thread-local context printed on every line (e.g. "req=42"); NULL or "" clears it. Copied. */
void nx_log_set_ctx(const char *ctx);

#define nx_log(level, ...)                                                                         \
    do {                                                                                           \
        if ((level) >= nx_log_threshold)                                                           \
            nx_log_write((level), __VA_ARGS__);                                                    \
    } while (0)

#define LOG_DEBUG NX_LOG_DEBUG
#define LOG_INFO NX_LOG_INFO
#define LOG_WARN NX_LOG_WARN
#define LOG_ERROR NX_LOG_ERROR

#endif
