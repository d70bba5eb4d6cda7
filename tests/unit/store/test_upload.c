/* test_upload.c — the upload store (store/upload.h): sniffing by magic bytes within an accept mask,
 * saving (random names, the extension, mode 0600, sealed: the file on disk does not hold the bytes,
 * they read back intact, no temporary file left), the caps (empty, over max), a failed write leaving
 * nothing behind, reading and removing only stored names (never a path outside the directory); a
 * sealed file renamed, tampered with or opened with another key file is refused; files left in
 * clear by an older version read as they are and are sealed in place by upload_seal_legacy; the
 * structure walk (upload_clean): a PNG signature followed by random bytes, a wrong CRC, a truncated
 * JPEG, a lying WebP size are refused; EXIF (with GPS), XMP, text chunks and trailing bytes are
 * dropped; a JPEG's orientation is kept as a minimal Exif. */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "secure/crypto.h"
#include "store/upload.h"
#include "test.h"

static const unsigned char JPEG[] = {0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F'};
static const unsigned char PNG[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13};
static const char PDF[] = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n";
static const char WEBP[] = "RIFF\x10\0\0\0WEBPVP8 ";

static char data_dir[256];
static nx_keys *keys, *other_keys;

/* The whole content of a file (malloc'd, *n its size), or NULL. */
static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    unsigned char *b = malloc(1 << 16);
    *n = b ? fread(b, 1, 1 << 16, f) : 0;
    fclose(f);
    return b;
}

