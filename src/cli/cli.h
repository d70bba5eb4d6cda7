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

/* Read a password: from standard input when it is not a terminal (one line), else prompted twice
 * without echo. 0 or non-zero with a message printed. */
int cli_read_password(const char *prompt, char *out, size_t n);

int cmd_serve(int argc, char **argv);
int cmd_user(int argc, char **argv);

#endif
