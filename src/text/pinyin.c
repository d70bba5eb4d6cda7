/* pinyin.c — pinyin and pinyin collation on ICU.
 *
 * Readings. ICU's "Han-Latin" gives the common reading of each character, which is wrong for many
 * surnames (单 dan, 曾 ceng, 解 jie); "Han-Latin/Names" reads the first character of its input as a
 * surname (单 shan …) and a few compound surnames as a whole (尉迟 yu chi, 万俟 mo qi). So a name is
 * cut in two: the surname (one character, or two for a known compound surname when the name has
 * at least three characters) goes through Names, the given name through plain Han-Latin (Names
 * would also change given-name readings such as 筠 jun, 仇 qiu). Both chains end in "Latin-ASCII",
 * which removes tone marks and folds ü to u. A small table covers what ICU 72 still misses.
 *
 * Output. ICU writes syllables separated by spaces ("shan jian guo"); we keep ASCII letters,
 * lower-cased, and treat everything else as a word break: full is the letters, initials the first
 * letter of each word. This also gives sensible results for Latin names and mixed text.
 *
 * Threads. A UTransliterator or UCollator must not be used by two threads at once. Masters are
 * opened once under a mutex (the first open reads ICU data, ~0.1 s); each thread clones what it
 * uses on first use (utrans_clone, ucol_clone: cheap compared to opening) and keeps the clones in
 * a pthread key whose destructor closes them at thread exit. Masters are only read under the
 * mutex, for cloning, never used to transform.
 *
 * Limits. Inputs are capped at PINYIN_MAX_INPUT bytes and converted into a stack buffer; the
 * transliterated text goes into a stack buffer when small, else into a heap one. */
#include "text/pinyin.h"

#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <uchar.h>
#include <unicode/ucol.h>
#include <unicode/uscript.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>
#include <unicode/utrans.h>

#include "base/log.h"

#define NAMES_ID    "Han-Latin/Names; Latin-ASCII"
#define TEXT_ID     "Han-Latin; Latin-ASCII"
#define COLL_LOCALE "zh"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static UTransliterator *m_names, *m_text; /* masters, guarded by mu */
static UCollator *m_coll;

typedef struct tstate {
    UTransliterator *names, *text;
    UCollator *coll;
} tstate;

static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static pthread_key_t key;
static bool key_ok;

static void tstate_free(void *p)
{
    tstate *t = p;
    if (t == NULL)
        return;
    if (t->names)
        utrans_close(t->names);
    if (t->text)
        utrans_close(t->text);
    if (t->coll)
        ucol_close(t->coll);
    free(t);
}

static void make_key(void)
{
    key_ok = pthread_key_create(&key, tstate_free) == 0;
}

static UTransliterator *open_trans(const char *id, UErrorCode *st)
{
    UChar uid[64];
    u_uastrncpy(uid, id, (int32_t)(sizeof uid / sizeof uid[0]));
    UParseError pe;
    return utrans_openU(uid, -1, UTRANS_FORWARD, NULL, 0, &pe, st);
}

static void close_masters(void)
{
    if (m_names)
        utrans_close(m_names);
    if (m_text)
        utrans_close(m_text);
    if (m_coll)
        ucol_close(m_coll);
    m_names = m_text = NULL;
    m_coll = NULL;
}

/* Open whatever master is missing. Caller holds mu. */
static int init_locked(nx_err *e)
{
    if (m_names && m_text && m_coll)
        return 0;
    UErrorCode st = U_ZERO_ERROR;
    if (m_names == NULL)
        m_names = open_trans(NAMES_ID, &st);
    if (U_SUCCESS(st) && m_text == NULL)
        m_text = open_trans(TEXT_ID, &st);
    if (U_SUCCESS(st) && m_coll == NULL)
        m_coll = ucol_open(COLL_LOCALE, &st);
    if (U_FAILURE(st) || !m_names || !m_text || !m_coll) {
        nx_log(LOG_ERROR, "pinyin_init_failed icu=%s", u_errorName(st));
        close_masters();
        return nx_fail(e, NX_EINTERNAL, "", "无法加载拼音转换数据（ICU）");
    }
    return 0;
}

int pinyin_init(nx_err *e)
{
    pthread_once(&key_once, make_key);
    pthread_mutex_lock(&mu);
    int rc = init_locked(e);
    pthread_mutex_unlock(&mu);
    return rc;
}

void pinyin_cleanup(void)
{
    pthread_mutex_lock(&mu);
    close_masters();
    pthread_mutex_unlock(&mu);
    pthread_once(&key_once, make_key);
    if (key_ok) {
        tstate_free(pthread_getspecific(key));
        pthread_setspecific(key, NULL);
    }
}

/* The calling thread's state, created empty on first use; NULL when out of memory. */
static tstate *thread_state(void)
{
    pthread_once(&key_once, make_key);
    if (!key_ok)
        return NULL;
    tstate *t = pthread_getspecific(key);
    if (t == NULL) {
        t = calloc(1, sizeof *t);
        if (t == NULL)
            return NULL;
        if (pthread_setspecific(key, t) != 0) {
            free(t);
            return NULL;
        }
    }
    return t;
}