/* Number of entries in <data_dir>/uploads, "." and ".." aside. */
static int count_files(void)
{
    char dir[300];
    snprintf(dir, sizeof dir, "%s/uploads", data_dir);
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

static void test_sniff(void)
{
    unsigned all = UPLOAD_PDF | UPLOAD_JPEG | UPLOAD_PNG | UPLOAD_WEBP;
    const upload_type *t = upload_sniff(JPEG, sizeof JPEG, all);
    CHECK(t != NULL);
    if (t) {
        CHECK_STR(t->kind, "jpeg");
        CHECK_STR(t->mime, "image/jpeg");
        CHECK_STR(t->ext, "jpg");
    }
    t = upload_sniff(PNG, sizeof PNG, all);
    CHECK(t && strcmp(t->mime, "image/png") == 0 && strcmp(t->ext, "png") == 0);
    t = upload_sniff(PDF, strlen(PDF), all);
    CHECK(t && strcmp(t->kind, "pdf") == 0 && strcmp(t->mime, "application/pdf") == 0);
    t = upload_sniff(WEBP, sizeof WEBP - 1, all);
    CHECK(t && strcmp(t->mime, "image/webp") == 0 && strcmp(t->ext, "webp") == 0);
    /* Outside the mask: not recognised. */
    CHECK(upload_sniff(WEBP, sizeof WEBP - 1, UPLOAD_PDF | UPLOAD_JPEG | UPLOAD_PNG) == NULL);
    CHECK(upload_sniff(PDF, strlen(PDF), UPLOAD_JPEG | UPLOAD_PNG | UPLOAD_WEBP) == NULL);
    /* Too short, or nothing known. */
    CHECK(upload_sniff(JPEG, 2, all) == NULL);
    CHECK(upload_sniff(PNG, 7, all) == NULL);
    CHECK(upload_sniff("RIFF\0\0\0\0WAVE", 12, all) == NULL);
    CHECK(upload_sniff("GIF89a", 6, all) == NULL);
    CHECK(upload_sniff(NULL, 0, all) == NULL);
}

static void test_save_read_remove(void)
{
    char name[UPLOAD_NAME_MAX], other[UPLOAD_NAME_MAX];
    nx_err e = {0};
    CHECK_INT(upload_save(data_dir, keys, JPEG, sizeof JPEG, 1024, "jpg", name, &e), 0);
    CHECK_INT(strlen(name), 36);
    CHECK(strcmp(name + 32, ".jpg") == 0);
    CHECK_INT(upload_save(data_dir, keys, PDF, strlen(PDF), 1024, NULL, other, &e), 0);
    CHECK_INT(strlen(other), 32);
    CHECK(strncmp(name, other, 32) != 0);
    CHECK_INT(count_files(), 2); /* no temporary file left */

    char path[400];
    snprintf(path, sizeof path, "%s/uploads/%s", data_dir, name);
    struct stat st;
    CHECK_INT(stat(path, &st), 0);
    CHECK_INT(st.st_mode & 0777, 0600);
    /* sealed: the file holds neither the bytes nor their type's magic */
    size_t raw_n = 0;
    unsigned char *raw = slurp(path, &raw_n);
    CHECK(raw != NULL && raw_n == sizeof JPEG + NX_BLOB_OVERHEAD);
    CHECK(raw && blob_is_sealed(raw, raw_n) && memmem(raw, raw_n, "JFIF", 4) == NULL);
    free(raw);
    snprintf(path, sizeof path, "%s/uploads", data_dir);
    CHECK_INT(stat(path, &st), 0);
    CHECK_INT(st.st_mode & 0777, 0700);

    unsigned char *data = NULL;
    size_t n = 0;
    CHECK_INT(upload_read(data_dir, keys, name, 1024, &data, &n), 0);
    CHECK_INT(n, sizeof JPEG);
    CHECK(data && memcmp(data, JPEG, sizeof JPEG) == 0);
    upload_free(data, n);
    /* another key file does not open it */
    CHECK_INT(upload_read(data_dir, other_keys, name, 1024, &data, &n), -1);
    CHECK_INT(errno, EBADMSG);
    CHECK(data == NULL);
    /* over the cap: refused before it is read */
    CHECK_INT(upload_read(data_dir, keys, name, sizeof JPEG - 1, &data, &n), -1);
    CHECK_INT(errno, EFBIG);

    upload_remove(data_dir, name);
    CHECK_INT(upload_read(data_dir, keys, name, 1024, &data, &n), -1);
    CHECK_INT(errno, ENOENT);
    CHECK(data == NULL);
    upload_remove(data_dir, name); /* already gone: fine */
    upload_remove(data_dir, other);
    CHECK_INT(count_files(), 0);
}

/* A sealed file renamed to another stored name, or with one byte changed, does not open. */
static void test_sealed_bound(void)
{
    char a[UPLOAD_NAME_MAX], b[UPLOAD_NAME_MAX];
    nx_err e = {0};
    CHECK_INT(upload_save(data_dir, keys, PDF, strlen(PDF), 1024, NULL, a, &e), 0);
    CHECK_INT(upload_save(data_dir, keys, PDF, strlen(PDF), 1024, NULL, b, &e), 0);
    char pa[400], pb[400];
    snprintf(pa, sizeof pa, "%s/uploads/%s", data_dir, a);
    snprintf(pb, sizeof pb, "%s/uploads/%s", data_dir, b);
    CHECK_INT(rename(pa, pb), 0); /* a's bytes under b's name */
    unsigned char *data = NULL;
    size_t n = 0;
    CHECK_INT(upload_read(data_dir, keys, b, 1024, &data, &n), -1);
    CHECK_INT(errno, EBADMSG);
    CHECK_INT(upload_save(data_dir, keys, PDF, strlen(PDF), 1024, NULL, a, &e), 0);
    snprintf(pa, sizeof pa, "%s/uploads/%s", data_dir, a);
    FILE *f = fopen(pa, "r+b");
    CHECK(f != NULL);
    if (f) {
        fseek(f, NX_BLOB_OVERHEAD - 16 + 2, SEEK_SET); /* a byte of the ciphertext */
        int c = fgetc(f);
        fseek(f, NX_BLOB_OVERHEAD - 16 + 2, SEEK_SET);
        fputc(c ^ 1, f);
        fclose(f);
    }
    CHECK_INT(upload_read(data_dir, keys, a, 1024, &data, &n), -1);
    CHECK_INT(errno, EBADMSG);
    upload_remove(data_dir, a);
    upload_remove(data_dir, b);
    CHECK_INT(count_files(), 0);
}

/* Files an older version stored in clear: read as they are, then sealed in place at start-up. */
static void test_legacy(void)
{
    const char *names[] = {"0123456789abcdef0123456789abcdef.jpg", "fedcba9876543210fedcba9876543210"};
    const void *bodies[] = {JPEG, PDF};
    size_t sizes[] = {sizeof JPEG, strlen(PDF)};
    char path[400];
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/uploads/%s", data_dir, names[i]);
        FILE *f = fopen(path, "wb");
        CHECK(f != NULL);
        if (f) {
            fwrite(bodies[i], 1, sizes[i], f);
            fclose(f);
        }
    }
    unsigned char *data = NULL;
    size_t n = 0;
    CHECK_INT(upload_read(data_dir, keys, names[0], 1024, &data, &n), 0);
    CHECK(n == sizeof JPEG && data && memcmp(data, JPEG, n) == 0);
    upload_free(data, n);
    int sealed = -1, failed = -1;
    nx_err e = {0};
    CHECK_INT(upload_seal_legacy(data_dir, keys, &sealed, &failed, &e), 0);
    CHECK_INT(sealed, 2);
    CHECK_INT(failed, 0);
    CHECK_INT(count_files(), 2); /* no temporary file left */
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/uploads/%s", data_dir, names[i]);
        size_t raw_n = 0;
        unsigned char *raw = slurp(path, &raw_n);
        CHECK(raw && blob_is_sealed(raw, raw_n));
        free(raw);
        CHECK_INT(upload_read(data_dir, keys, names[i], 1024, &data, &n), 0);
        CHECK(n == sizes[i] && data && memcmp(data, bodies[i], n) == 0);
        upload_free(data, n);
    }
    /* a second pass finds nothing to do */
    CHECK_INT(upload_seal_legacy(data_dir, keys, &sealed, &failed, &e), 0);
    CHECK_INT(sealed, 0);
    for (int i = 0; i < 2; i++)
        upload_remove(data_dir, names[i]);
    /* no uploads directory at all: nothing to seal */
    char dd[300];
    snprintf(dd, sizeof dd, "%s/empty", data_dir);
    CHECK_INT(upload_seal_legacy(dd, keys, &sealed, &failed, &e), 0);
    CHECK_INT(sealed + failed, 0);
}

