/* sdnotify.h — telling systemd how the service is doing (sd_notify(3)'s datagram protocol): READY=1
 * once the server listens, RELOADING=1 / READY=1 around a reload, STOPPING=1 when it stops. The
 * protocol is one datagram of "KEY=VALUE" lines to the AF_UNIX socket named by $NOTIFY_SOCKET (a path,
 * or an abstract name starting with '@'); twenty lines of our own instead of linking libsystemd. */
#ifndef NX_BASE_SDNOTIFY_H
#define NX_BASE_SDNOTIFY_H

/* Send state (e.g. "READY=1\nSTATUS=listening on 127.0.0.1:8080") to $NOTIFY_SOCKET. Returns 1 when
 * sent, 0 when not started by systemd (no $NOTIFY_SOCKET), -1 on an error (errno set; the caller
 * logs it and carries on: the service works without the notification). */
int sd_notify_send(const char *state);

#endif
