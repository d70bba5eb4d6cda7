/* test_upload.c — the upload store (store/upload.h): sniffing by magic bytes within an accept mask,
 * saving (random names, the extension, mode 0600, the bytes intact, no temporary file left), the
 * caps (empty, over max), a failed write leaving nothing behind, opening and removing only stored
 * names (never a path outside the directory). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "store/upload.h"
#include "test.h"

static const unsigned char JPEG[] = {0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F'};
static const unsigned char PNG[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13};
static const char PDF[] = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n";
static const char WEBP[] = "RIFF\x10\0\0\0WEBPVP8 ";

static char data_dir[256];

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

static void test_save_open_remove(void)
{
    char name[UPLOAD_NAME_MAX], other[UPLOAD_NAME_MAX];
    nx_err e = {0};
    CHECK_INT(upload_save(data_dir, JPEG, sizeof JPEG, 1024, "jpg", name, &e), 0);
    CHECK_INT(strlen(name), 36);
    CHECK(strcmp(name + 32, ".jpg") == 0);
    CHECK_INT(upload_save(data_dir, PDF, strlen(PDF), 1024, NULL, other, &e), 0);
    CHECK_INT(strlen(other), 32);
    CHECK(strncmp(name, other, 32) != 0);
    CHECK_INT(count_files(), 2); /* no temporary file left */

    char path[400];
    snprintf(path, sizeof path, "%s/uploads/%s", data_dir, name);
    struct stat st;
    CHECK_INT(stat(path, &st), 0);
    CHECK_INT(st.st_mode & 0777, 0600);
    snprintf(path, sizeof path, "%s/uploads", data_dir);
    CHECK_INT(stat(path, &st), 0);
    CHECK_INT(st.st_mode & 0777, 0700);

    int fd = -1;
    uint64_t size = 0;
    CHECK_INT(upload_open(data_dir, name, &fd, &size), 0);
    CHECK_INT(size, sizeof JPEG);
    unsigned char buf[64];
    CHECK_INT(read(fd, buf, sizeof buf), sizeof JPEG);
    CHECK(memcmp(buf, JPEG, sizeof JPEG) == 0);
    close(fd);

    upload_remove(data_dir, name);
    CHECK_INT(upload_open(data_dir, name, &fd, &size), -1);
    CHECK_INT(fd, -1);
    upload_remove(data_dir, name); /* already gone: fine */
    upload_remove(data_dir, other);
    CHECK_INT(count_files(), 0);
}

static void test_caps(void)
{
    char name[UPLOAD_NAME_MAX] = "x";
    nx_err e = {0};
    CHECK_INT(upload_save(data_dir, JPEG, 0, 1024, "jpg", name, &e), NX_EINVAL);
    CHECK_STR(e.field, "file");
    CHECK_STR(name, "");
    CHECK_INT(upload_save(data_dir, JPEG, sizeof JPEG, sizeof JPEG - 1, "jpg", name, &e), NX_ETOOBIG);
    CHECK_STR(e.field, "file");
    CHECK_INT(upload_save(data_dir, JPEG, sizeof JPEG, sizeof JPEG, "jpg", name, &e), 0); /* max itself is fine */
    upload_remove(data_dir, name);
    CHECK_INT(upload_save(data_dir, JPEG, sizeof JPEG, 1024, "../x", name, &e), NX_EINVAL);
    CHECK_INT(upload_save(data_dir, JPEG, sizeof JPEG, 1024, "", name, &e), NX_EINVAL);
    CHECK_INT(upload_save(data_dir, JPEG, sizeof JPEG, 1024, "toolongx", name, &e), NX_EINVAL);
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
    CHECK_INT(upload_save(dd, JPEG, sizeof JPEG, 1024, "jpg", name, &e), NX_EIO);
    CHECK_STR(name, "");
    /* A data directory that does not exist: the uploads directory cannot be made. */
    snprintf(dd, sizeof dd, "%s/nope", data_dir);
    CHECK_INT(upload_save(dd, JPEG, sizeof JPEG, 1024, "jpg", name, &e), NX_EIO);
    /* A read-only uploads directory (not for root, who may write it anyway). */
    if (geteuid() != 0) {
        char dir[300];
        snprintf(dir, sizeof dir, "%s/uploads", data_dir);
        CHECK_INT(chmod(dir, 0500), 0);
        CHECK_INT(upload_save(data_dir, JPEG, sizeof JPEG, 1024, "jpg", name, &e), NX_EIO);
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
    int fd = 0;
    uint64_t size = 0;
    CHECK_INT(upload_open(data_dir, "../secret", &fd, &size), -1);
    CHECK_INT(upload_open(data_dir, "", &fd, &size), -1);
    CHECK_INT(upload_open(data_dir, NULL, &fd, &size), -1);
    CHECK_INT(upload_open(data_dir, "0123456789abcdef0123456789abcdef/../../secret", &fd, &size), -1);
    CHECK_INT(upload_open(data_dir, "0123456789ABCDEF0123456789ABCDEF", &fd, &size), -1);
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
    TEST_RUN(test_sniff);
    TEST_RUN(test_save_open_remove);
    TEST_RUN(test_caps);
    TEST_RUN(test_write_fails);
    TEST_RUN(test_names);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", data_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", data_dir);
    return TEST_DONE();
}
