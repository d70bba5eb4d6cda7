/* crypto.c — field encryption, blind indexes and tokens on libsodium.
 *
 * What: personal data is sealed with XChaCha20-Poly1305-IETF (random 24-byte nonces, so no nonce
 * bookkeeping and no practical collision risk) under a sub-key of a master key read from a key file.
 * A second sub-key keys a BLAKE2b blind index for exact look-ups. Both sub-keys come from the
 * master key through crypto_kdf with different contexts, so knowing the index key says nothing
 * about the encryption key and the other way round.
 *
 * Ciphertext layout (v1): key id (1 byte, 1..255) || nonce (24) || ciphertext || tag (16). The
 * associated data is the key-id byte followed by the caller's context string, so neither the key
 * id nor the column a value belongs to can be changed without the tag failing. Key id 0 is
 * reserved: a future format change would start with 0 and a format-version byte.
 *
 * Invariants: an nx_keys holds 1..NX_KEYS_MAX slots with distinct ids, `active` is the slot with
 * the highest id, the index key comes from the lowest id. After keys_load the structure is
 * read-only (sodium_mprotect_readonly) and therefore safe to share between threads without locks.
 * Master keys exist only on the stack during keys_load and are wiped before it returns.
 *
 * Caveats: keys are only as safe as the file's permissions and the process's memory; mlock can fail
 * under a small RLIMIT_MEMLOCK, which libsodium tolerates (the keys then may reach swap). */
#include "secure/crypto.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/str.h"

#define KEYFILE_HEADER  "nuanxin-key v1"
#define KEYFILE_MAX     4096 /* bytes; a file with 16 keys is well under 1 KiB */
#define NX_KEYS_MAX     16
#define MASTER_BYTES    crypto_kdf_KEYBYTES
#define FIELD_KEY_BYTES crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define NONCE_BYTES     crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES       crypto_aead_xchacha20poly1305_ietf_ABYTES
#define CONTEXT_MAX     128
#define TOKEN_RAW_BYTES 32

_Static_assert(NX_FIELD_OVERHEAD == 1 + NONCE_BYTES + TAG_BYTES, "field overhead");
_Static_assert(NX_TOKEN_CHARS ==
                   sodium_base64_ENCODED_LEN(TOKEN_RAW_BYTES, sodium_base64_VARIANT_URLSAFE_NO_PADDING),
               "token size");
_Static_assert(crypto_generichash_KEYBYTES_MAX >= 32 && crypto_generichash_BYTES_MIN <= NX_BIDX_BYTES,
               "blake2b sizes");

struct key_slot {
    unsigned char id;
    unsigned char key[FIELD_KEY_BYTES];
};

struct nx_keys {
    int count;
    int active;             /* slot used for encryption: the highest id */
    unsigned char index_id; /* id the index key was derived from: the lowest id */
    unsigned char index_key[32];
    struct key_slot slot[NX_KEYS_MAX];
};

/* ---- initialization ---- */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_result = -1;

static void init_sodium(void)
{
    init_result = sodium_init() < 0 ? -1 : 0;
}

int crypto_init(nx_err *e)
{
    pthread_once(&init_once, init_sodium);
    if (init_result != 0)
        return nx_fail(e, NX_EINTERNAL, NULL, "加密库初始化失败");
    return 0;
}

/* Functions without an nx_err: initialization failure is unrecoverable for them. */
static void ensure_init(void)
{
    if (crypto_init(NULL) != 0) {
        nx_log(LOG_ERROR, "crypto.init_failed");
        abort();
    }
}

/* ---- key file ---- */

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* fsync the directory holding path so the new entry itself is durable. Best effort. */
static void sync_parent_dir(const char *path)
{
    char dir[PATH_MAX];
    if (!str_dirname(path, dir, sizeof dir))
        return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    (void)fsync(fd);
    close(fd);
}

