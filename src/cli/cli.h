/* cli.h — the pieces of the `nuanxin` command shared by its subcommand files. */
#ifndef NX_CLI_H
#define NX_CLI_H

#include "base/config.h"
#include "modules/app.h"

/* Open the configured store (create when asked), migrate it, load the keys and the text services;
 * fill app. Prints a Chinese error and returns non-zero on failure. */
int cli_open_app(nx_app *app, bool create, bool migrate);
void cli_close_app(nx_app *app);

/* Register every module's routes on srv. */
int cli_register_routes(http_server *srv, nx_app *app);
/* Subscribe every module's event handlers to the dispatcher d (after dispatcher_start). */
struct dispatcher;
int cli_subscribe(struct dispatcher *d, nx_app *app);

/* Read a password: from standard input when it is not a terminal (one line), else prompted twice
 * without echo. 0 or non-zero with a message printed. */
int cli_read_password(const char *prompt, char *out, size_t n);

/* The wristband gateway (listeners from watch_listen / iw_listen), the devices ticker and the live
 * alert feed of srv's event stream, started by serve after the HTTP server (cli/device.c). print
 * writes "nuanxin: gateway watch on HOST:PORT" (and iw) lines to stdout. stop accepts NULL and
 * must run before http_server_free. */
typedef struct cli_devices cli_devices;
int cli_devices_start(nx_app *app, http_server *srv, cli_devices **out, nx_err *e);
void cli_devices_print(const cli_devices *d);
void cli_devices_stop(cli_devices *d);
int cmd_device(int argc, char **argv);
int cmd_simulate(int argc, char **argv);

int cmd_serve(int argc, char **argv);
/* Whether a listen address HOST:PORT is on loopback only (127.0.0.0/8, ::1); "", "*", 0.0.0.0 and
 * host names are not (cli/serve.c). */
bool cli_listen_is_loopback(const char *listen);
int cmd_backup(int argc, char **argv); /* cli/backup.c */
int cmd_doctor(int argc, char **argv);  /* cli/doctor.c */
int cmd_upgrade(int argc, char **argv); /* cli/doctor.c */
/* Which of the n backup file names (nuanxin-YYYYMMDD-HHMMSS.db|.dump) the nightly rotation keeps:
 * keep[i] for names[i]. The newest of each of the last keep_daily days, keep_weekly ISO weeks and
 * keep_monthly months that have a backup is kept; names of any other form are always kept. */
void backup_rotate_plan(const char **names, size_t n, int keep_daily, int keep_weekly, int keep_monthly,
                        bool *keep);
int cmd_user(int argc, char **argv);
int cmd_visits(int argc, char **argv);

#endif
