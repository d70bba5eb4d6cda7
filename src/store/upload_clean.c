/* upload_clean.c — the structure walk of uploaded pictures (upload.h, upload_clean).
 *
 * The sniffer looks at a few magic bytes; a file that only starts like a picture (a PNG signature and
 * then anything) would be stored and served as one. Here each format is walked the way a decoder
 * frames it, without decoding a pixel: JPEG marker by marker (segment lengths, the entropy-coded
 * data of each scan skipped up to the next marker that is not a stuffed 0xFF00 or a restart), PNG
 * chunk by chunk with each CRC-32, WebP chunk by chunk inside its RIFF. Every length is checked
 * against what is left before it is used, so a lying length is a refusal, never a read past the end.
 *
 * While walking, the copy to store is written without what is not the picture: the metadata a phone
 * adds (EXIF with the GPS position of a resident's home, XMP, comments, text chunks, maker notes in
 * other APPn segments) and whatever follows the format's end (a "motion photo" video appended after
 * a JPEG's EOI, data hidden after IEND). The one piece of EXIF a picture needs to be shown the right
 * way up, the orientation, is written back as a minimal Exif segment of that single tag.
 *
 * No decoder is linked: a malformed picture that frames correctly is still accepted, and is the
 * browser's to render or not (served with nosniff and its sniffed type only). PDF is passed through.
 * Pure functions; thread-safe. */
#include "store/upload.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}

/* ---- JPEG ---- */

/* The Exif orientation (1..8) in an APP1 segment's body (after the length), or 0. */
static int exif_orientation(const unsigned char *b, size_t n)
{
    if (n < 6 + 8 || memcmp(b, "Exif\0\0", 6) != 0)
        return 0;
    const unsigned char *t = b + 6;
    size_t tn = n - 6;
    bool le;
    if (memcmp(t, "II*\0", 4) == 0)
        le = true;
    else if (memcmp(t, "MM\0*", 4) == 0)
        le = false;
    else
        return 0;
#define U16(p) (le ? (unsigned)((p)[0] | (p)[1] << 8) : (unsigned)((p)[0] << 8 | (p)[1]))
    uint32_t ifd = le ? le32(t + 4) : be32(t + 4);
    if (ifd > tn || tn - ifd < 2)
        return 0;
    unsigned count = U16(t + ifd);
    for (unsigned i = 0; i < count; i++) {
        size_t at = (size_t)ifd + 2 + (size_t)i * 12;
        if (at + 12 > tn)
            return 0;
        if (U16(t + at) == 0x0112 && U16(t + at + 2) == 3) {
            unsigned v = U16(t + at + 8);
            return v >= 1 && v <= 8 ? (int)v : 0;
        }
    }
    return 0;
#undef U16
}

/* Append a minimal big-endian Exif APP1 carrying only Orientation = v. Writes 36 bytes. */
static size_t put_orientation(unsigned char *o, int v)
{
    static const unsigned char head[] = {0xFF, 0xE1, 0x00, 0x22, 'E', 'x', 'i', 'f', 0, 0, 'M', 'M', 0, 0x2A,
                                         0,    0,    0,    8,    0,   1,   0x01, 0x12, 0, 3, 0, 0, 0, 1};
    memcpy(o, head, sizeof head);
    size_t k = sizeof head;
    o[k++] = 0;
    o[k++] = (unsigned char)v;
    o[k++] = 0;
    o[k++] = 0;
    memset(o + k, 0, 4); /* no next IFD */
    return k + 4;
}

/* An APPn or COM segment we keep: JFIF/JFXX (APP0), an ICC profile (APP2), Adobe's colour transform
 * (APP14). Everything else of the kind is metadata. */
static bool keep_app(unsigned char m, const unsigned char *body, size_t n)
{
    if (m == 0xE0 || m == 0xEE)
        return true;
    if (m == 0xE2)
        return n >= 12 && memcmp(body, "ICC_PROFILE\0", 12) == 0;
    return false;
}

static bool is_sof(unsigned char m)
{
    return m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
}