int keyfile_create(const char *path, nx_err *e)
{
    int rc = crypto_init(e);
    if (rc != 0)
        return rc;
    if (path == NULL || path[0] == '\0')
        return nx_fail(e, NX_EINVAL, "path", "密钥文件路径不能为空");

    unsigned char master[MASTER_BYTES];
    char b64[sodium_base64_ENCODED_LEN(MASTER_BYTES, sodium_base64_VARIANT_ORIGINAL)];
    char text[256];
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            return nx_fail(e, NX_ECONFLICT, "path", "密钥文件 %s 已存在，不会覆盖", path);
        return nx_fail(e, NX_EIO, "path", "无法创建密钥文件 %s：%s", path, strerror(errno));
    }

    crypto_kdf_keygen(master);
    sodium_bin2base64(b64, sizeof b64, master, sizeof master, sodium_base64_VARIANT_ORIGINAL);
    int len =
        snprintf(text, sizeof text,
                 KEYFILE_HEADER "\n"
                                "# nuanxin field-encryption keys. Keep secret (mode 0600) and back it up:\n"
                                "# without this file the encrypted personal data cannot be read.\n"
                                "key 1 %s\n",
                 b64);
    assert(len > 0 && (size_t)len < sizeof text);

    rc = 0;
    if (fchmod(fd, 0600) != 0 || write_all(fd, text, (size_t)len) != 0 || fsync(fd) != 0) {
        rc = nx_fail(e, NX_EIO, "path", "写入密钥文件 %s 失败：%s", path, strerror(errno));
        close(fd);
        unlink(path);
        goto cleanup;
    }
    if (close(fd) != 0) {
        rc = nx_fail(e, NX_EIO, "path", "写入密钥文件 %s 失败：%s", path, strerror(errno));
        unlink(path);
        goto cleanup;
    }
    sync_parent_dir(path);
    nx_log(LOG_INFO, "crypto.keyfile_created key_id=1");

cleanup:
    sodium_memzero(master, sizeof master);
    sodium_memzero(b64, sizeof b64);
    sodium_memzero(text, sizeof text);
    return rc;
}

/* The key whose id is id, or NULL. Ids are unique (add_key refuses a second one). */
static const struct key_slot *slot_of(const nx_keys *k, unsigned char id)
{
    for (int i = 0; i < k->count; i++)
        if (k->slot[i].id == id)
            return &k->slot[i];
    return NULL;
}

/* Parse "key <id> <base64>" (already split into tokens) into k. Returns 0 or -1. */
static int add_key(nx_keys *k, const char *id_text, const char *b64)
{
    int64_t id;
    if (str_to_i64(id_text, 1, 255, &id) != 0)
        return -1;
    if (slot_of(k, (unsigned char)id))
        return -1;
    if (k->count >= NX_KEYS_MAX)
        return -1;

    unsigned char master[MASTER_BYTES];
    unsigned char index_key[sizeof k->index_key];
    size_t bin_len = 0;
    const char *end = NULL;
    size_t b64_len = strlen(b64);
    int rc = -1;
    if (sodium_base642bin(master, sizeof master, b64, b64_len, NULL, &bin_len, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        bin_len != sizeof master || end != b64 + b64_len)
        goto cleanup;

    struct key_slot *s = &k->slot[k->count];
    s->id = (unsigned char)id;
    if (crypto_kdf_derive_from_key(s->key, sizeof s->key, 1, "nx-field", master) != 0 ||
        crypto_kdf_derive_from_key(index_key, sizeof index_key, 1, "nx-index", master) != 0)
        goto cleanup;
    if (k->count == 0 || s->id > k->slot[k->active].id)
        k->active = k->count;
    if (k->count == 0 || s->id < k->index_id) {
        k->index_id = s->id;
        memcpy(k->index_key, index_key, sizeof index_key);
    }
    k->count++;
    rc = 0;

cleanup:
    sodium_memzero(master, sizeof master);
    sodium_memzero(index_key, sizeof index_key);
    return rc;
}

/* Parse the whole file text into k. Returns 0, or the 1-based number of the first bad line. */
static int parse_keyfile(char *text, nx_keys *k)
{
    int lineno = 0;
    char *p = text;
    while (*p != '\0') {
        char *nl = strchr(p, '\n');
        char *next = nl ? nl + 1 : p + strlen(p);
        if (nl)
            *nl = '\0';
        lineno++;
        size_t len = strlen(p);
        if (len > 0 && p[len - 1] == '\r')
            p[len - 1] = '\0';

        if (lineno == 1) {
            if (strcmp(p, KEYFILE_HEADER) != 0)
                return 1;
        } else {
            char *save = NULL;
            char *word = strtok_r(p, " \t", &save);
            if (word != NULL && word[0] != '#') {
                char *id = strtok_r(NULL, " \t", &save);
                char *b64 = strtok_r(NULL, " \t", &save);
                if (strcmp(word, "key") != 0 || id == NULL || b64 == NULL ||
                    strtok_r(NULL, " \t", &save) != NULL || add_key(k, id, b64) != 0)
                    return lineno;
            }
        }
        p = next;
    }
    if (lineno == 0)
        return 1;
    if (k->count == 0)
        return lineno + 1;
    return 0;
}

/* Read at most KEYFILE_MAX bytes; -2 when the file is bigger, -1 on a read error. */
static ssize_t read_capped(int fd, char *buf, size_t cap)
{
    size_t got = 0;
    for (;;) {
        ssize_t r = read(fd, buf + got, cap - got);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0)
            return (ssize_t)got;
        got += (size_t)r;
        if (got == cap)
            return -2;
    }
}