/* ---- the structure walk ---- */

/* A well-formed 1x1 grey baseline JPEG: SOI, APP0 (JFIF), DQT, SOF0, two DHT, SOS, one byte, EOI. */
static const unsigned char TINY_JPEG[] = {
    0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00,
    0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0xFF, 0xDB, 0x00, 0x43, 0x00, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01,
    0x01, 0x01, 0x01, 0x01, 0x01, 0xFF, 0xC0, 0x00, 0x0B, 0x08, 0x00, 0x01, 0x00, 0x01,
    0x01, 0x01, 0x11, 0x00, 0xFF, 0xC4, 0x00, 0x14, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xC4,
    0x00, 0x14, 0x10, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00,
    0x3F, 0x00, 0x3F, 0xFF, 0xD9,
};

#define TINY_APP0_END 20 /* SOI (2) + APP0 (18) */

static uint32_t crc(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int b = 0; b < 8; b++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    }
    return c ^ 0xFFFFFFFFu;
}

static size_t put32(unsigned char *o, uint32_t v)
{
    o[0] = (unsigned char)(v >> 24), o[1] = (unsigned char)(v >> 16), o[2] = (unsigned char)(v >> 8);
    o[3] = (unsigned char)v;
    return 4;
}

/* Append a PNG chunk with its CRC. */
static size_t chunk(unsigned char *o, const char *type, const void *data, size_t n)
{
    size_t k = put32(o, (uint32_t)n);
    memcpy(o + k, type, 4);
    memcpy(o + k + 4, data, n);
    k += 4 + n;
    return k + put32(o + k, crc(o + 4, n + 4));
}

