/* test_pinyin.c — pinyin of names and text, pinyin collation, thread use (text/pinyin.h).
 * Expected readings are the standard ones for these surnames and names (《百家姓》 readings:
 * 单 shàn, 曾 zēng, 解 xiè, 仇 qiú, 区 ōu, 查 zhā, 盖 gě, 朴 piáo, 覃 qín, 缪 miào). */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "test.h"
#include "text/pinyin.h"

static void name_is(const char *name, const char *full, const char *ini)
{
    char f[128], i[64];
    int rc = pinyin_name(name, f, sizeof f, i, sizeof i);
    if (rc != 0 || strcmp(f, full) != 0 || strcmp(i, ini) != 0) {
        t_failed++;
        fprintf(stderr, "pinyin_name(\"%s\") = %d \"%s\" \"%s\", expected \"%s\" \"%s\"\n", name, rc, f, i,
                full, ini);
    } else {
        t_passed++;
    }
}

static void text_is(const char *text, const char *full, const char *ini)
{
    char f[256], i[128];
    int rc = pinyin_text(text, f, sizeof f, i, sizeof i);
    if (rc != 0 || strcmp(f, full) != 0 || strcmp(i, ini) != 0) {
        t_failed++;
        fprintf(stderr, "pinyin_text(\"%s\") = %d \"%s\" \"%s\", expected \"%s\" \"%s\"\n", text, rc, f, i,
                full, ini);
    } else {
        t_passed++;
    }
}

static void test_names(void)
{
    name_is("王建国", "wangjianguo", "wjg");
    name_is("张伟", "zhangwei", "zw");
    name_is("李娜", "lina", "ln");
    name_is("吕秀兰", "luxiulan", "lxl"); /* ü folded to u */
    /* Surnames plain Han-Latin reads wrongly. */
    name_is("单建国", "shanjianguo", "sjg");
    name_is("单田芳", "shantianfang", "stf");
    name_is("曾国藩", "zengguofan", "zgf");
    name_is("解缙", "xiejin", "xj");
    name_is("仇英", "qiuying", "qy");
    name_is("区志强", "ouzhiqiang", "ozq");
    name_is("查良镛", "zhaliangyong", "zly");
    name_is("盖聂", "genie", "gn");
    /* The override table. */
    name_is("朴槿惠", "piaojinhui", "pjh");
    name_is("覃亮", "qinliang", "ql");
    name_is("缪建华", "miaojianhua", "mjh");
    name_is("阚泽", "kanze", "kz");
    name_is("尉缭", "weiliao", "wl");
    name_is("王长江", "wangchangjiang", "wcj");
    /* The same characters inside a given name keep their common reading. */
    name_is("王单", "wangdan", "wd");
    name_is("李解放", "lijiefang", "ljf");
}

static void test_compound(void)
{
    name_is("欧阳修", "ouyangxiu", "oyx");
    name_is("司马光", "simaguang", "smg");
    name_is("诸葛亮", "zhugeliang", "zgl");
    name_is("上官婉儿", "shangguanwaner", "sgwe");
    name_is("东方朔", "dongfangshuo", "dfs");
    name_is("皇甫嵩", "huangfusong", "hfs");
    name_is("尉迟恭", "yuchigong", "ycg");
    name_is("长孙无忌", "zhangsunwuji", "zswj");
    name_is("令狐冲", "linghuchong", "lhc");
    name_is("慕容复", "murongfu", "mrf");
    name_is("万俟明", "moqiming", "mqm");
    name_is("澹台明", "tantaiming", "ttm");
    name_is("夏侯惇", "xiahoudun", "xhd");
    /* A two-character name is surname + given name, not a compound surname. */
    name_is("万俟", "wanqi", "wq");
}

static void test_mixed(void)
{
    name_is("Anna王", "annawang", "aw");
    name_is("  王建国 ", "wangjianguo", "wjg");
    name_is("王😀伟", "wangwei", "ww");
    name_is("迪丽热巴·迪力木拉提", "dilirebadilimulati", "dlrbdlmlt");
    name_is("Müller", "muller", "m");
    name_is("王 Anna", "wanganna", "wa");
    name_is("", "", "");
    name_is("123", "", "");

    text_is("幸福里小区", "xingfulixiaoqu", "xflxq");
    text_is("幸福里3号楼", "xingfulihaolou", "xflhl");
    text_is("单县", "danxian", "dx"); /* no surname rule for text */
    name_is("单县", "shanxian", "sx");
    text_is("重庆路", "chongqinglu", "cql");
    text_is("West Lake 西湖", "westlakexihu", "wlxh");

    /* Either output may be NULL. */
    char i[16], f[64];
    CHECK_INT(pinyin_name("王建国", NULL, 0, i, sizeof i), 0);
    CHECK_STR(i, "wjg");
    CHECK_INT(pinyin_name("王建国", f, sizeof f, NULL, 0), 0);
    CHECK_STR(f, "wangjianguo");
}

