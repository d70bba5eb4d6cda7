/* pinyin.h — pinyin for search and sorting (ICU): "单建国" → "shanjianguo" / "sjg", so staff can
 * find a resident by typing sjg, and pinyin-ordered sort keys so that lists sort 安 < 白 < 陈 < 张.
 *
 * Threads: ICU transliterators and collators must not be used by two threads at once. pinyin_init
 * opens one master copy of each; every thread that calls the functions below gets its own clones,
 * made on first use and freed when the thread exits (or by pinyin_cleanup for the calling thread).
 * All functions are thread-safe. */
#ifndef NX_TEXT_PINYIN_H
#define NX_TEXT_PINYIN_H

#include <stddef.h>

#include "base/err.h"

/* Longest input, in bytes, that pinyin_name / pinyin_text / collate_key accept. */
#define PINYIN_MAX_INPUT 1024

/* Open the transliterators ("Han-Latin/Names; Latin-ASCII", "Han-Latin; Latin-ASCII") and the "zh"
 * collator. Call once at start: the first open costs ~0.1 s. Safe to call again (no effect) and
 * from any thread; the functions below also call it lazily. Returns 0 or NX_EINTERNAL with a
 * Chinese message when ICU fails (missing data). */
int pinyin_init(nx_err *e);

/* Close the master copies and free the calling thread's clones. Other threads' clones stay usable
 * and are freed when those threads exit; so call it at shutdown, after the worker threads have been
 * joined, to leave nothing behind. A later call to any function here re-opens the masters. */
void pinyin_cleanup(void);

/* Pinyin of a person's name. The first character is read as a surname ("单" shan, "曾" zeng,
 * "解" xie, "仇" qiu, "区" ou, "查" zha, "盖" ge), as are the compound surnames 欧阳, 司马, 诸葛,
 * 上官, 东方, 皇甫, 尉迟 (yuchi), 长孙, 令狐, 慕容, 万俟 (moqi), 澹台 (tantai) … when the name has at
 * least three characters; a small table fixes surnames ICU misses (朴 piao, 覃 qin, 缪 miao, 阚
 * kan, single 尉 wei) and reads 长 in a given name as chang. The rest uses the general readings.
 * full receives lower-case ASCII letters only, no separators ("shanjianguo"); initials the first
 * letter of each syllable or Latin word ("sjg"; "Anna王" → "annawang" / "aw"). Digits, spaces and
 * other symbols separate words and are dropped; accented Latin is folded (ü → u). Either output
 * may be NULL (with its size 0). Returns 0; NX_EINVAL for NULL or invalid UTF-8; NX_ETOOBIG for an
 * input over PINYIN_MAX_INPUT bytes or an output that did not fit (then truncated, terminated);
 * NX_EINTERNAL when ICU fails. Outputs are "" on every error but NX_ETOOBIG. ~30-50 µs a name. */
int pinyin_name(const char *name, char *full, size_t full_n, char *initials, size_t init_n);

/* The same for any text (estate, street, organisation names), without the surname rules:
 * "幸福里小区" → "xingfulixiaoqu" / "xflxq". */
int pinyin_text(const char *text, char *full, size_t full_n, char *initials, size_t init_n);

/* The ICU sort key of text for locale "zh" (pinyin order). Keys compare with collate_key_cmp (or
 * memcmp over the shorter length: a key ends with a 0 byte and has no other). *len receives the
 * key length including that final 0, also when cap is too small. Returns 0; NX_ETOOBIG when the
 * key needs more than cap bytes or text is over PINYIN_MAX_INPUT; NX_EINVAL for NULL or invalid
 * UTF-8; NX_EINTERNAL when ICU fails. Keys are only comparable within one ICU version: do not
 * store them across upgrades without rebuilding. */
int collate_key(const char *text, unsigned char *out, size_t cap, size_t *len);

/* Compare two sort keys from collate_key: <0, 0, >0 as a sorts before, with, or after b. */
int collate_key_cmp(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen);

#endif