static int clean_jpeg(const unsigned char *d, size_t n, unsigned char *o, size_t *on)
{
    size_t i = 2, k = 0;
    bool sof = false, sos = false, oriented = false;
    o[k++] = 0xFF;
    o[k++] = 0xD8;
    for (;;) {
        if (i + 2 > n || d[i] != 0xFF)
            return -1;
        while (i + 1 < n && d[i + 1] == 0xFF) /* fill bytes before a marker */
            i++;
        if (i + 2 > n)
            return -1;
        unsigned char m = d[i + 1];
        if (m == 0xD9) { /* EOI: the end; whatever follows is dropped */
            if (!sof || !sos)
                return -1;
            o[k++] = 0xFF;
            o[k++] = 0xD9;
            *on = k;
            return 0;
        }
        if (m == 0x00 || m == 0xD8)
            return -1;
        if ((m >= 0xD0 && m <= 0xD7) || m == 0x01) { /* standalone markers */
            o[k++] = 0xFF;
            o[k++] = m;
            i += 2;
            continue;
        }
        if (i + 4 > n)
            return -1;
        size_t len = (size_t)d[i + 2] << 8 | d[i + 3];
        if (len < 2 || len > n - i - 2)
            return -1;
        const unsigned char *body = d + i + 4;
        size_t blen = len - 2;
        size_t end = i + 2 + len;
        if ((m >= 0xE0 && m <= 0xEF) || m == 0xFE) {
            if (keep_app(m, body, blen)) {
                memcpy(o + k, d + i, len + 2);
                k += len + 2;
            } else if (m == 0xE1 && !oriented) {
                int v = exif_orientation(body, blen);
                if (v > 1) {
                    k += put_orientation(o + k, v);
                    oriented = true;
                }
            }
            i = end;
            continue;
        }
        if (is_sof(m)) {
            if (blen < 6)
                return -1;
            sof = true;
        }
        memcpy(o + k, d + i, len + 2);
        k += len + 2;
        i = end;
        if (m != 0xDA)
            continue;
        /* SOS: the entropy-coded data runs to the next marker that is neither a stuffed 0xFF00 nor a
         * restart marker (0xFFD0..D7); fill 0xFF bytes may precede a marker. */
        if (!sof)
            return -1;
        sos = true;
        size_t j = i;
        for (;;) {
            const unsigned char *ff = memchr(d + j, 0xFF, n - j);
            if (ff == NULL)
                return -1;
            j = (size_t)(ff - d);
            if (j + 1 >= n)
                return -1;
            unsigned char nb = d[j + 1];
            if (nb == 0x00 || (nb >= 0xD0 && nb <= 0xD7))
                j += 2;
            else if (nb == 0xFF)
                j += 1;
            else
                break;
        }
        memcpy(o + k, d + i, j - i);
        k += j - i;
        i = j;
    }
}

/* ---- PNG ---- */

static uint32_t crc_table[256];

static void crc_init(void)
{
    for (uint32_t c, n = 0; n < 256; n++) {
        c = n;
        for (int b = 0; b < 8; b++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[n] = c;
    }
}

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, crc_init);
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++)
        c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

static bool png_drop(const unsigned char *type)
{
    static const char *const drop[] = {"eXIf", "tEXt", "zTXt", "iTXt", "tIME"};
    for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++)
        if (memcmp(type, drop[i], 4) == 0)
            return true;
    return false;
}

