/* test_sdnotify.c — sd_notify_send against a real AF_UNIX datagram socket, as systemd would hold it:
 * a path socket and an abstract one receive exactly the state sent; no $NOTIFY_SOCKET sends nothing;
 * a relative or over-long name is refused. */
#include "base/sdnotify.h"
#include "test.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* A bound datagram socket named name ('@' first = abstract); -1 on failure. */
static int listener(const char *name)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    size_t len = strlen(name);
    memcpy(sa.sun_path, name, len);
    if (name[0] == '@')
        sa.sun_path[0] = '\0';
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) != 0)
        return -1;
    return fd;
}

static void expect_received(int fd, const char *want)
{
    char buf[256];
    ssize_t n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
    CHECK(n >= 0);
    buf[n < 0 ? 0 : n] = '\0';
    CHECK_STR(buf, want);
}

static void test_path_socket(void)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/nx-sdnotify-%ld.sock", (long)getpid());
    unlink(path);
    int fd = listener(path);
    CHECK(fd >= 0);
    setenv("NOTIFY_SOCKET", path, 1);
    CHECK_INT(sd_notify_send("READY=1\nSTATUS=listening"), 1);
    expect_received(fd, "READY=1\nSTATUS=listening");
    close(fd);
    unlink(path);
    /* nobody listens any more: an error, not a crash */
    CHECK_INT(sd_notify_send("STOPPING=1"), -1);
}

static void test_abstract_socket(void)
{
    char name[64];
    snprintf(name, sizeof name, "@nx-sdnotify-%ld", (long)getpid());
    int fd = listener(name);
    CHECK(fd >= 0);
    setenv("NOTIFY_SOCKET", name, 1);
    CHECK_INT(sd_notify_send("STOPPING=1"), 1);
    expect_received(fd, "STOPPING=1");
    close(fd);
}

static void test_not_systemd(void)
{
    unsetenv("NOTIFY_SOCKET");
    CHECK_INT(sd_notify_send("READY=1"), 0);
    setenv("NOTIFY_SOCKET", "", 1);
    CHECK_INT(sd_notify_send("READY=1"), 0);
    setenv("NOTIFY_SOCKET", "relative/name", 1);
    CHECK_INT(sd_notify_send("READY=1"), -1);
    char longname[200];
    memset(longname, 'x', sizeof longname - 1);
    longname[0] = '/';
    longname[sizeof longname - 1] = '\0';
    setenv("NOTIFY_SOCKET", longname, 1);
    CHECK_INT(sd_notify_send("READY=1"), -1);
    unsetenv("NOTIFY_SOCKET");
}

int main(void)
{
    TEST_RUN(test_path_socket);
    TEST_RUN(test_abstract_socket);
    TEST_RUN(test_not_systemd);
    return TEST_DONE();
}
