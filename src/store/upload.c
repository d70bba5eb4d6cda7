/* upload.c — the upload store (see upload.h): seal, write exclusively, fsync, link into place; read
 * and open; seal what older versions left in clear. The structure walk is in upload_clean.c.
 *
 * A save seals the bytes (blob_encrypt, context "upload:<name>") and writes "<dir>/.tmp-<name>"
 * created with O_EXCL (never someone else's file, never a symlink followed), fsyncs and closes it,
 * then link()s it to "<dir>/<name>": link fails rather than replace an existing file, so a name is
 * never reused even in theory. The temporary name is unlinked whatever happens, and the directory is
 * fsync'ed so that the new entry survives a crash. A file system without hard links answers link
 * with EPERM or EOPNOTSUPP; then rename (the random name makes a clash impossible in practice). A
 * crash in the middle leaves at most a ".tmp-" file, never a half file under a stored name. Names
 * read back are checked to be stored names before they become paths, so a damaged row cannot point
 * outside the directory.
 *
 * Sealing a legacy file is the one place a stored file is replaced: its sealed copy is renamed over
 * it (atomic), and both forms open, so a reader racing the start-up pass never fails. */
#include "store/upload.h"

#include "base/log.h"
#include "base/str.h"
#include "store/query.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
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

/* The context a file is sealed under: its stored name, so a sealed file renamed does not open. */
static void seal_context(char ctx[64], const char *name)
{
    snprintf(ctx, 64, "upload:%s", name);
}

int upload_save(const char *data_dir, const nx_keys *keys, const void *data, size_t n, size_t max,
                const char *ext, char name[UPLOAD_NAME_MAX], nx_err *e)
{
    name[0] = '\0';
    if (n == 0)
        return nx_fail(e, NX_EINVAL, "file", "上传的文件为空");
    if (n > max)
        return nx_fail(e, NX_ETOOBIG, "file", "文件过大（上限 %zu 字节）", max);
    if (ext && !ext_ok(ext))
        return nx_fail(e, NX_EINVAL, "", "文件扩展名无效");
    char dir[PATH_MAX], tmp[PATH_MAX], path[PATH_MAX], hex[33], ctx[64];
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
    seal_context(ctx, stored);
    unsigned char *sealed = NULL;
    size_t sealed_n = 0;
    int rc = blob_encrypt(keys, ctx, data, n, &sealed, &sealed_n);
    if (rc)
        return nx_fail(e, rc == NX_ENOMEM ? NX_ENOMEM : NX_EINTERNAL, "", "无法加密上传的文件");
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        int err = errno;
        free(sealed);
        return save_failed(err, e);
    }
    int err = 0;
    bool ok = write_all(fd, sealed, sealed_n) == 0 && fsync(fd) == 0;
    if (!ok)
        err = errno;
    free(sealed);
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

/* Read an open file whole (at most cap bytes): *buf malloc'd. -1 with errno on failure. */
static int read_whole(int fd, uint64_t cap, unsigned char **buf, size_t *n)
{
    struct stat st;
    *buf = NULL;
    *n = 0;
    if (fstat(fd, &st) != 0)
        return -1;
    if (!S_ISREG(st.st_mode)) {
        errno = EINVAL;
        return -1;
    }
    if ((uint64_t)st.st_size > cap) {
        errno = EFBIG;
        return -1;
    }
    size_t size = (size_t)st.st_size;
    unsigned char *b = malloc(size ? size : 1);
    if (b == NULL) {
        errno = ENOMEM;
        return -1;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t r = read(fd, b + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            free(b);
            errno = EIO;
            return -1;
        }
        got += (size_t)r;
    }
    *buf = b;
    *n = size;
    return 0;
}