static int clean_png(const unsigned char *d, size_t n, unsigned char *o, size_t *on)
{
    size_t i = 8, k = 8;
    bool idat = false;
    memcpy(o, d, 8);
    for (int chunk = 0;; chunk++) {
        if (n - i < 12)
            return -1;
        uint32_t len = be32(d + i);
        const unsigned char *type = d + i + 4;
        if (len > 0x7FFFFFFFu || len > n - i - 12)
            return -1;
        for (int c = 0; c < 4; c++)
            if (!((type[c] >= 'A' && type[c] <= 'Z') || (type[c] >= 'a' && type[c] <= 'z')))
                return -1;
        if (crc32_of(type, (size_t)len + 4) != be32(d + i + 8 + len))
            return -1;
        bool ihdr = memcmp(type, "IHDR", 4) == 0;
        if ((chunk == 0) != ihdr || (ihdr && len != 13))
            return -1;
        if (memcmp(type, "IDAT", 4) == 0)
            idat = true;
        size_t whole = (size_t)len + 12;
        if (!png_drop(type)) {
            memcpy(o + k, d + i, whole);
            k += whole;
        }
        i += whole;
        if (memcmp(type, "IEND", 4) == 0) {
            if (!idat)
                return -1;
            *on = k; /* whatever follows IEND is dropped */
            return 0;
        }
    }
}

/* ---- WebP ---- */

static int clean_webp(const unsigned char *d, size_t n, unsigned char *o, size_t *on)
{
    if (n < 12)
        return -1;
    uint32_t riff = le32(d + 4);
    if (riff < 4 || riff > n - 8)
        return -1;
    size_t end = (size_t)riff + 8, i = 12, k = 12, vp8x = 0;
    bool image = false;
    memcpy(o, d, 12);
    if (end - i < 8)
        return -1;
    while (i < end) {
        if (end - i < 8)
            return -1;
        const unsigned char *cc = d + i;
        uint32_t size = le32(d + i + 4);
        size_t whole = (size_t)size + 8 + (size & 1);
        if (size > end - i - 8 || whole > end - i)
            return -1;
        if (i == 12 && memcmp(cc, "VP8 ", 4) != 0 && memcmp(cc, "VP8L", 4) != 0 && memcmp(cc, "VP8X", 4) != 0)
            return -1;
        if (memcmp(cc, "VP8 ", 4) == 0 || memcmp(cc, "VP8L", 4) == 0 || memcmp(cc, "ANMF", 4) == 0)
            image = true;
        if (memcmp(cc, "EXIF", 4) != 0 && memcmp(cc, "XMP ", 4) != 0) {
            if (memcmp(cc, "VP8X", 4) == 0 && size >= 10)
                vp8x = k + 8;
            memcpy(o + k, d + i, whole);
            k += whole;
        }
        i += whole;
    }
    if (!image)
        return -1;
    if (vp8x)
        o[vp8x] &= (unsigned char)~0x0Cu; /* EXIF (0x08) and XMP (0x04) flags: gone with the chunks */
    uint32_t out_riff = (uint32_t)(k - 8);
    o[4] = (unsigned char)out_riff;
    o[5] = (unsigned char)(out_riff >> 8);
    o[6] = (unsigned char)(out_riff >> 16);
    o[7] = (unsigned char)(out_riff >> 24);
    *on = k;
    return 0;
}

int upload_clean(const upload_type *t, const void *data, size_t n, unsigned char **out, size_t *out_n, nx_err *e)
{
    *out = NULL;
    *out_n = 0;
    if (t == NULL || data == NULL || n == 0 || upload_sniff(data, n, t->bit) != t)
        return nx_fail(e, NX_EINVAL, "file", "文件类型无法识别");
    unsigned char *o = malloc(n + 64);
    if (o == NULL)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    const unsigned char *d = data;
    size_t k = 0;
    int rc;
    const char *label = "PDF ";
    switch (t->bit) {
    case UPLOAD_JPEG:
        label = "JPEG 图片";
        rc = clean_jpeg(d, n, o, &k);
        break;
    case UPLOAD_PNG:
        label = "PNG 图片";
        rc = clean_png(d, n, o, &k);
        break;
    case UPLOAD_WEBP:
        label = "WebP 图片";
        rc = clean_webp(d, n, o, &k);
        break;
    default:
        memcpy(o, d, n);
        k = n;
        rc = 0;
    }
    if (rc) {
        free(o);
        return nx_fail(e, NX_EINVAL, "file", "%s文件已损坏或不完整，请重新拍摄或导出后上传", label);
    }
    *out = o;
    *out_n = k;
    return 0;
}