int keys_load(const char *path, nx_keys **out, nx_err *e)
{
    if (out == NULL)
        return nx_fail(e, NX_EINVAL, NULL, "内部错误：缺少输出参数");
    *out = NULL;
    int rc = crypto_init(e);
    if (rc != 0)
        return rc;
    if (path == NULL || path[0] == '\0')
        return nx_fail(e, NX_EINVAL, "path", "密钥文件路径不能为空");

    char buf[KEYFILE_MAX + 1];
    nx_keys *k = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return nx_fail(e, NX_ENOTFOUND, "path", "找不到密钥文件 %s", path);
        return nx_fail(e, NX_EIO, "path", "无法打开密钥文件 %s：%s", path, strerror(errno));
    }

    struct stat st;
    if (fstat(fd, &st) != 0) {
        rc = nx_fail(e, NX_EIO, "path", "无法读取密钥文件 %s：%s", path, strerror(errno));
        goto cleanup;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = nx_fail(e, NX_EPERM, "path", "密钥文件 %s 不是普通文件", path);
        goto cleanup;
    }
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
        rc = nx_fail(e, NX_EPERM, "path",
                     "密钥文件 %s 的权限过宽（组或其他用户可以访问），请执行 chmod 600 %s", path, path);
        goto cleanup;
    }

    ssize_t n = read_capped(fd, buf, KEYFILE_MAX);
    if (n == -1) {
        rc = nx_fail(e, NX_EIO, "path", "无法读取密钥文件 %s：%s", path, strerror(errno));
        goto cleanup;
    }
    if (n == -2) {
        rc = nx_fail(e, NX_EINVAL, "path", "密钥文件 %s 格式不正确（超过 %d 字节）", path, KEYFILE_MAX);
        goto cleanup;
    }
    buf[n] = '\0';
    if (memchr(buf, '\0', (size_t)n) != NULL) {
        rc = nx_fail(e, NX_EINVAL, "path", "密钥文件 %s 格式不正确（含有二进制内容）", path);
        goto cleanup;
    }

    size_t size = (sizeof *k + 15) & ~(size_t)15; /* sodium_malloc aligns only whole multiples */
    k = sodium_malloc(size);
    if (k == NULL) {
        rc = nx_fail(e, NX_ENOMEM, NULL, "内存不足");
        goto cleanup;
    }
    memset(k, 0, size);
    int bad_line = parse_keyfile(buf, k);
    if (bad_line != 0) {
        rc = nx_fail(e, NX_EINVAL, "path", "密钥文件 %s 格式不正确（第 %d 行）", path, bad_line);
        goto cleanup;
    }
    sodium_mprotect_readonly(k);
    nx_log(LOG_INFO, "crypto.keys_loaded keys=%d active_id=%d index_id=%d", k->count, k->slot[k->active].id,
           k->index_id);
    *out = k;
    k = NULL;
    rc = 0;

cleanup:
    sodium_memzero(buf, sizeof buf);
    keys_free(k);
    close(fd);
    return rc;
}

void keys_free(nx_keys *k)
{
    if (k != NULL)
        sodium_free(k); /* makes the pages writable, wipes them, unlocks and unmaps */
}

/* ---- field encryption ---- */

/* Build the associated data: key id || context. Returns its length, or 0 if context is too long. */
static size_t make_ad(unsigned char ad[1 + CONTEXT_MAX], unsigned char id, const char *context)
{
    const char *c = context ? context : "";
    size_t clen = strnlen(c, CONTEXT_MAX + 1);
    if (clen > CONTEXT_MAX)
        return 0;
    ad[0] = id;
    memcpy(ad + 1, c, clen);
    return 1 + clen;
}