/* A 1x1 PNG; with meta, an eXIf and a tEXt chunk between IHDR and IDAT. Returns its size. */
static size_t make_png(unsigned char *o, bool meta)
{
    static const unsigned char ihdr[13] = {0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0};
    static const unsigned char idat[] = {0x78, 0x9c, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01};
    size_t k = 8;
    memcpy(o, "\x89PNG\r\n\x1a\n", 8);
    k += chunk(o + k, "IHDR", ihdr, sizeof ihdr);
    if (meta) {
        k += chunk(o + k, "eXIf", "MM\0*GPS-SECRET", 14);
        k += chunk(o + k, "tEXt", "Comment\0GPS-SECRET", 18);
    }
    k += chunk(o + k, "IDAT", idat, sizeof idat);
    return k + chunk(o + k, "IEND", "", 0);
}

static const upload_type *type_of(unsigned bit)
{
    static const unsigned char probe_jpeg[] = {0xFF, 0xD8, 0xFF}, probe_png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (bit == UPLOAD_JPEG)
        return upload_sniff(probe_jpeg, 3, bit);
    if (bit == UPLOAD_PNG)
        return upload_sniff(probe_png, 8, bit);
    return upload_sniff("RIFF\0\0\0\0WEBP", 12, bit);
}

static void test_clean_png(void)
{
    unsigned char png[512], *out = NULL;
    size_t n = make_png(png, false), out_n = 0;
    nx_err e = {0};
    const upload_type *t = type_of(UPLOAD_PNG);
    /* a clean picture passes unchanged */
    CHECK_INT(upload_clean(t, png, n, &out, &out_n, &e), 0);
    CHECK(out_n == n && out && memcmp(out, png, n) == 0);
    free(out);
    /* metadata chunks and bytes after IEND are dropped */
    unsigned char meta[600];
    size_t m = make_png(meta, true);
    memcpy(meta + m, "TRAILING-GPS-SECRET", 19);
    CHECK_INT(upload_clean(t, meta, m + 19, &out, &out_n, &e), 0);
    CHECK(out_n == n && out && memcmp(out, png, n) == 0);
    free(out);
    /* a PNG signature followed by random bytes */
    unsigned char junk[300];
    memcpy(junk, png, 8);
    srand(7);
    for (size_t i = 8; i < sizeof junk; i++)
        junk[i] = (unsigned char)rand();
    CHECK_INT(upload_clean(t, junk, sizeof junk, &out, &out_n, &e), NX_EINVAL);
    CHECK_STR(e.field, "file");
    CHECK(out == NULL);
    /* one bit of IDAT changed: its CRC no longer matches */
    memcpy(junk, png, n);
    junk[n - 12 - 12 - 3] ^= 1;
    CHECK_INT(upload_clean(t, junk, n, &out, &out_n, &e), NX_EINVAL);
    /* cut before IEND; a length pointing past the end; IHDR not first */
    CHECK_INT(upload_clean(t, png, n - 12, &out, &out_n, &e), NX_EINVAL);
    memcpy(junk, png, n);
    junk[8 + 12 + 13] = 0x7F; /* IDAT's length */
    CHECK_INT(upload_clean(t, junk, n, &out, &out_n, &e), NX_EINVAL);
    memcpy(junk, png, 8);
    size_t k = 8 + chunk(junk + 8, "IDAT", "x", 1);
    memcpy(junk + k, png + 8, n - 8);
    CHECK_INT(upload_clean(t, junk, k + n - 8, &out, &out_n, &e), NX_EINVAL);
}

/* An APP1 Exif segment: IFD0 with Orientation = orient and a GPS IFD pointer, a GPS tell-tale. */
static size_t make_exif(unsigned char *o, int orient, bool little)
{
    unsigned char t[128];
    size_t k = 0;
#define W16(v) (little ? (t[k++] = (unsigned char)(v), t[k++] = (unsigned char)((v) >> 8)) \
                       : (t[k++] = (unsigned char)((v) >> 8), t[k++] = (unsigned char)(v)))
