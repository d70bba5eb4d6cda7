/* test_crypto.c — key files, field encryption, blind indexes, tokens.
 *
 * Expected values that are not round trips were worked out outside this code: the blind index of a
 * fixed master key (bytes 0..31) was computed with Python's hashlib.blake2b (crypto_kdf is BLAKE2b
 * with the subkey id as salt and the context as personalization), and the token hashes are the
 * published BLAKE2b-256 values of "" and "abc". */
#include "test.h"

#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/str.h"
#include "secure/crypto.h"

static char tmpdir[64];

static void path_in_tmp(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", tmpdir, name);
}

/* Write text to tmpdir/name with the given mode; returns the path in a static buffer. */
static const char *write_file(const char *name, const char *text, size_t len, mode_t mode)
{
    static char path[128];
    path_in_tmp(path, sizeof path, name);
    unlink(path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return path;
    if (len > 0 && write(fd, text, len) != (ssize_t)len)
        fprintf(stderr, "short write to %s\n", path);
    close(fd);
    chmod(path, mode);
    return path;
}

static const char *write_text(const char *name, const char *text)
{
    return write_file(name, text, strlen(text), 0600);
}

/* Copy fmt into out replacing every '@' with key (the test's own tiny template, so no
 * non-literal printf formats). */
static void expand(char *out, size_t n, const char *fmt, const char *key)
{
    strbuf b;
    strbuf_init(&b, n - 1);
    for (const char *p = fmt; *p; p++) {
        if (*p == '@')
            strbuf_puts(&b, key);
        else
            strbuf_append(&b, p, 1);
    }
    str_copy(out, b.data ? b.data : "", n);
    strbuf_cleanup(&b);
}

static void b64_of(char *out, size_t n, const unsigned char *key, size_t klen)
{
    sodium_bin2base64(out, n, key, klen, sodium_base64_VARIANT_ORIGINAL);
}

/* A key file with one key of the given id and bytes, loaded. */
static nx_keys *load_with_key(const char *name, int id, const unsigned char master[32])
{
    char b64[64], text[256];
    b64_of(b64, sizeof b64, master, 32);
    snprintf(text, sizeof text, "nuanxin-key v1\nkey %d %s\n", id, b64);
    nx_keys *k = NULL;
    nx_err e;
    int rc = keys_load(write_text(name, text), &k, &e);
    CHECK_INT(rc, 0);
    return k;
}

static void fixed_master(unsigned char m[32], unsigned char start)
{
    for (int i = 0; i < 32; i++)
        m[i] = (unsigned char)(start + i);
}

static void test_init(void)
{
    nx_err e;
    CHECK_INT(crypto_init(&e), 0);
    CHECK_INT(crypto_init(&e), 0);
}

static void test_keyfile_create(void)
{
    char path[128];
    path_in_tmp(path, sizeof path, "created.key");
    nx_err e;
    nx_err_clear(&e);
    mode_t old = umask(0); /* a permissive umask must not leak into the file's mode */
    CHECK_INT(keyfile_create(path, &e), 0);
    umask(old);

    struct stat st;
    CHECK_INT(stat(path, &st), 0);
    CHECK_INT(st.st_mode & 07777, 0600);
    CHECK(S_ISREG(st.st_mode));

    char before[512] = {0}, after[512] = {0};
    int fd = open(path, O_RDONLY);
    ssize_t n1 = read(fd, before, sizeof before - 1);
    close(fd);
    CHECK(n1 > 0);
    CHECK(str_starts_with(before, "nuanxin-key v1\n"));
    CHECK(strstr(before, "\nkey 1 ") != NULL);

    CHECK_INT(keyfile_create(path, &e), NX_ECONFLICT);
    CHECK_INT(e.code, NX_ECONFLICT);
    CHECK(strstr(e.msg, "已存在") != NULL);
    fd = open(path, O_RDONLY);
    ssize_t n2 = read(fd, after, sizeof after - 1);
    close(fd);
    CHECK_INT(n2, n1);
    CHECK(memcmp(before, after, sizeof before) == 0);

    nx_keys *k = NULL;
    CHECK_INT(keys_load(path, &k, &e), 0);
    CHECK(k != NULL);
    keys_free(k);

    /* Two created files hold different keys: their blind indexes differ. */
    char path2[128];
    path_in_tmp(path2, sizeof path2, "created2.key");
    CHECK_INT(keyfile_create(path2, &e), 0);
    nx_keys *k1 = NULL, *k2 = NULL;
    CHECK_INT(keys_load(path, &k1, &e), 0);
    CHECK_INT(keys_load(path2, &k2, &e), 0);
    if (k1 && k2) {
        unsigned char a[16], b[16];
        blind_index(k1, "d", "v", a);
        blind_index(k2, "d", "v", b);
        CHECK(memcmp(a, b, 16) != 0);
    }
    keys_free(k1);
    keys_free(k2);

    char bad[128];
    path_in_tmp(bad, sizeof bad, "no-such-dir/x.key");
    CHECK_INT(keyfile_create(bad, &e), NX_EIO);
    CHECK_INT(keyfile_create("", &e), NX_EINVAL);
    CHECK_INT(keyfile_create(NULL, &e), NX_EINVAL);
    unlink(path);
    unlink(path2);
}

static void test_keys_load_permissions(void)
{
    unsigned char m[32];
    fixed_master(m, 0);
    char b64[64], text[256];
    b64_of(b64, sizeof b64, m, 32);
    snprintf(text, sizeof text, "nuanxin-key v1\nkey 1 %s\n", b64);

    static const struct {
        mode_t mode;
        int want;
    } cases[] = {
        {0644, NX_EPERM}, {0640, NX_EPERM}, {0604, NX_EPERM}, {0620, NX_EPERM}, {0602, NX_EPERM},
        {0610, NX_EPERM}, {0600, 0},        {0400, 0},        {0700, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *p = write_file("perm.key", text, strlen(text), cases[i].mode);
        nx_keys *k = (nx_keys *)&k; /* must be reset to NULL on failure */
        nx_err e;
        nx_err_clear(&e);
        int rc = keys_load(p, &k, &e);
        CHECK_INT(rc, cases[i].want);
        if (cases[i].want == NX_EPERM) {
            CHECK(k == NULL);
            CHECK_INT(e.code, NX_EPERM);
            CHECK(strstr(e.msg, "chmod 600") != NULL);
        } else {
            CHECK(k != NULL);
            keys_free(k);
        }
    }

    nx_keys *k = NULL;
    nx_err e;
    char missing[128];
    path_in_tmp(missing, sizeof missing, "missing.key");
    CHECK_INT(keys_load(missing, &k, &e), NX_ENOTFOUND);
    CHECK(k == NULL);
    CHECK_INT(keys_load(tmpdir, &k, &e), NX_EPERM); /* a directory is not a key file */
    CHECK_INT(keys_load(NULL, &k, &e), NX_EINVAL);
    CHECK_INT(keys_load(missing, NULL, &e), NX_EINVAL);
}

static void test_keys_load_malformed(void)
{
    unsigned char m[33];
    for (int i = 0; i < 33; i++)
        m[i] = (unsigned char)(7 * i);
    char k32[64], k31[64], k33[64], text[8192];
    b64_of(k32, sizeof k32, m, 32);
    b64_of(k31, sizeof k31, m, 31);
    b64_of(k33, sizeof k33, m, 33);

    const char *bad_fmt[] = {
        "",
        "nuanxin-key v2\nkey 1 @\n",
        "nuanxin-key v1\n",
        "nuanxin-key v1\n# only a comment\n\n",
        "key 1 @\n",
        " nuanxin-key v1\nkey 1 @\n",
        "nuanxin-key v1\nkey 0 @\n",
        "nuanxin-key v1\nkey 256 @\n",
        "nuanxin-key v1\nkey x @\n",
        "nuanxin-key v1\nkey -1 @\n",
        "nuanxin-key v1\nkey 1\n",
        "nuanxin-key v1\nkey 1 @ extra\n",
        "nuanxin-key v1\nkeys 1 @\n",
        "nuanxin-key v1\nkey 1 @\nkey 1 @\n",
        "nuanxin-key v1\nkey 1 not-base64!!\n",
        "nuanxin-key v1\nkey 1 @=\n",
    };
    for (size_t i = 0; i < sizeof bad_fmt / sizeof bad_fmt[0]; i++) {
        expand(text, sizeof text, bad_fmt[i], k32);
        nx_keys *k = NULL;
        nx_err e;
        nx_err_clear(&e);
        int rc = keys_load(write_text("bad.key", text), &k, &e);
        if (rc != NX_EINVAL)
            fprintf(stderr, "  case %zu accepted\n", i);
        CHECK_INT(rc, NX_EINVAL);
        CHECK(k == NULL);
        CHECK(strstr(e.msg, "格式不正确") != NULL);
        CHECK(strstr(e.msg, k32) == NULL); /* no key material in messages */
    }

    /* Wrong key lengths. */
    const char *wrong[] = {k31, k33};
    for (int i = 0; i < 2; i++) {
        snprintf(text, sizeof text, "nuanxin-key v1\nkey 1 %s\n", wrong[i]);
        nx_keys *k = NULL;
        CHECK_INT(keys_load(write_text("bad.key", text), &k, NULL), NX_EINVAL);
    }

    /* A NUL byte inside the file. */
    static const char with_nul[] = "nuanxin-key v1\n\0key 1 AAAA\n";
    nx_keys *k = NULL;
    CHECK_INT(keys_load(write_file("nul.key", with_nul, sizeof with_nul - 1, 0600), &k, NULL), NX_EINVAL);

    /* Too big: a valid file padded with comments past 4 KiB. */
    strbuf b;
    strbuf_init(&b, 0);
    strbuf_printf(&b, "nuanxin-key v1\nkey 1 %s\n", k32);
    while (b.len <= 4096)
        strbuf_puts(&b, "# padding padding padding padding padding padding padding padding\n");
    CHECK_INT(keys_load(write_file("big.key", b.data, b.len, 0600), &k, NULL), NX_EINVAL);
    strbuf_cleanup(&b);

    /* Too many keys: 17. */
    strbuf_init(&b, 0);
    strbuf_puts(&b, "nuanxin-key v1\n");
    for (int i = 1; i <= 17; i++)
        strbuf_printf(&b, "key %d %s\n", i, k32);
    CHECK_INT(keys_load(write_file("many.key", b.data, b.len, 0600), &k, NULL), NX_EINVAL);
    strbuf_cleanup(&b);

    /* Accepted variations: CRLF, comments, blank lines, spaces, no final newline, 16 keys. */
    const char *good_fmt[] = {
        "nuanxin-key v1\r\nkey 1 @\r\n",
        "nuanxin-key v1\n\n# comment\n   # indented comment\n\tkey   7\t@   \n\n",
        "nuanxin-key v1\nkey 255 @",
    };
    for (size_t i = 0; i < sizeof good_fmt / sizeof good_fmt[0]; i++) {
        expand(text, sizeof text, good_fmt[i], k32);
        k = NULL;
        nx_err e;
        int rc = keys_load(write_text("good.key", text), &k, &e);
        if (rc != 0)
            fprintf(stderr, "  good case %zu refused: %s\n", i, e.msg);
        CHECK_INT(rc, 0);
        keys_free(k);
    }
    strbuf_init(&b, 0);
    strbuf_puts(&b, "nuanxin-key v1\n");
    for (int i = 1; i <= 16; i++)
        strbuf_printf(&b, "key %d %s\n", i, k32);
    k = NULL;
    CHECK_INT(keys_load(write_file("sixteen.key", b.data, b.len, 0600), &k, NULL), 0);
    keys_free(k);
    strbuf_cleanup(&b);
    keys_free(NULL);
}

static void round_trip(const nx_keys *k, const char *plain, size_t n)
{
    unsigned char *ct = NULL;
    size_t ct_len = 0;
    CHECK_INT(field_encrypt(k, plain, n, &ct, &ct_len), 0);
    CHECK_INT(ct_len, n + NX_FIELD_OVERHEAD);
    CHECK(ct != NULL);
    if (ct == NULL)
        return;
    CHECK_INT(ct[0], 1);
    char *back = NULL;
    CHECK_INT(field_decrypt(k, ct, ct_len, &back), 0);
    CHECK(back != NULL);
    if (back) {
        CHECK_INT(strlen(back), n);
        CHECK(memcmp(back, plain, n) == 0);
    }
    free(back);
    free(ct);
}

static void test_round_trip(void)
{
    unsigned char m[32];
    fixed_master(m, 0);
    nx_keys *k = load_with_key("rt.key", 1, m);
    if (k == NULL)
        return;
    round_trip(k, "", 0);
    round_trip(k, "11010119900307451X", 18);
    const char *addr = "北京市东城区东四街道 3 号院 2 单元 501";
    round_trip(k, addr, strlen(addr));
    char *big = malloc(4097);
    for (int i = 0; i < 4096; i++)
        big[i] = (char)('a' + i % 26);
    big[4096] = '\0';
    round_trip(k, big, 4096);
    free(big);

    /* Independent decryption: the field key is crypto_kdf(master, id 1, "nx-field") and the
     * associated data is the key-id byte alone (empty context). */
    unsigned char *ct = NULL;
    size_t ct_len = 0;
    CHECK_INT(field_encrypt(k, "13800138000", 11, &ct, &ct_len), 0);
    unsigned char fk[32], m_out[64];
    crypto_kdf_derive_from_key(fk, sizeof fk, 1, "nx-field", m);
    char fk_hex[65];
    str_hex(fk_hex, fk, 32);
    CHECK_STR(fk_hex, "5da1e51ddf3218bf527b404ac6788b250f13c65785be4dc68e369cada9b0cecb");
    unsigned long long mlen = 0;
    unsigned char ad = 1;
    CHECK_INT(crypto_aead_xchacha20poly1305_ietf_decrypt(m_out, &mlen, NULL, ct + 25, ct_len - 25, &ad, 1,
                                                         ct + 1, fk),
              0);
    CHECK_INT(mlen, 11);
    CHECK(memcmp(m_out, "13800138000", 11) == 0);
    free(ct);

    /* The same value twice gives different ciphertexts (fresh nonces). */
    unsigned char *c1 = NULL, *c2 = NULL;
    size_t l1 = 0, l2 = 0;
    CHECK_INT(field_encrypt(k, "same", 4, &c1, &l1), 0);
    CHECK_INT(field_encrypt(k, "same", 4, &c2, &l2), 0);
    CHECK_INT(l1, l2);
    if (c1 && c2) {
        CHECK(memcmp(c1, c2, l1) != 0);
        CHECK(memcmp(c1 + 1, c2 + 1, 24) != 0);
    }
    free(c1);
    free(c2);

    /* Bad input to encrypt. */
    unsigned char *o = (unsigned char *)&o;
    size_t ol = 99;
    CHECK_INT(field_encrypt(k, "a\0b", 3, &o, &ol), NX_EINVAL);
    CHECK(o == NULL);
    CHECK_INT(ol, 0);
    CHECK_INT(field_encrypt(NULL, "a", 1, &o, &ol), NX_EINVAL);
    CHECK_INT(field_encrypt(k, NULL, 1, &o, &ol), NX_EINVAL);
    CHECK_INT(field_encrypt(k, NULL, 0, &o, &ol), 0); /* NULL with n == 0 is the empty string */
    free(o);
    CHECK_INT(field_encrypt(k, "a", 1, NULL, &ol), NX_EINVAL);
    char *huge = malloc(NX_FIELD_MAX + 2);
    memset(huge, 'x', NX_FIELD_MAX + 1);
    huge[NX_FIELD_MAX + 1] = '\0';
    CHECK_INT(field_encrypt(k, huge, NX_FIELD_MAX + 1, &o, &ol), NX_ETOOBIG);
    CHECK(o == NULL);
    free(huge);
    keys_free(k);
}

static void test_tamper_and_garbage(void)
{
    unsigned char m[32];
    fixed_master(m, 0);
    nx_keys *k = load_with_key("tamper.key", 1, m);
    if (k == NULL)
        return;
    unsigned char *ct = NULL;
    size_t n = 0;
    CHECK_INT(field_encrypt(k, "secret", 6, &ct, &n), 0);
    CHECK_INT(n, 47);

    /* Flip one bit in every byte position: key id, nonce, ciphertext and tag. */
    int refused = 0;
    for (size_t i = 0; i < n; i++) {
        for (int bit = 0; bit < 8; bit += 7) {
            ct[i] ^= (unsigned char)(1u << bit);
            char *p = (char *)&p;
            if (field_decrypt(k, ct, n, &p) == NX_EINVAL && p == NULL)
                refused++;
            free(p == (char *)&p ? NULL : p);
            ct[i] ^= (unsigned char)(1u << bit);
        }
    }
    CHECK_INT(refused, (int)(2 * n));

    /* Every truncation, and one byte too many. */
    int short_refused = 0;
    for (size_t len = 0; len < n; len++) {
        char *p = NULL;
        if (field_decrypt(k, ct, len, &p) == NX_EINVAL && p == NULL)
            short_refused++;
        free(p);
    }
    CHECK_INT(short_refused, (int)n);
    unsigned char longer[64];
    memcpy(longer, ct, n);
    longer[n] = 0;
    char *p = NULL;
    CHECK_INT(field_decrypt(k, longer, n + 1, &p), NX_EINVAL);
    CHECK(p == NULL);

    /* The untouched ciphertext still decrypts (the loop restored every byte). */
    CHECK_INT(field_decrypt(k, ct, n, &p), 0);
    CHECK_STR(p, "secret");
    free(p);
    p = NULL;

    /* Unknown key id. */
    ct[0] = 2;
    CHECK_INT(field_decrypt(k, ct, n, &p), NX_EINVAL);
    ct[0] = 0;
    CHECK_INT(field_decrypt(k, ct, n, &p), NX_EINVAL);

    /* Random garbage of many lengths, with a valid key-id byte to get past the first check. */
    unsigned char junk[300];
    int junk_refused = 0;
    for (int i = 0; i < 500; i++) {
        size_t len = (size_t)randombytes_uniform(sizeof junk + 1);
        randombytes_buf(junk, sizeof junk);
        junk[0] = (i % 2) ? 1 : junk[0];
        p = NULL;
        if (field_decrypt(k, junk, len, &p) == NX_EINVAL && p == NULL)
            junk_refused++;
        free(p);
    }
    CHECK_INT(junk_refused, 500);

    CHECK_INT(field_decrypt(NULL, ct, n, &p), NX_EINVAL);
    CHECK_INT(field_decrypt(k, NULL, n, &p), NX_EINVAL);
    CHECK_INT(field_decrypt(k, ct, n, NULL), NX_EINVAL);
    free(ct);
    keys_free(k);
}

static void test_associated_data(void)
{
    unsigned char m[32];
    fixed_master(m, 0);
    nx_keys *k = load_with_key("ad.key", 1, m);
    if (k == NULL)
        return;
    unsigned char *ct = NULL;
    size_t n = 0;
    CHECK_INT(field_encrypt_ad(k, "resident.id_number", "11010119900307451X", 18, &ct, &n), 0);
    char *p = NULL;
    CHECK_INT(field_decrypt_ad(k, "resident.id_number", ct, n, &p), 0);
    CHECK_STR(p, "11010119900307451X");
    free(p);
    p = NULL;
    CHECK_INT(field_decrypt_ad(k, "resident.phone", ct, n, &p), NX_EINVAL);
    CHECK(p == NULL);
    CHECK_INT(field_decrypt(k, ct, n, &p), NX_EINVAL);
    CHECK_INT(field_decrypt_ad(k, "resident.id_numbe", ct, n, &p), NX_EINVAL);
    free(ct);

    /* The plain functions are the "" context; NULL means "" too. */
    CHECK_INT(field_encrypt(k, "abc", 3, &ct, &n), 0);
    CHECK_INT(field_decrypt_ad(k, "", ct, n, &p), 0);
    CHECK_STR(p, "abc");
    free(p);
    CHECK_INT(field_decrypt_ad(k, NULL, ct, n, &p), 0);
    free(p);
    CHECK_INT(field_decrypt_ad(k, "x", ct, n, &p), NX_EINVAL);
    free(ct);

    char ctx[130];
    memset(ctx, 'c', sizeof ctx);
    ctx[128] = '\0';
    CHECK_INT(field_encrypt_ad(k, ctx, "abc", 3, &ct, &n), 0); /* 128 bytes: allowed */
    CHECK_INT(field_decrypt_ad(k, ctx, ct, n, &p), 0);
    free(p);
    free(ct);
    ctx[128] = 'c';
    ctx[129] = '\0';
    CHECK_INT(field_encrypt_ad(k, ctx, "abc", 3, &ct, &n), NX_EINVAL);
    CHECK(ct == NULL);
    keys_free(k);
}

static void test_rotation(void)
{
    unsigned char m1[32], m2[32];
    fixed_master(m1, 0);
    fixed_master(m2, 100);
    char b1[64], b2[64], text[256];
    b64_of(b1, sizeof b1, m1, 32);
    b64_of(b2, sizeof b2, m2, 32);

    nx_keys *old = load_with_key("old.key", 1, m1);
    /* The newer key is listed first on purpose: the highest id wins, not the last line. */
    snprintf(text, sizeof text, "nuanxin-key v1\nkey 2 %s\nkey 1 %s\n", b2, b1);
    nx_keys *rot = NULL;
    CHECK_INT(keys_load(write_text("rotated.key", text), &rot, NULL), 0);
    if (old == NULL || rot == NULL) {
        keys_free(old);
        keys_free(rot);
        return;
    }
    unsigned char *c_old = NULL, *c_new = NULL;
    size_t l_old = 0, l_new = 0;
    CHECK_INT(field_encrypt(old, "before rotation", 15, &c_old, &l_old), 0);
    CHECK_INT(field_encrypt(rot, "after rotation", 14, &c_new, &l_new), 0);
    CHECK_INT(c_old[0], 1);
    CHECK_INT(c_new[0], 2);
    char *p = NULL;
    CHECK_INT(field_decrypt(rot, c_old, l_old, &p), 0);
    CHECK_STR(p, "before rotation");
    free(p);
    p = NULL;
    CHECK_INT(field_decrypt(old, c_new, l_new, &p), NX_EINVAL);
    /* Relabelling a new ciphertext as key 1 does not fool the tag. */
    c_new[0] = 1;
    CHECK_INT(field_decrypt(rot, c_new, l_new, &p), NX_EINVAL);

    /* Blind indexes do not move with the encryption key. */
    unsigned char a[16], b[16];
    blind_index(old, "resident.phone", "13800138000", a);
    blind_index(rot, "resident.phone", "13800138000", b);
    CHECK(memcmp(a, b, 16) == 0);
    free(c_old);
    free(c_new);
    keys_free(old);
    keys_free(rot);
}

static void test_blind_index(void)
{
    unsigned char m[32], m2[32];
    fixed_master(m, 0);
    fixed_master(m2, 1);
    nx_keys *k = load_with_key("bidx.key", 1, m);
    nx_keys *k2 = load_with_key("bidx2.key", 1, m2);
    if (k == NULL || k2 == NULL) {
        keys_free(k);
        keys_free(k2);
        return;
    }
    unsigned char a[16], b[16];
    char hex[33];
    blind_index(k, "resident.id_number", "11010119900307451X", a);
    str_hex(hex, a, 16);
    CHECK_STR(hex, "5d804e7ee38ecbbe9d19aaed485be61d"); /* computed with Python hashlib */
    blind_index(k, "resident.id_number", "11010119900307451X", b);
    CHECK(memcmp(a, b, 16) == 0);
    blind_index(k, "resident.phone", "11010119900307451X", b);
    CHECK(memcmp(a, b, 16) != 0);
    blind_index(k2, "resident.id_number", "11010119900307451X", b);
    CHECK(memcmp(a, b, 16) != 0);
    blind_index(k, "resident.id_number", "110101199003074511", b);
    CHECK(memcmp(a, b, 16) != 0);

    /* The separator keeps (domain, value) pairs apart. */
    blind_index(k, "ab", "c", a);
    blind_index(k, "a", "bc", b);
    CHECK(memcmp(a, b, 16) != 0);
    /* NULL is "". */
    blind_index(k, NULL, NULL, a);
    blind_index(k, "", "", b);
    CHECK(memcmp(a, b, 16) == 0);
    keys_free(k);
    keys_free(k2);
}

static void test_tokens(void)
{
    char t1[NX_TOKEN_CHARS], t2[64];
    token_random(t1, sizeof t1);
    token_random(t2, sizeof t2);
    CHECK_INT(strlen(t1), 43);
    CHECK_INT(strlen(t2), 43);
    CHECK(strcmp(t1, t2) != 0);
    CHECK_INT(strspn(t1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"), 43);
    unsigned char raw[64];
    size_t raw_len = 0;
    CHECK_INT(sodium_base642bin(raw, sizeof raw, t1, 43, NULL, &raw_len, NULL,
                                sodium_base64_VARIANT_URLSAFE_NO_PADDING),
              0);
    CHECK_INT(raw_len, 32);

    unsigned char h[32];
    char hex[65];
    token_hash("", h);
    str_hex(hex, h, 32);
    CHECK_STR(hex, "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
    token_hash("abc", h);
    str_hex(hex, h, 32);
    CHECK_STR(hex, "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
    unsigned char h1[32], h2[32];
    token_hash(t1, h1);
    token_hash(t2, h2);
    CHECK(memcmp(h1, h2, 32) != 0);
    token_hash(t1, h2);
    CHECK(memcmp(h1, h2, 32) == 0);
}

static void test_crypto_equal(void)
{
    unsigned char a[32], b[32];
    memset(a, 0x5a, sizeof a);
    memcpy(b, a, sizeof b);
    CHECK(crypto_equal(a, b, 32));
    b[31] ^= 1;
    CHECK(!crypto_equal(a, b, 32));
    CHECK(crypto_equal(a, b, 31));
    b[0] ^= 0x80;
    CHECK(!crypto_equal(a, b, 1));
    CHECK(crypto_equal(a, b, 0));
}

/* Files (blob_encrypt): any bytes, NULs included; bound to their context; a field ciphertext is not a
 * file and the other way round; older key ids still open after a rotation; tampering refused. */
static void test_blobs(void)
{
    unsigned char m1[32], m2[32];
    fixed_master(m1, 7);
    fixed_master(m2, 77);
    char b1[64], b2[64], text[256];
    b64_of(b1, sizeof b1, m1, 32);
    b64_of(b2, sizeof b2, m2, 32);
    nx_keys *k = load_with_key("blob.key", 1, m1);
    snprintf(text, sizeof text, "nuanxin-key v1\nkey 1 %s\nkey 2 %s\n", b1, b2);
    nx_keys *rot = NULL;
    CHECK_INT(keys_load(write_text("blob-rotated.key", text), &rot, NULL), 0);
    if (k == NULL || rot == NULL) {
        keys_free(k);
        keys_free(rot);
        return;
    }
    static const unsigned char pic[] = {0x89, 'P', 'N', 'G', 0, 0, 0, 13, 0, 0xFF, 'G', 'P', 'S'};
    unsigned char *c = NULL, *p = NULL;
    size_t cn = 0, pn = 0;
    CHECK_INT(blob_encrypt(k, "upload:a", pic, sizeof pic, &c, &cn), 0);
    CHECK_INT(cn, sizeof pic + NX_BLOB_OVERHEAD);
    CHECK(c && blob_is_sealed(c, cn) && memcmp(c, "\0NXE\1\1", 6) == 0);
    CHECK(c && memmem(c, cn, "GPS", 3) == NULL);
    CHECK(!blob_is_sealed(pic, sizeof pic) && !blob_is_sealed(c, NX_BLOB_OVERHEAD - 1));
    CHECK_INT(blob_decrypt(k, "upload:a", c, cn, &p, &pn), 0);
    CHECK(pn == sizeof pic && p && memcmp(p, pic, pn) == 0);
    blob_plain_free(p, pn);
    /* another context, a flipped bit, a cut tail: refused */
    CHECK_INT(blob_decrypt(k, "upload:b", c, cn, &p, &pn), NX_EINVAL);
    CHECK(p == NULL && pn == 0);
    c[cn - 1] ^= 1;
    CHECK_INT(blob_decrypt(k, "upload:a", c, cn, &p, &pn), NX_EINVAL);
    c[cn - 1] ^= 1;
    CHECK_INT(blob_decrypt(k, "upload:a", c, cn - 1, &p, &pn), NX_EINVAL);
    /* after a rotation the old key id still opens; new files use key 2, which the old file lacks */
    CHECK_INT(blob_decrypt(rot, "upload:a", c, cn, &p, &pn), 0);
    blob_plain_free(p, pn);
    unsigned char *c2 = NULL;
    size_t c2n = 0;
    CHECK_INT(blob_encrypt(rot, "upload:a", pic, sizeof pic, &c2, &c2n), 0);
    CHECK(c2 && c2[5] == 2);
    CHECK_INT(blob_decrypt(k, "upload:a", c2, c2n, &p, &pn), NX_EINVAL);
    /* relabelling the key id does not fool the tag */
    if (c2)
        c2[5] = 1;
    CHECK_INT(blob_decrypt(rot, "upload:a", c2, c2n, &p, &pn), NX_EINVAL);
    /* a field ciphertext is not a file, a file not a field */
    unsigned char *f = NULL;
    size_t fn = 0;
    char *plain = NULL;
    CHECK_INT(field_encrypt_ad(k, "upload:a", "13800138000", 11, &f, &fn), 0);
    CHECK_INT(blob_decrypt(k, "upload:a", f, fn, &p, &pn), NX_EINVAL);
    CHECK_INT(field_decrypt_ad(k, "upload:a", c, cn, &plain), NX_EINVAL);
    /* empty content and bad arguments */
    unsigned char *e0 = NULL;
    size_t e0n = 0;
    CHECK_INT(blob_encrypt(k, NULL, NULL, 0, &e0, &e0n), 0);
    CHECK_INT(blob_decrypt(k, "", e0, e0n, &p, &pn), 0);
    CHECK_INT(pn, 0);
    blob_plain_free(p, pn);
    unsigned char *none = (unsigned char *)"x";
    size_t none_n = 1;
    CHECK_INT(blob_encrypt(NULL, "x", pic, sizeof pic, &none, &none_n), NX_EINVAL);
    CHECK(none == NULL && none_n == 0);
    blob_plain_free(NULL, 0);
    free(e0);
    free(f);
    free(c);
    free(c2);
    keys_free(k);
    keys_free(rot);
}

int main(void)
{
    str_copy(tmpdir, "/tmp/nx-test-crypto-XXXXXX", sizeof tmpdir);
    if (mkdtemp(tmpdir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    TEST_RUN(test_init);
    TEST_RUN(test_keyfile_create);
    TEST_RUN(test_keys_load_permissions);
    TEST_RUN(test_keys_load_malformed);
    TEST_RUN(test_round_trip);
    TEST_RUN(test_tamper_and_garbage);
    TEST_RUN(test_associated_data);
    TEST_RUN(test_rotation);
    TEST_RUN(test_blind_index);
    TEST_RUN(test_tokens);
    TEST_RUN(test_crypto_equal);
    TEST_RUN(test_blobs);

    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return TEST_DONE();
}