int upload_read(const char *data_dir, const nx_keys *keys, const char *name, size_t max, unsigned char **data,
                size_t *n)
{
    *data = NULL;
    *n = 0;
    if (!name_ok(name)) {
        errno = EINVAL;
        return -1;
    }
    char path[PATH_MAX], ctx[64];
    snprintf(path, sizeof path, "%s/uploads/%s", data_dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    unsigned char *raw;
    size_t raw_n;
    int rc = read_whole(fd, (uint64_t)max + NX_BLOB_OVERHEAD, &raw, &raw_n);
    int saved = errno;
    close(fd);
    if (rc) {
        errno = saved;
        return -1;
    }
    if (!blob_is_sealed(raw, raw_n)) { /* stored in clear before sealing: as it is */
        *data = raw;
        *n = raw_n;
        return 0;
    }
    seal_context(ctx, name);
    rc = blob_decrypt(keys, ctx, raw, raw_n, data, n);
    free(raw);
    if (rc) {
        errno = rc == NX_ENOMEM ? ENOMEM : EBADMSG;
        return -1;
    }
    return 0;
}

void upload_free(unsigned char *data, size_t n)
{
    blob_plain_free(data, n);
}

void upload_remove(const char *data_dir, const char *name)
{
    if (!name_ok(name))
        return;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/uploads/%s", data_dir, name);
    unlink(path);
}

/* Seal one clear file in place. 1 when sealed, 0 when it was sealed already, -1 on failure. */
static int seal_one(const char *dir, const char *name, const nx_keys *keys)
{
    char path[PATH_MAX], tmp[PATH_MAX], ctx[64], hex[17];
    unsigned char rnd[8];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return -1;
    /* the header says whether there is anything to do: every start looks, without reading the files */
    unsigned char head[NX_BLOB_OVERHEAD];
    ssize_t h = pread(fd, head, sizeof head, 0);
    if (h == (ssize_t)sizeof head && blob_is_sealed(head, sizeof head)) {
        close(fd);
        return 0;
    }
    unsigned char *raw = NULL, *sealed = NULL;
    size_t raw_n = 0, sealed_n = 0;
    int rc = read_whole(fd, (uint64_t)1 << 31, &raw, &raw_n);
    close(fd);
    if (rc)
        return -1;
    if (blob_is_sealed(raw, raw_n) || raw_n == 0) {
        free(raw);
        return 0;
    }
    seal_context(ctx, name);
    rc = blob_encrypt(keys, ctx, raw, raw_n, &sealed, &sealed_n);
    sodium_memzero(raw, raw_n);
    free(raw);
    if (rc)
        return -1;
    randombytes_buf(rnd, sizeof rnd);
    str_hex(hex, rnd, sizeof rnd);
    snprintf(tmp, sizeof tmp, "%s/.tmp-seal-%s-%s", dir, hex, name);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        free(sealed);
        return -1;
    }
    bool ok = write_all(fd, sealed, sealed_n) == 0 && fsync(fd) == 0;
    free(sealed);
    ok = close(fd) == 0 && ok;
    ok = ok && rename(tmp, path) == 0;
    if (!ok)
        unlink(tmp);
    return ok ? 1 : -1;
}

int upload_seal_legacy(const char *data_dir, const nx_keys *keys, int *sealed, int *failed, nx_err *e)
{
    *sealed = 0;
    *failed = 0;
    char dir[PATH_MAX];
    if ((size_t)snprintf(dir, sizeof dir, "%s/uploads", data_dir) >= sizeof dir - UPLOAD_NAME_MAX - 40)
        return nx_fail(e, NX_EIO, "", "上传目录的路径过长");
    DIR *d = opendir(dir);
    if (d == NULL)
        return errno == ENOENT ? 0 : nx_fail(e, NX_EIO, "", "无法读取上传目录");
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (!name_ok(de->d_name))
            continue; /* ".", "..", temporary files, anything not ours */
        int r = seal_one(dir, de->d_name, keys);
        if (r > 0)
            (*sealed)++;
        else if (r < 0)
            (*failed)++;
    }
    closedir(d);
    if (*sealed)
        sync_dir(dir);
    return 0;
}

int upload_accept(const char *data_dir, const nx_keys *keys, const void *data, size_t n, size_t max, unsigned accept,
                  const upload_type **type, char name[UPLOAD_NAME_MAX], nx_err *e)
{
    name[0] = '\0';
    if (n == 0)
        return nx_fail(e, NX_EINVAL, "file", "请选择要上传的文件");
    if (n > max)
        return nx_fail(e, NX_ETOOBIG, "file", "文件过大（上限 %zu 字节）", max);
    const upload_type *t = upload_sniff(data, n, accept);
    if (t == NULL) {
        char kinds[64] = "";
        size_t len = 0;
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            if (accept & types[i].bit) {
                int k = snprintf(kinds + len, sizeof kinds - len, "%s%s", len ? "、" : "", types[i].kind);
                if (k > 0 && (size_t)k < sizeof kinds - len)
                    len += (size_t)k;
            }
        return nx_fail(e, NX_EUNSUPP, "file", "文件类型不受支持（只接受 %s）", kinds);
    }
    unsigned char *clean = NULL;
    size_t clean_n = 0;
    int rc = upload_clean(t, data, n, &clean, &clean_n, e);
    if (rc == 0)
        rc = upload_save(data_dir, keys, clean, clean_n, max, t->ext, name, e);
    free(clean);
    if (rc)
        name[0] = '\0';
    else if (type)
        *type = t;
    return rc;
}

int upload_read_first(store *db, const sqlq *q, const char *missing, const char *data_dir, const nx_keys *keys,
                      size_t max, unsigned char **data, size_t *n, char ctype[32], nx_err *e)
{
    *data = NULL;
    *n = 0;
    store_tx *tx;
    int rc = store_begin(db, STORE_READ, &tx, e);
    if (rc)
        return rc;
    store_rows *r;
    char name[UPLOAD_NAME_MAX] = "";
    if ((rc = sqlq_first(tx, q, missing, &r, e)) == 0) {
        snprintf(name, sizeof name, "%s", store_text(r, 0) ? store_text(r, 0) : "");
        snprintf(ctype, 32, "%s", store_text(r, 1) ? store_text(r, 1) : "application/octet-stream");
        store_rows_free(r);
    }
    store_rollback(tx);
    if (rc)
        return rc;
    if (upload_read(data_dir, keys, name, max, data, n) != 0) {
        nx_log(LOG_WARN, "upload.unreadable errno=%d", errno);
        return nx_fail(e, NX_EIO, "", "文件无法读取");
    }
    return 0;
}