#define W32(v) (little ? (W16((v) & 0xFFFF), W16((v) >> 16)) : (W16((v) >> 16), W16((v) & 0xFFFF)))
    memcpy(t, little ? "II*\0" : "MM\0*", 4);
    k = 4;
    W32(8u);
    W16(2u);
    W16(0x8825u), W16(4u), W32(1u), W32(38u); /* GPS IFD at 38 */
    W16(0x0112u), W16(3u), W32(1u), W16((unsigned)orient), W16(0u);
    W32(0u);
    W16(0u); /* the GPS IFD: empty, then the tell-tale */
    W32(0u);
    memcpy(t + k, "GPS-SECRET", 10);
    k += 10;
#undef W16
#undef W32
    size_t len = 2 + 6 + k;
    o[0] = 0xFF, o[1] = 0xE1, o[2] = (unsigned char)(len >> 8), o[3] = (unsigned char)len;
    memcpy(o + 4, "Exif\0\0", 6);
    memcpy(o + 10, t, k);
    return 2 + len;
}

static void test_clean_jpeg(void)
{
    const upload_type *t = type_of(UPLOAD_JPEG);
    unsigned char *out = NULL, in[1024];
    size_t out_n = 0;
    nx_err e = {0};
    CHECK_INT(upload_clean(t, TINY_JPEG, sizeof TINY_JPEG, &out, &out_n, &e), 0);
    CHECK(out_n == sizeof TINY_JPEG && out && memcmp(out, TINY_JPEG, out_n) == 0);
    free(out);
    /* Exif with GPS, an XMP APP1, a comment, an APP13 and a video after EOI: all gone; orientation 1
     * (the default) needs no Exif at all */
    for (int little = 0; little < 2; little++) {
        size_t k = TINY_APP0_END;
        memcpy(in, TINY_JPEG, k);
        k += make_exif(in + k, 1, little);
        static const char xmp[] = "\xFF\xE1\x00\x2Chttp://ns.adobe.com/xap/1.0/\0<GPS-SECRET/>";
        memcpy(in + k, xmp, sizeof xmp - 1);
        k += sizeof xmp - 1;
        memcpy(in + k, "\xFF\xFE\x00\x0CGPS-SECRET\xFF\xED\x00\x0CGPS-SECRET", 28);
        k += 28;
        memcpy(in + k, TINY_JPEG + TINY_APP0_END, sizeof TINY_JPEG - TINY_APP0_END);
        k += sizeof TINY_JPEG - TINY_APP0_END;
        memcpy(in + k, "ftypmp42GPS-SECRET", 18);
        k += 18;
        CHECK_INT(upload_clean(t, in, k, &out, &out_n, &e), 0);
        CHECK(out_n == sizeof TINY_JPEG && out && memcmp(out, TINY_JPEG, out_n) == 0);
        free(out);
    }
    /* orientation 6: kept as a minimal Exif of that one tag, the GPS still gone */
    size_t k = TINY_APP0_END;
    memcpy(in, TINY_JPEG, k);
    k += make_exif(in + k, 6, true);
    memcpy(in + k, TINY_JPEG + TINY_APP0_END, sizeof TINY_JPEG - TINY_APP0_END);
    k += sizeof TINY_JPEG - TINY_APP0_END;
    CHECK_INT(upload_clean(t, in, k, &out, &out_n, &e), 0);
    CHECK(out && out_n == sizeof TINY_JPEG + 36 && memmem(out, out_n, "GPS-SECRET", 10) == NULL);
    CHECK(out && memcmp(out + TINY_APP0_END, "\xFF\xE1\x00\x22" "Exif\0\0MM\0*", 14) == 0 &&
          out[TINY_APP0_END + 4 + 6 + 8 + 2 + 8 + 1] == 6);
    free(out);
    /* a JPEG signature and nothing else; cut in the middle of the scan; no frame header; a segment
     * length past the end */
    CHECK_INT(upload_clean(t, "\xFF\xD8\xFF\xE0\x00\x10JFIF\0\0\0\0\0\0\0\0\0\0", 20, &out, &out_n, &e), NX_EINVAL);
    CHECK_INT(upload_clean(t, TINY_JPEG, sizeof TINY_JPEG - 2, &out, &out_n, &e), NX_EINVAL);
    memcpy(in, TINY_JPEG, TINY_APP0_END);
    memcpy(in + TINY_APP0_END, "\xFF\xD9", 2);
    CHECK_INT(upload_clean(t, in, TINY_APP0_END + 2, &out, &out_n, &e), NX_EINVAL);
    memcpy(in, TINY_JPEG, sizeof TINY_JPEG);
    in[TINY_APP0_END + 2] = 0xFF; /* DQT's length */
    CHECK_INT(upload_clean(t, in, sizeof TINY_JPEG, &out, &out_n, &e), NX_EINVAL);
    CHECK_STR(e.field, "file");
}