/* This thread's clone of a transliterator master (names or text); NULL on failure. */
static UTransliterator *thread_trans(bool names)
{
    tstate *t = thread_state();
    if (t == NULL)
        return NULL;
    UTransliterator **slot = names ? &t->names : &t->text;
    if (*slot == NULL) {
        pthread_mutex_lock(&mu);
        if (init_locked(NULL) == 0) {
            UErrorCode st = U_ZERO_ERROR;
            UTransliterator *c = utrans_clone(names ? m_names : m_text, &st);
            if (U_SUCCESS(st))
                *slot = c;
            else if (c)
                utrans_close(c);
        }
        pthread_mutex_unlock(&mu);
    }
    return *slot;
}

static UCollator *thread_coll(void)
{
    tstate *t = thread_state();
    if (t == NULL)
        return NULL;
    if (t->coll == NULL) {
        pthread_mutex_lock(&mu);
        if (init_locked(NULL) == 0) {
            UErrorCode st = U_ZERO_ERROR;
            UCollator *c = ucol_clone(m_coll, &st);
            if (U_SUCCESS(st))
                t->coll = c;
            else if (c)
                ucol_close(c);
        }
        pthread_mutex_unlock(&mu);
    }
    return t->coll;
}

/* UTF-8 → UTF-16 into buf[PINYIN_MAX_INPUT + 1]. */
static int to_utf16(const char *s, UChar *buf, int32_t *n)
{
    *n = 0;
    if (s == NULL)
        return NX_EINVAL;
    size_t len = strlen(s);
    if (len > PINYIN_MAX_INPUT)
        return NX_ETOOBIG;
    UErrorCode st = U_ZERO_ERROR;
    u_strFromUTF8(buf, PINYIN_MAX_INPUT + 1, n, s, (int32_t)len, &st);
    return U_SUCCESS(st) ? 0 : NX_EINVAL;
}

/* The two outputs being written. */
typedef struct emit {
    char *full, *ini;
    size_t full_n, ini_n, fl, il;
    bool in_word, over;
} emit;

static void put(char *buf, size_t cap, size_t *len, char c, bool *over)
{
    if (buf == NULL || cap == 0)
        return;
    if (*len + 1 >= cap) {
        *over = true;
        return;
    }
    buf[(*len)++] = c;
    buf[*len] = '\0';
}

/* Feed one character of transliterated text: letters extend the word, anything else ends it. */
static void emit_char(emit *m, unsigned c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
        char lc = (char)(c | 0x20);
        if (!m->in_word)
            put(m->ini, m->ini_n, &m->il, lc, &m->over);
        put(m->full, m->full_n, &m->fl, lc, &m->over);
        m->in_word = true;
    } else {
        m->in_word = false;
    }
}

/* A reading from the override tables, as its own word. */
static void emit_word(emit *m, const char *w)
{
    m->in_word = false;
    for (; *w; w++)
        emit_char(m, (unsigned char)*w);
    m->in_word = false;
}

/* Transliterate in[0..n) with t and feed the result, then end the word. */
static int emit_trans(emit *m, UTransliterator *t, const UChar *in, int32_t n)
{
    if (n <= 0)
        return 0;
    UChar stackbuf[512];
    int32_t cap = n * 8 + 32; /* a Han character becomes at most 6 letters and a space */
    for (int attempt = 0; attempt < 3; attempt++, cap *= 4) {
        UChar *buf = cap <= (int32_t)(sizeof stackbuf / sizeof stackbuf[0])
                         ? stackbuf
                         : malloc((size_t)cap * sizeof(UChar));
        if (buf == NULL)
            return NX_ENOMEM;
        memcpy(buf, in, (size_t)n * sizeof(UChar));
        int32_t len = n, limit = n;
        UErrorCode st = U_ZERO_ERROR;
        utrans_transUChars(t, buf, &len, cap, 0, &limit, &st);
        if (U_SUCCESS(st)) {
            for (int32_t i = 0; i < len; i++)
                emit_char(m, buf[i]);
        }
        if (buf != stackbuf)
            free(buf);
        if (st == U_BUFFER_OVERFLOW_ERROR)
            continue;
        m->in_word = false;
        return U_SUCCESS(st) ? 0 : NX_EINTERNAL;
    }
    return NX_EINTERNAL;
}

/* Compound surnames read as one unit by Han-Latin/Names (checked in the unit tests). */
static const char16_t compound_surnames[][3] = {
    u"欧阳", u"司马", u"诸葛", u"上官", u"东方", u"皇甫", u"尉迟", u"长孙", u"令狐", u"慕容",
    u"万俟", u"澹台", u"公孙", u"司徒", u"夏侯", u"宇文", u"轩辕", u"端木", u"西门", u"南宫",
    u"独孤", u"呼延", u"钟离", u"申屠", u"太史", u"闻人", u"赫连", u"百里",
};

/* Single-character surnames whose reading ICU 72 gets wrong even with Names. */
static const struct {
    char16_t c;
    const char *py;
} surname_fix[] = {
    {u'朴', "piao"}, {u'覃', "qin"}, {u'缪', "miao"}, {u'阚', "kan"}, {u'尉', "wei"},
};