static void test_errors(void)
{
    char f[64] = "x", i[64] = "x";
    CHECK_INT(pinyin_name("\xff\xfe", f, sizeof f, i, sizeof i), NX_EINVAL);
    CHECK_STR(f, "");
    CHECK_STR(i, "");
    CHECK_INT(pinyin_name("王\xe5\xbb", f, sizeof f, i, sizeof i), NX_EINVAL);   /* truncated */
    CHECK_INT(pinyin_name("\xc0\x80", f, sizeof f, i, sizeof i), NX_EINVAL);     /* overlong NUL */
    CHECK_INT(pinyin_name("\xed\xa0\x80", f, sizeof f, i, sizeof i), NX_EINVAL); /* surrogate */
    CHECK_INT(pinyin_text("\x80", f, sizeof f, i, sizeof i), NX_EINVAL);
    CHECK_INT(pinyin_name(NULL, f, sizeof f, i, sizeof i), NX_EINVAL);
    CHECK_INT(pinyin_text(NULL, f, sizeof f, i, sizeof i), NX_EINVAL);

    /* Output too small: truncated and terminated. */
    CHECK_INT(pinyin_name("王建国", f, 5, i, sizeof i), NX_ETOOBIG);
    CHECK_STR(f, "wang");
    CHECK_INT(pinyin_name("王建国", f, sizeof f, i, 2), NX_ETOOBIG);
    CHECK_STR(i, "w");

    /* Input over the cap. */
    char *big = malloc(PINYIN_MAX_INPUT + 4);
    CHECK(big != NULL);
    if (big) {
        memset(big, 'a', PINYIN_MAX_INPUT + 3);
        big[PINYIN_MAX_INPUT + 3] = '\0';
        CHECK_INT(pinyin_text(big, f, sizeof f, i, sizeof i), NX_ETOOBIG);
        big[PINYIN_MAX_INPUT] = '\0';
        CHECK_INT(pinyin_text(big, f, sizeof f, i, sizeof i), NX_ETOOBIG); /* output too small */
        free(big);
    }

    /* Long Han text at the cap: 341 characters × 3 bytes = 1023 bytes, about 2000 letters. */
    size_t n = 341 * 3;
    char *han = malloc(n + 1);
    char *out = malloc(4096);
    CHECK(han != NULL && out != NULL);
    if (han && out) {
        for (size_t k = 0; k < n; k += 3)
            memcpy(han + k, "张", 3);
        han[n] = '\0';
        CHECK_INT(pinyin_text(han, out, 4096, NULL, 0), 0);
        CHECK_INT(strlen(out), 341 * 5);
    }
    free(han);
    free(out);
}

static int key_of(const char *s, unsigned char *k, size_t cap, size_t *len)
{
    return collate_key(s, k, cap, len);
}

