/* upload.h — the one upload store: files people send (service materials, visit and incident photos).
 *
 * An uploaded file lives in <data_dir>/uploads under a name of 32 random hex characters (plus an
 * extension when the caller wants one); the database row that owns it keeps that name, the client's
 * file name is at most a label and its Content-Type is never believed: the type is sniffed from the
 * first bytes, then the file's structure is walked (upload_clean): a file that only starts like a
 * picture is refused, and what a picture carries besides the picture (EXIF with its GPS position,
 * XMP, comments, text chunks, anything after the end) is dropped before it is stored.
 *
 * Files are sealed at rest (secure/crypto.h blob_encrypt, the field keys, bound to the stored name):
 * a copy of the data directory without the key file holds no scan of an ID card in clear.
 * upload_read opens them whole in memory (uploads are capped by max_upload). Files stored in clear by
 * a version before sealing are still read as they are, and upload_seal_legacy seals them (serve runs
 * it at start-up).
 *
 * Saving is all or nothing: the bytes go to a temporary file created exclusively, are fsync'ed, and
 * are linked into place (an existing file is never overwritten), then the directory is fsync'ed; on
 * any failure nothing is left behind. A caller that saves a file inside a transaction removes it
 * again (upload_remove) when the transaction does not commit.
 *
 * All functions block on the file system and are thread-safe. */
#ifndef NX_STORE_UPLOAD_H
#define NX_STORE_UPLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "secure/crypto.h"

/* File types the sniffer knows, as bits of an accept mask. */
#define UPLOAD_PDF 0x1u
#define UPLOAD_JPEG 0x2u
#define UPLOAD_PNG 0x4u
#define UPLOAD_WEBP 0x8u

typedef struct upload_type {
    unsigned bit;     /* one of UPLOAD_* */
    const char *kind; /* "pdf", "jpeg", "png", "webp" */
    const char *mime; /* "application/pdf", "image/jpeg", … */
    const char *ext;  /* "pdf", "jpg", "png", "webp" */
} upload_type;

/* The type of data by its magic bytes (PDF "%PDF-", JPEG FF D8 FF, PNG's 8-byte signature, WebP's
 * RIFF…WEBP), or NULL when it is none of the types in accept. The result is static. Pure. */
const upload_type *upload_sniff(const void *data, size_t n, unsigned accept);

/* Room for a stored name: 32 hex characters, a dot, an extension of up to 7 bytes and the NUL. */
#define UPLOAD_NAME_MAX 41

/* Walk the structure of data (n bytes, already sniffed as t) and make the copy to store:
 *   JPEG — markers and segment lengths from SOI to EOI, entropy-coded data skipped marker-aware, a
 *          frame header and a scan required; kept: APP0 (JFIF), APP2 ICC profiles, APP14 (Adobe) and
 *          the image segments; dropped: APP1 (Exif, XMP), every other APPn, comments and whatever
 *          follows EOI. An Exif orientation other than 1 is kept as a minimal Exif of that one tag, so
 *          a phone photo is not shown on its side.
 *   PNG  — every chunk's length and CRC-32, IHDR first, IDAT present, IEND last; dropped: eXIf,
 *          tEXt, zTXt, iTXt, tIME and anything after IEND.
 *   WebP — the RIFF size and every chunk's size, an image chunk present; dropped: EXIF and XMP
 *          chunks (their VP8X flags cleared) and anything after the RIFF.
 *   PDF  — passed through as it is (the header was checked by the sniffer; a PDF's structure is not
 *          walked and its metadata not removed).
 * *out is malloc'd (the caller frees it), *out_n its size (never more than n + 64). Returns 0;
 * NX_EINVAL with field "file" and a Chinese message for a malformed file; NX_ENOMEM. Pure. */
int upload_clean(const upload_type *t, const void *data, size_t n, unsigned char **out, size_t *out_n, nx_err *e);