/* Given-name characters whose usual reading in names differs from Han-Latin's choice. */
static const struct {
    char16_t c;
    const char *py;
} given_fix[] = {
    {u'长', "chang"}, /* 长江, 长春, 长青: Han-Latin says zhang */
};

static const char *lookup_fix(UChar c, bool surname)
{
    if (surname) {
        for (size_t i = 0; i < sizeof surname_fix / sizeof surname_fix[0]; i++)
            if (surname_fix[i].c == c)
                return surname_fix[i].py;
    } else {
        for (size_t i = 0; i < sizeof given_fix / sizeof given_fix[0]; i++)
            if (given_fix[i].c == c)
                return given_fix[i].py;
    }
    return NULL;
}

static bool is_han(UChar32 c)
{
    UErrorCode st = U_ZERO_ERROR;
    return uscript_getScript(c, &st) == USCRIPT_HAN && U_SUCCESS(st);
}

static void out_init(emit *m, char *full, size_t full_n, char *ini, size_t ini_n)
{
    *m = (emit){.full = full, .ini = ini, .full_n = full ? full_n : 0, .ini_n = ini ? ini_n : 0};
    if (m->full_n)
        full[0] = '\0';
    if (m->ini_n)
        ini[0] = '\0';
}

/* Map the result: keep truncated output for NX_ETOOBIG, clear it for other errors. */
static int out_done(emit *m, int rc)
{
    if (rc == 0 && m->over)
        rc = NX_ETOOBIG;
    if (rc != 0 && rc != NX_ETOOBIG) {
        if (m->full_n)
            m->full[0] = '\0';
        if (m->ini_n)
            m->ini[0] = '\0';
    }
    return rc;
}

int pinyin_name(const char *name, char *full, size_t full_n, char *initials, size_t init_n)
{
    emit m;
    out_init(&m, full, full_n, initials, init_n);
    UChar in[PINYIN_MAX_INPUT + 1];
    int32_t n;
    int rc = to_utf16(name, in, &n);
    if (rc)
        return out_done(&m, rc);
    UTransliterator *tn = thread_trans(true), *tt = thread_trans(false);
    if (tn == NULL || tt == NULL)
        return out_done(&m, NX_EINTERNAL);

    int32_t i = 0;
    while (i < n && (u_isUWhiteSpace(in[i]) || in[i] == 0x00B7)) /* spaces, middle dot */
        i++;
    UChar32 c = 0;
    int32_t after = i;
    if (i < n)
        U16_NEXT(in, after, n, c);
    if (i < n && is_han(c)) {
        int32_t end = after;
        if (u_countChar32(in + i, n - i) >= 3) {
            for (size_t k = 0; k < sizeof compound_surnames / sizeof compound_surnames[0]; k++) {
                if (in[i] == compound_surnames[k][0] && in[i + 1] == compound_surnames[k][1]) {
                    end = i + 2;
                    break;
                }
            }
        }
        const char *fix = end == after ? lookup_fix(in[i], true) : NULL;
        if (fix)
            emit_word(&m, fix);
        else
            rc = emit_trans(&m, tn, in + i, end - i);
        i = end;
    }
    /* The given name, split around characters with a fixed reading. */
    int32_t run = i;
    for (int32_t k = i; rc == 0 && k <= n; k++) {
        const char *fix = k < n ? lookup_fix(in[k], false) : NULL;
        if (k == n || fix) {
            rc = emit_trans(&m, tt, in + run, k - run);
            if (fix)
                emit_word(&m, fix);
            run = k + 1;
        }
    }
    return out_done(&m, rc);
}

int pinyin_text(const char *text, char *full, size_t full_n, char *initials, size_t init_n)
{
    emit m;
    out_init(&m, full, full_n, initials, init_n);
    UChar in[PINYIN_MAX_INPUT + 1];
    int32_t n;
    int rc = to_utf16(text, in, &n);
    if (rc)
        return out_done(&m, rc);
    UTransliterator *tt = thread_trans(false);
    if (tt == NULL)
        return out_done(&m, NX_EINTERNAL);
    return out_done(&m, emit_trans(&m, tt, in, n));
}

int collate_key(const char *text, unsigned char *out, size_t cap, size_t *len)
{
    *len = 0;
    UChar in[PINYIN_MAX_INPUT + 1];
    int32_t n;
    int rc = to_utf16(text, in, &n);
    if (rc)
        return rc;
    UCollator *c = thread_coll();
    if (c == NULL)
        return NX_EINTERNAL;
    int32_t need = ucol_getSortKey(c, in, n, out, cap > INT32_MAX ? INT32_MAX : (int32_t)cap);
    if (need <= 0)
        return NX_EINTERNAL;
    *len = (size_t)need;
    return (size_t)need > cap ? NX_ETOOBIG : 0;
}

int collate_key_cmp(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
    int r = memcmp(a, b, alen < blen ? alen : blen);
    if (r != 0)
        return r;
    return alen < blen ? -1 : alen > blen;
}
