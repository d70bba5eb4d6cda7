/* upload.h — the one upload store: files people send (service materials, visit and incident photos).
 *
 * An uploaded file lives in <data_dir>/uploads under a name of 32 random hex characters (plus an
 * extension when the caller wants one); the database row that owns it keeps that name, the client's
 * file name is at most a label and its Content-Type is never believed: the type is sniffed from the
 * first bytes. Saving is all or nothing: the bytes go to a temporary file created exclusively, are
 * fsync'ed, and are linked into place (an existing file is never overwritten), then the directory is
 * fsync'ed; on any failure nothing is left behind. A caller that saves a file inside a transaction
 * removes it again (upload_remove) when the transaction does not commit.
 *
 * All functions block on the file system and are thread-safe. */
#ifndef NX_STORE_UPLOAD_H
#define NX_STORE_UPLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

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

/* Save data (n bytes, 1..max) as a new file in <data_dir>/uploads (created with mode 0700 when
 * missing), mode 0600, named 32 random hex characters followed by "." ext when ext is not NULL (ext:
 * 1..7 bytes of [a-z0-9]). name gets the stored name. NX_EINVAL for n = 0 or a bad ext, NX_ETOOBIG
 * for n > max (field "file"), NX_EBUSY when the disk is full or the file system read-only (503: the
 * operator clears it, the process goes on), NX_EIO when the directory or the file cannot be written
 * otherwise (nothing is left behind in either case). */
int upload_save(const char *data_dir, const void *data, size_t n, size_t max, const char *ext,
                char name[UPLOAD_NAME_MAX], nx_err *e);

/* Open a stored file for reading: *fd (the caller closes it) and its *size. -1 (errno set) when the
 * name is not a stored name or the file cannot be opened; the caller words the error. */
int upload_open(const char *data_dir, const char *name, int *fd, uint64_t *size);

/* Delete a stored file (a missing one is not an error). Names that are not stored names are ignored. */
void upload_remove(const char *data_dir, const char *name);

#endif