static void test_clean_webp(void)
{
    const upload_type *t = type_of(UPLOAD_WEBP);
    unsigned char in[256], *out = NULL;
    size_t out_n = 0;
    nx_err e = {0};
    /* RIFF, VP8X with EXIF|XMP flags, a VP8L image chunk, an EXIF and an XMP chunk, then trailing bytes */
    size_t k = 12;
    memcpy(in, "RIFF\0\0\0\0WEBP", 12);
    memcpy(in + k, "VP8X\x0A\0\0\0\x0C\0\0\0\0\0\0\0\0\0", 18);
    k += 18;
    memcpy(in + k, "VP8L\x05\0\0\0\x2F\0\0\0\0\0", 14); /* 5 bytes and a pad byte */
    k += 14;
    size_t image_end = k;
    memcpy(in + k, "EXIF\x0A\0\0\0GPS-SECRET", 18);
    k += 18;
    memcpy(in + k, "XMP \x0A\0\0\0GPS-SECRET", 18);
    k += 18;
    uint32_t riff = (uint32_t)(k - 8);
    in[4] = (unsigned char)riff;
    memcpy(in + k, "TRAILING", 8);
    CHECK_INT(upload_clean(t, in, k + 8, &out, &out_n, &e), 0);
    CHECK(out && out_n == image_end && memmem(out, out_n, "GPS-SECRET", 10) == NULL);
    CHECK(out && out[4] == image_end - 8 && out[12 + 8] == 0); /* RIFF size fixed, flags cleared */
    free(out);
    /* a RIFF size larger than the file; a chunk size past the RIFF; no image chunk */
    in[4] = 0xF0;
    CHECK_INT(upload_clean(t, in, k, &out, &out_n, &e), NX_EINVAL);
    in[4] = (unsigned char)riff;
    in[12 + 18 + 4] = 0x7F;
    CHECK_INT(upload_clean(t, in, k, &out, &out_n, &e), NX_EINVAL);
    memcpy(in, "RIFF\x12\0\0\0WEBPVP8X\x0A\0\0\0\0\0\0\0\0\0\0\0\0\0", 30);
    CHECK_INT(upload_clean(t, in, 30, &out, &out_n, &e), NX_EINVAL);
}

static void test_caps(void)
{
    char name[UPLOAD_NAME_MAX] = "x";
    nx_err e = {0};
    CHECK_INT(upload_save(data_dir, keys, JPEG, 0, 1024, "jpg", name, &e), NX_EINVAL);
    CHECK_STR(e.field, "file");
    CHECK_STR(name, "");
    CHECK_INT(upload_save(data_dir, keys, JPEG, sizeof JPEG, sizeof JPEG - 1, "jpg", name, &e), NX_ETOOBIG);
    CHECK_STR(e.field, "file");
    CHECK_INT(upload_save(data_dir, keys, JPEG, sizeof JPEG, sizeof JPEG, "jpg", name, &e), 0); /* max itself is fine */
    upload_remove(data_dir, name);
    CHECK_INT(upload_save(data_dir, keys, JPEG, sizeof JPEG, 1024, "../x", name, &e), NX_EINVAL);
    CHECK_INT(upload_save(data_dir, keys, JPEG, sizeof JPEG, 1024, "", name, &e), NX_EINVAL);
    CHECK_INT(upload_save(data_dir, keys, JPEG, sizeof JPEG, 1024, "toolongx", name, &e), NX_EINVAL);
    CHECK_INT(count_files(), 0);
}