int field_encrypt_ad(const nx_keys *k, const char *context, const char *plain, size_t n, unsigned char **out,
                     size_t *out_len)
{
    if (out == NULL || out_len == NULL)
        return NX_EINVAL;
    *out = NULL;
    *out_len = 0;
    if (k == NULL || (plain == NULL && n > 0))
        return NX_EINVAL;
    if (n > NX_FIELD_MAX)
        return NX_ETOOBIG;
    if (n > 0 && memchr(plain, '\0', n) != NULL)
        return NX_EINVAL;

    const struct key_slot *s = &k->slot[k->active];
    unsigned char ad[1 + CONTEXT_MAX];
    size_t ad_len = make_ad(ad, s->id, context);
    if (ad_len == 0)
        return NX_EINVAL;

    size_t total = n + NX_FIELD_OVERHEAD;
    unsigned char *buf = malloc(total);
    if (buf == NULL)
        return NX_ENOMEM;
    buf[0] = s->id;
    randombytes_buf(buf + 1, NONCE_BYTES);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(buf + 1 + NONCE_BYTES, &clen,
                                               (const unsigned char *)(n ? plain : ""), n, ad, ad_len, NULL,
                                               buf + 1, s->key);
    assert(clen == n + TAG_BYTES);
    *out = buf;
    *out_len = total;
    return 0;
}

int field_decrypt_ad(const nx_keys *k, const char *context, const unsigned char *in, size_t n, char **plain)
{
    if (plain == NULL)
        return NX_EINVAL;
    *plain = NULL;
    if (k == NULL || in == NULL || n < NX_FIELD_OVERHEAD || n - NX_FIELD_OVERHEAD > NX_FIELD_MAX)
        return NX_EINVAL;

    const struct key_slot *s = slot_of(k, in[0]);
    if (s == NULL)
        return NX_EINVAL;

    unsigned char ad[1 + CONTEXT_MAX];
    size_t ad_len = make_ad(ad, s->id, context);
    if (ad_len == 0)
        return NX_EINVAL;

    size_t mlen_max = n - NX_FIELD_OVERHEAD;
    unsigned char *m = malloc(mlen_max + 1);
    if (m == NULL)
        return NX_ENOMEM;
    unsigned long long mlen = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(m, &mlen, NULL, in + 1 + NONCE_BYTES, n - 1 - NONCE_BYTES,
                                                   ad, ad_len, in + 1, s->key) != 0) {
        free(m);
        return NX_EINVAL;
    }
    assert(mlen == mlen_max);
    m[mlen] = '\0';
    *plain = (char *)m;
    return 0;
}

void field_plain_free(char *plain)
{
    if (plain == NULL)
        return;
    sodium_memzero(plain, strlen(plain));
    free(plain);
}

int field_encrypt(const nx_keys *k, const char *plain, size_t n, unsigned char **out, size_t *out_len)
{
    return field_encrypt_ad(k, "", plain, n, out, out_len);
}

int field_decrypt(const nx_keys *k, const unsigned char *in, size_t n, char **plain)
{
    return field_decrypt_ad(k, "", in, n, plain);
}

/* ---- blind index, tokens, comparison ---- */

void blind_index(const nx_keys *k, const char *domain, const char *normalized,
                 unsigned char out[NX_BIDX_BYTES])
{
    assert(k != NULL && out != NULL);
    const char *d = domain ? domain : "";
    const char *v = normalized ? normalized : "";
    static const unsigned char sep = 0x00;
    crypto_generichash_state st;
    crypto_generichash_init(&st, k->index_key, sizeof k->index_key, NX_BIDX_BYTES);
    crypto_generichash_update(&st, (const unsigned char *)d, strlen(d));
    crypto_generichash_update(&st, &sep, 1);
    crypto_generichash_update(&st, (const unsigned char *)v, strlen(v));
    crypto_generichash_final(&st, out, NX_BIDX_BYTES);
    sodium_memzero(&st, sizeof st);
}

void crypto_document_mac(const nx_keys *k, const void *message, size_t n, unsigned char out[NX_DOC_MAC_BYTES])
{
    assert(k != NULL && out != NULL);
    static const char label[] = "nx-document-mac v1";
    unsigned char doc_key[32];
    crypto_generichash(doc_key, sizeof doc_key, (const unsigned char *)label, sizeof label - 1, k->index_key,
                       sizeof k->index_key);
    crypto_generichash(out, NX_DOC_MAC_BYTES, message ? message : (const void *)"", message ? n : 0, doc_key,
                       sizeof doc_key);
    sodium_memzero(doc_key, sizeof doc_key);
}

