/* hanconv.h — traditional → simplified Chinese (繁→简) with OpenCC, so that "張偉" typed on a
 * Hong Kong or Taiwan keyboard finds the resident "张伟". One converter per process, opened once;
 * conversions from several threads run concurrently. */
#ifndef NX_TEXT_HANCONV_H
#define NX_TEXT_HANCONV_H

#include "base/err.h"

/* Load OpenCC's t2s.json (from /usr/share/opencc/). Safe to call more than once and from any
 * thread; later calls do nothing. Blocks while the dictionaries load (a few ms). Returns 0 or
 * NX_EIO (with a Chinese message) when the data cannot be loaded. */
int hanconv_init(nx_err *e);

/* Close the converter (at shutdown). Conversions running in other threads finish first; a later
 * hanconv_t2s loads the data again. */
void hanconv_cleanup(void);

/* Convert UTF-8 text from traditional to simplified characters (phrase-aware, e.g. "陳國強" →
 * "陈国强"); simplified and non-Chinese text comes back unchanged. Returns a malloc'd string the
 * caller frees with free(), or NULL for NULL or invalid UTF-8 input, if the data cannot be loaded,
 * or when memory runs out. Initialises lazily if hanconv_init was not called. Thread-safe; about
 * 3 µs for a name. */
char *hanconv_t2s(const char *s);

#endif