static void test_collation(void)
{
    const char *words[] = {"张", "陈", "安", "白"};
    unsigned char k[4][64];
    size_t len[4];
    for (int w = 0; w < 4; w++)
        CHECK_INT(key_of(words[w], k[w], sizeof k[w], &len[w]), 0);
    /* 安 < 白 < 陈 < 张 */
    CHECK(collate_key_cmp(k[2], len[2], k[3], len[3]) < 0);
    CHECK(collate_key_cmp(k[3], len[3], k[1], len[1]) < 0);
    CHECK(collate_key_cmp(k[1], len[1], k[0], len[0]) < 0);
    CHECK(collate_key_cmp(k[0], len[0], k[2], len[2]) > 0);
    CHECK_INT(collate_key_cmp(k[0], len[0], k[0], len[0]), 0);
    CHECK(memcmp(k[2], k[3], len[2] < len[3] ? len[2] : len[3]) < 0);
    CHECK_INT(k[0][len[0] - 1], 0);

    /* Sort names by key and compare with the pinyin order worked out by hand. */
    const char *names[] = {"张伟", "赵六", "安娜", "王五", "陈强", "李四", "白雪", "张三"};
    const char *want[] = {"安娜", "白雪", "陈强", "李四", "王五", "张三", "张伟", "赵六"};
    enum { N = 8 };
    unsigned char keys[N][64];
    size_t kl[N];
    int idx[N];
    for (int a = 0; a < N; a++) {
        CHECK_INT(key_of(names[a], keys[a], sizeof keys[a], &kl[a]), 0);
        idx[a] = a;
    }
    for (int a = 1; a < N; a++) /* insertion sort by key */
        for (int b = a;
             b > 0 && collate_key_cmp(keys[idx[b - 1]], kl[idx[b - 1]], keys[idx[b]], kl[idx[b]]) > 0; b--) {
            int t = idx[b];
            idx[b] = idx[b - 1];
            idx[b - 1] = t;
        }
    for (int a = 0; a < N; a++)
        CHECK_STR(names[idx[a]], want[a]);

    /* Errors: small buffer reports the needed size; bad input. */
    unsigned char tiny[2];
    size_t need = 0;
    CHECK_INT(collate_key("张伟", tiny, sizeof tiny, &need), NX_ETOOBIG);
    CHECK_INT(need, kl[0]);
    CHECK_INT(collate_key("张伟", NULL, 0, &need), NX_ETOOBIG);
    CHECK_INT(need, kl[0]);
    CHECK_INT(collate_key("\xff", keys[0], sizeof keys[0], &need), NX_EINVAL);
    CHECK_INT(need, 0);
    CHECK_INT(collate_key(NULL, keys[0], sizeof keys[0], &need), NX_EINVAL);
}

/* Several threads at once, each with its own clones; results must not differ. */
static void *worker(void *arg)
{
    intptr_t bad = 0;
    (void)arg;
    for (int r = 0; r < 300; r++) {
        char f[64], i[16];
        unsigned char k1[64], k2[64];
        size_t l1, l2;
        if (pinyin_name("单建国", f, sizeof f, i, sizeof i) != 0 || strcmp(f, "shanjianguo") != 0 ||
            strcmp(i, "sjg") != 0)
            bad++;
        if (pinyin_text("幸福里小区", f, sizeof f, i, sizeof i) != 0 || strcmp(i, "xflxq") != 0)
            bad++;
        if (collate_key("安", k1, sizeof k1, &l1) != 0 || collate_key("张", k2, sizeof k2, &l2) != 0 ||
            collate_key_cmp(k1, l1, k2, l2) >= 0)
            bad++;
    }
    return (void *)bad;
}

static void test_threads(void)
{
    enum { T = 4 };
    pthread_t th[T];
    for (int t = 0; t < T; t++)
        CHECK_INT(pthread_create(&th[t], NULL, worker, NULL), 0);
    for (int t = 0; t < T; t++) {
        void *res = NULL;
        pthread_join(th[t], &res);
        CHECK_INT((intptr_t)res, 0);
    }
}

static double now_sec(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_speed(void)
{
    const char *names[] = {"王建国", "欧阳修", "单田芳", "张伟", "上官婉儿"};
    enum { R = 4000 };
    char f[64], i[16];
    int bad = 0;
    double t0 = now_sec();
    for (int r = 0; r < R; r++)
        bad += pinyin_name(names[r % 5], f, sizeof f, i, sizeof i) != 0;
    double t1 = now_sec();
    unsigned char k[64];
    size_t l;
    for (int r = 0; r < R; r++)
        bad += collate_key(names[r % 5], k, sizeof k, &l) != 0;
    double t2 = now_sec();
    CHECK_INT(bad, 0);
    printf("pinyin_name: %.1f us/name; collate_key: %.2f us/key (sanitizer builds are slower)\n",
           (t1 - t0) / R * 1e6, (t2 - t1) / R * 1e6);
}

static void test_cleanup_reinit(void)
{
    pinyin_cleanup();
    name_is("王建国", "wangjianguo", "wjg"); /* re-opens lazily */
    nx_err e;
    CHECK_INT(pinyin_init(&e), 0);
    CHECK_INT(pinyin_init(&e), 0);
}

int main(void)
{
    nx_err e;
    double t0 = now_sec();
    CHECK_INT(pinyin_init(&e), 0);
    printf("pinyin_init: %.0f ms\n", (now_sec() - t0) * 1e3);
    TEST_RUN(test_names);
    TEST_RUN(test_compound);
    TEST_RUN(test_mixed);
    TEST_RUN(test_errors);
    TEST_RUN(test_collation);
    TEST_RUN(test_threads);
    TEST_RUN(test_speed);
    TEST_RUN(test_cleanup_reinit);
    pinyin_cleanup();
    return TEST_DONE();
}