/* Where the file cannot be written: NX_EIO and nothing left behind. */
static void test_write_fails(void)
{
    char name[UPLOAD_NAME_MAX];
    nx_err e = {0};
    /* A data directory whose "uploads" is a plain file. */
    char dd[300], blocker[320];
    snprintf(dd, sizeof dd, "%s/blocked", data_dir);
    CHECK_INT(mkdir(dd, 0700), 0);
    snprintf(blocker, sizeof blocker, "%s/uploads", dd);
    FILE *f = fopen(blocker, "w");
    CHECK(f != NULL);
    if (f)
        fclose(f);
    CHECK_INT(upload_save(dd, keys, JPEG, sizeof JPEG, 1024, "jpg", name, &e), NX_EIO);
    CHECK_STR(name, "");
    /* A data directory that does not exist: the uploads directory cannot be made. */
    snprintf(dd, sizeof dd, "%s/nope", data_dir);
    CHECK_INT(upload_save(dd, keys, JPEG, sizeof JPEG, 1024, "jpg", name, &e), NX_EIO);
    /* A read-only uploads directory (not for root, who may write it anyway). */
    if (geteuid() != 0) {
        char dir[300];
        snprintf(dir, sizeof dir, "%s/uploads", data_dir);
        CHECK_INT(chmod(dir, 0500), 0);
        CHECK_INT(upload_save(data_dir, keys, JPEG, sizeof JPEG, 1024, "jpg", name, &e), NX_EIO);
        CHECK_INT(chmod(dir, 0700), 0);
    }
    CHECK_INT(count_files(), 0);
}

/* Names that are not stored names never become paths. */
static void test_names(void)
{
    char outside[300];
    snprintf(outside, sizeof outside, "%s/secret", data_dir);
    FILE *f = fopen(outside, "w");
    CHECK(f != NULL);
    if (f)
        fclose(f);
    unsigned char *data = NULL;
    size_t size = 0;
    CHECK_INT(upload_read(data_dir, keys, "../secret", 1024, &data, &size), -1);
    CHECK_INT(upload_read(data_dir, keys, "", 1024, &data, &size), -1);
    CHECK_INT(upload_read(data_dir, keys, NULL, 1024, &data, &size), -1);
    CHECK_INT(upload_read(data_dir, keys, "0123456789abcdef0123456789abcdef/../../secret", 1024, &data, &size), -1);
    CHECK_INT(upload_read(data_dir, keys, "0123456789ABCDEF0123456789ABCDEF", 1024, &data, &size), -1);
    CHECK(data == NULL);
    upload_remove(data_dir, "../secret");
    CHECK_INT(access(outside, F_OK), 0);
    unlink(outside);
}

int main(void)
{
    nx_log_threshold = NX_LOG_OFF;
    snprintf(data_dir, sizeof data_dir, "/tmp/nx-test-upload-XXXXXX");
    if (mkdtemp(data_dir) == NULL)
        return 1;
    nx_err e = {0};
    char kp[300];
    snprintf(kp, sizeof kp, "%s/a.key", data_dir);
    if (keyfile_create(kp, &e) || keys_load(kp, &keys, &e))
        return 1;
    snprintf(kp, sizeof kp, "%s/b.key", data_dir);
    if (keyfile_create(kp, &e) || keys_load(kp, &other_keys, &e))
        return 1;
    char up[300];
    snprintf(up, sizeof up, "%s/uploads", data_dir);
    mkdir(up, 0700);
    TEST_RUN(test_sniff);
    TEST_RUN(test_save_read_remove);
    TEST_RUN(test_sealed_bound);
    TEST_RUN(test_legacy);
    TEST_RUN(test_clean_png);
    TEST_RUN(test_clean_jpeg);
    TEST_RUN(test_clean_webp);
    TEST_RUN(test_caps);
    TEST_RUN(test_write_fails);
    TEST_RUN(test_names);
    keys_free(keys);
    keys_free(other_keys);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", data_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", data_dir);
    return TEST_DONE();
}