void token_random(char *out, size_t n)
{
    assert(out != NULL && n >= NX_TOKEN_CHARS);
    if (n < NX_TOKEN_CHARS) {
        if (n > 0)
            out[0] = '\0';
        return;
    }
    ensure_init();
    unsigned char raw[TOKEN_RAW_BYTES];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(out, n, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    sodium_memzero(raw, sizeof raw);
}

void token_hash(const char *token, unsigned char out[NX_TOKEN_HASH_BYTES])
{
    assert(out != NULL);
    const char *t = token ? token : "";
    crypto_generichash(out, NX_TOKEN_HASH_BYTES, (const unsigned char *)t, strlen(t), NULL, 0);
}

bool crypto_equal(const void *a, const void *b, size_t n)
{
    if (n == 0)
        return true;
    assert(a != NULL && b != NULL);
    return sodium_memcmp(a, b, n) == 0;
}

/* ---- files (blobs) ----
 *
 * Uploaded files are sealed whole, in memory (they are size-capped by configuration), with the same
 * field keys and the same AEAD as fields. Layout: "\0NXE" || version 1 || key id || nonce (24) ||
 * ciphertext || tag (16). The associated data is the 6-byte header followed by the caller's context
 * (the stored file name), so a sealed file moved under another name does not open, and — the first
 * byte of the header being 0, which no key id is — no field ciphertext can pass for a file or the
 * other way round. No accepted upload type starts with a 0 byte, so the header also tells a sealed
 * file from one written in clear by an older version. */

#define BLOB_HEADER 6

static size_t blob_ad(unsigned char ad[BLOB_HEADER + CONTEXT_MAX], unsigned char id, const char *context)
{
    const char *c = context ? context : "";
    size_t clen = strnlen(c, CONTEXT_MAX + 1);
    if (clen > CONTEXT_MAX)
        return 0;
    memcpy(ad, "\0NXE\1", 5);
    ad[5] = id;
    memcpy(ad + BLOB_HEADER, c, clen);
    return BLOB_HEADER + clen;
}

_Static_assert(NX_BLOB_OVERHEAD == BLOB_HEADER + NONCE_BYTES + TAG_BYTES, "blob overhead");

bool blob_is_sealed(const void *data, size_t n)
{
    return data != NULL && n >= NX_BLOB_OVERHEAD && memcmp(data, "\0NXE\1", 5) == 0;
}

int blob_encrypt(const nx_keys *k, const char *context, const void *plain, size_t n, unsigned char **out,
                 size_t *out_len)
{
    if (out == NULL || out_len == NULL)
        return NX_EINVAL;
    *out = NULL;
    *out_len = 0;
    if (k == NULL || (plain == NULL && n > 0) || n > SIZE_MAX - NX_BLOB_OVERHEAD)
        return NX_EINVAL;
    const struct key_slot *s = &k->slot[k->active];
    unsigned char ad[BLOB_HEADER + CONTEXT_MAX];
    size_t ad_len = blob_ad(ad, s->id, context);
    if (ad_len == 0)
        return NX_EINVAL;
    unsigned char *buf = malloc(n + NX_BLOB_OVERHEAD);
    if (buf == NULL)
        return NX_ENOMEM;
    memcpy(buf, ad, BLOB_HEADER);
    randombytes_buf(buf + BLOB_HEADER, NONCE_BYTES);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(buf + BLOB_HEADER + NONCE_BYTES, &clen,
                                               (const unsigned char *)(n ? plain : ""), n, ad, ad_len, NULL,
                                               buf + BLOB_HEADER, s->key);
    assert(clen == n + TAG_BYTES);
    *out = buf;
    *out_len = n + NX_BLOB_OVERHEAD;
    return 0;
}

int blob_decrypt(const nx_keys *k, const char *context, const unsigned char *in, size_t n, unsigned char **plain,
                 size_t *plain_len)
{
    if (plain == NULL || plain_len == NULL)
        return NX_EINVAL;
    *plain = NULL;
    *plain_len = 0;
    if (k == NULL || !blob_is_sealed(in, n))
        return NX_EINVAL;
    const struct key_slot *s = slot_of(k, in[5]);
    if (s == NULL)
        return NX_EINVAL;
    unsigned char ad[BLOB_HEADER + CONTEXT_MAX];
    size_t ad_len = blob_ad(ad, s->id, context);
    if (ad_len == 0)
        return NX_EINVAL;
    size_t mlen_max = n - NX_BLOB_OVERHEAD;
    unsigned char *m = malloc(mlen_max ? mlen_max : 1);
    if (m == NULL)
        return NX_ENOMEM;
    unsigned long long mlen = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(m, &mlen, NULL, in + BLOB_HEADER + NONCE_BYTES,
                                                   n - BLOB_HEADER - NONCE_BYTES, ad, ad_len, in + BLOB_HEADER,
                                                   s->key) != 0) {
        free(m);
        return NX_EINVAL;
    }
    assert(mlen == mlen_max);
    *plain = m;
    *plain_len = (size_t)mlen;
    return 0;
}

void blob_plain_free(void *plain, size_t n)
{
    if (plain == NULL)
        return;
    sodium_memzero(plain, n);
    free(plain);
}