/* Save data (n bytes, 1..max) sealed with keys as a new file in <data_dir>/uploads (created with mode
 * 0700 when missing), mode 0600, named 32 random hex characters followed by "." ext when ext is not
 * NULL (ext: 1..7 bytes of [a-z0-9]). name gets the stored name. NX_EINVAL for n = 0 or a bad ext,
 * NX_ETOOBIG for n > max (field "file"), NX_ENOMEM, NX_EBUSY when the disk is full or the file
 * system read-only (503: the operator clears it, the process goes on), NX_EIO when the directory or
 * the file cannot be written otherwise (nothing is left behind in either case). */
int upload_save(const char *data_dir, const nx_keys *keys, const void *data, size_t n, size_t max,
                const char *ext, char name[UPLOAD_NAME_MAX], nx_err *e);

/* What a module does with a file a person sent, in one call: refuse an empty one (NX_EINVAL) or one
 * over max (NX_ETOOBIG), sniff it against accept (NX_EUNSUPP, the accepted kinds named in the
 * message), walk and clean it (upload_clean) and save the clean copy (upload_save, with the type's
 * extension). Every error names the field "file". name gets the stored name (empty on failure: nothing
 * is left behind), *type (may be NULL) the sniffed type. A caller inside a transaction removes the file
 * (upload_remove) when the transaction does not commit. */
int upload_accept(const char *data_dir, const nx_keys *keys, const void *data, size_t n, size_t max, unsigned accept,
                  const upload_type **type, char name[UPLOAD_NAME_MAX], nx_err *e);
/* Read a stored file whole and open it: *data is malloc'd (release it with upload_free), *n its size.
 * A file stored in clear by an older version is returned as it is. Returns 0, or -1 with errno:
 * EINVAL (name is not a stored name), ENOENT (no such file), EBADMSG (sealed but does not open:
 * damaged, renamed, or sealed with a key the key file no longer holds), EFBIG (larger than
 * max + NX_BLOB_OVERHEAD), ENOMEM, EIO; the caller words the error. */
int upload_read(const char *data_dir, const nx_keys *keys, const char *name, size_t max, unsigned char **data,
                size_t *n);

/* The stored file that the first row of q names, for a route that answers it: q selects the row's
 * stored name and content type ("SELECT f.file_name, f.content_type FROM … WHERE 1 = 1 AND f.id = $1"
 * plus the reader's scope), run in a read transaction of its own on db; then upload_read under max.
 * *data (release with upload_free), *n, ctype (application/octet-stream for NULL). Errors: q's or the
 * read's; NX_ENOTFOUND with missing when q finds no row (out of scope reads as missing); NX_EIO
 * ("文件无法读取", the errno logged, no name) when the file does not open. Blocks. */
struct store;
struct sqlq;
int upload_read_first(struct store *db, const struct sqlq *q, const char *missing, const char *data_dir,
                      const nx_keys *keys, size_t max, unsigned char **data, size_t *n, char ctype[32], nx_err *e);

/* Wipe and free what upload_read returned. NULL is accepted. */
void upload_free(unsigned char *data, size_t n);

/* Delete a stored file (a missing one is not an error). Names that are not stored names are ignored. */
void upload_remove(const char *data_dir, const char *name);

/* Seal, in place, every stored file of <data_dir>/uploads that is still in clear (written before
 * uploads were sealed): read, seal, write to an exclusive temporary file, fsync, rename over the
 * original, fsync the directory. A file that cannot be sealed is left as it is (still readable) and
 * counted in *failed. Safe while other processes read or seal the same directory (a reader sees the
 * clear or the sealed file, both of which it opens). *sealed and *failed get the counts. Returns 0,
 * or NX_EIO when the directory exists but cannot be read (a missing directory is 0 files). */
int upload_seal_legacy(const char *data_dir, const nx_keys *keys, int *sealed, int *failed, nx_err *e);

#endif
