/* upload.c — the upload store (see upload.h): sniff, write exclusively, fsync, link into place.
 *
 * A save writes "<dir>/.tmp-<name>" created with O_EXCL (never someone else's file, never a symlink
 * followed), fsyncs and closes it, then link()s it to "<dir>/<name>": link fails rather than replace
 * an existing file, so a name is never reused even in theory. The temporary name is unlinked whatever
 * happens, and the directory is fsync'ed so that the new entry survives a crash. A file system without
 * hard links answers link with EPERM or EOPNOTSUPP; then rename (the random name makes a clash
 * impossible in practice). A crash in the middle leaves at most a ".tmp-" file, never a half file
 * under a stored name. Names read back are checked to be stored names before they become paths, so a
 * damaged row cannot point outside the directory. */
#include "store/upload.h"

#include "base/str.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const upload_type types[] = {
    {UPLOAD_PDF, "pdf", "application/pdf", "pdf"},
    {UPLOAD_JPEG, "jpeg", "image/jpeg", "jpg"},
    {UPLOAD_PNG, "png", "image/png", "png"},
    {UPLOAD_WEBP, "webp", "image/webp", "webp"},
};

static unsigned sniff_bit(const unsigned char *d, size_t n)
{
    if (n >= 5 && memcmp(d, "%PDF-", 5) == 0)
        return UPLOAD_PDF;
    if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF)
        return UPLOAD_JPEG;
    if (n >= 8 && memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0)
        return UPLOAD_PNG;
    if (n >= 12 && memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, "WEBP", 4) == 0)
        return UPLOAD_WEBP;
    return 0;
}

const upload_type *upload_sniff(const void *data, size_t n, unsigned accept)
{
    unsigned bit = data ? sniff_bit(data, n) & accept : 0;
    for (size_t i = 0; bit && i < sizeof types / sizeof types[0]; i++)
        if (types[i].bit == bit)
            return &types[i];
    return NULL;
}

static bool ext_ok(const char *ext)
{
    size_t n = strlen(ext);
    if (n == 0 || n > 7)
        return false;
    for (const char *c = ext; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9')))
            return false;
    return true;
}

/* A name upload_save can have made: 32 hex digits, optionally "." and a valid extension. */
static bool name_ok(const char *name)
{
    if (name == NULL)
        return false;
    for (int i = 0; i < 32; i++)
        if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'a' && name[i] <= 'f')))
            return false;
    return name[32] == '\0' || (name[32] == '.' && ext_ok(name + 33));
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* A file that could not be written: a full disk or a read-only file system is the operator's to
 * clear while the process goes on (NX_EBUSY, 503, saying which); anything else is NX_EIO. */
static int save_failed(int err, nx_err *e)
{
    if (err == ENOSPC || err == EDQUOT)
        return nx_fail(e, NX_EBUSY, "", "磁盘已满，暂时无法保存上传的文件，请联系管理员");
    if (err == EROFS)
        return nx_fail(e, NX_EBUSY, "", "数据目录只读，暂时无法保存上传的文件，请联系管理员");
    return nx_fail(e, NX_EIO, "", "无法保存上传的文件");
}

static void sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    (void)fsync(fd);
    close(fd);
}

int upload_save(const char *data_dir, const void *data, size_t n, size_t max, const char *ext,
                char name[UPLOAD_NAME_MAX], nx_err *e)
{
    name[0] = '\0';
    if (n == 0)
        return nx_fail(e, NX_EINVAL, "file", "上传的文件为空");
    if (n > max)
        return nx_fail(e, NX_ETOOBIG, "file", "文件过大（上限 %zu 字节）", max);
    if (ext && !ext_ok(ext))
        return nx_fail(e, NX_EINVAL, "", "文件扩展名无效");
    char dir[PATH_MAX], tmp[PATH_MAX], path[PATH_MAX], hex[33];
    if ((size_t)snprintf(dir, sizeof dir, "%s/uploads", data_dir) >= sizeof dir - UPLOAD_NAME_MAX - 6)
        return nx_fail(e, NX_EIO, "", "上传目录的路径过长");
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return errno == ENOSPC || errno == EROFS ? save_failed(errno, e) : nx_fail(e, NX_EIO, "", "无法创建上传目录");
    unsigned char rnd[16];
    randombytes_buf(rnd, sizeof rnd);
    str_hex(hex, rnd, sizeof rnd);
    char stored[UPLOAD_NAME_MAX];
    snprintf(stored, sizeof stored, "%s%s%s", hex, ext ? "." : "", ext ? ext : "");
    snprintf(tmp, sizeof tmp, "%s/.tmp-%s", dir, stored);
    snprintf(path, sizeof path, "%s/%s", dir, stored);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
        return save_failed(errno, e);
    int err = 0;
    bool ok = write_all(fd, data, n) == 0 && fsync(fd) == 0;
    if (!ok)
        err = errno;
    ok = close(fd) == 0 && ok;
    if (!ok && err == 0)
        err = errno;
    if (ok && link(tmp, path) != 0) {
        ok = (errno == EPERM || errno == EOPNOTSUPP) && rename(tmp, path) == 0;
        err = ok ? 0 : errno;
    }
    unlink(tmp);
    if (!ok)
        return save_failed(err, e);
    sync_dir(dir);
    str_copy(name, stored, UPLOAD_NAME_MAX);
    return 0;
}

int upload_open(const char *data_dir, const char *name, int *fd, uint64_t *size)
{
    *fd = -1;
    if (!name_ok(name)) {
        errno = EINVAL;
        return -1;
    }
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/uploads/%s", data_dir, name);
    int f = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (f < 0)
        return -1;
    if (fstat(f, &st) != 0) {
        close(f);
        return -1;
    }
    *fd = f;
    *size = (uint64_t)st.st_size;
    return 0;
}

void upload_remove(const char *data_dir, const char *name)
{
    if (!name_ok(name))
        return;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/uploads/%s", data_dir, name);
    unlink(path);
}
