/* pdf.c — one-page A4 documents with libharu (see pdf.h).
 *
 * libharu reports errors through a callback; ours records the first one and every drawing call is
 * checked once at the end (libharu ignores calls on a document in error). Chinese text needs
 * libharu's UTF-8 encoder and an embedded TrueType font: HPDF_UseUTFEncodings, then
 * HPDF_LoadTTFontFromFile2 on the .ttc with embedding on (DESIGN.md §11; wqy-microhei loses glyphs
 * in subsetting, zen hei does not). Line wrapping is ours: libharu's MeasureText counts bytes and
 * breaks on spaces, which Chinese has none of, so lines are filled code point by code point with
 * HPDF_Page_TextWidth. Compression is on (the embedded font dominates the size).
 *
 * Label sheets (pdf_render_labels) use the same font and QR drawing: 24 stickers per A4 page, each a
 * QR code and its printed code, for the library's copies (and whatever else needs a scannable label). */
#include "report/pdf.h"

#include "base/str.h"
#include "report/qr.h"

#include <hpdf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const font_paths[] = {
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",
    NULL,
};

const char *pdf_font_path(void)
{
    for (int i = 0; font_paths[i]; i++)
        if (access(font_paths[i], R_OK) == 0)
            return font_paths[i];
    return NULL;
}

typedef struct pdf_state {
    HPDF_STATUS error, detail;
} pdf_state;

static void on_error(HPDF_STATUS error_no, HPDF_STATUS detail_no, void *user)
{
    pdf_state *st = user;
    if (st->error == 0) {
        st->error = error_no;
        st->detail = detail_no;
    }
}

#define PAGE_W 595.0f
#define PAGE_H 842.0f
#define MARGIN 64.0f

static void text_at(HPDF_Page p, HPDF_Font font, float size, float x, float y, const char *s)
{
    HPDF_Page_BeginText(p);
    HPDF_Page_SetFontAndSize(p, font, size);
    HPDF_Page_TextOut(p, x, y, s);
    HPDF_Page_EndText(p);
}

static float text_width(HPDF_Page p, HPDF_Font font, float size, const char *s)
{
    HPDF_Page_SetFontAndSize(p, font, size);
    return HPDF_Page_TextWidth(p, s);
}

/* Length in bytes of the UTF-8 sequence starting with c (1 for anything unexpected). */
static size_t u8len(unsigned char c)
{
    return c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
}

/* Draw s wrapped to width w starting at (x, *y), lines lead apart; stops above bottom. Newlines in
 * s start a new paragraph with a two-character indent as Chinese documents do. */
static void wrapped(HPDF_Page p, HPDF_Font font, float size, float x, float *y, float w, float lead, float bottom,
                    const char *s, bool indent)
{
    char line[1024];
    size_t n = 0;
    bool first = true;
    const char *c = s;
    while (*y > bottom) {
        if (n == 0 && first && indent) {
            str_copy(line, "\xe3\x80\x80\xe3\x80\x80", sizeof line); /* two ideographic spaces */
            n = strlen(line);
        }
        first = false;
        bool flush = false;
        if (*c == '\0') {
            flush = true;
        } else if (*c == '\n') {
            c++;
            flush = true;
            first = true;
        } else {
            size_t k = u8len((unsigned char)*c);
            if (n + k + 1 >= sizeof line) {
                flush = true;
            } else {
                memcpy(line + n, c, k);
                line[n + k] = '\0';
                if (text_width(p, font, size, line) > w && n > 0) {
                    line[n] = '\0';
                    flush = true;
                } else {
                    n += k;
                    c += k;
                }
            }
        }
        if (flush) {
            line[n] = '\0';
            if (n)
                text_at(p, font, size, x, *y, line);
            *y -= lead;
            n = 0;
            if (*c == '\0')
                break;
        }
    }
}

static int draw_qr(HPDF_Page p, const char *text, float x, float y, float side, nx_err *e)
{
    qr_matrix m;
    int rc = qr_encode(text, &m, e);
    if (rc)
        return rc;
    int total = m.width + 8; /* 4-module quiet zone each side */
    float cell = side / (float)total;
    HPDF_Page_SetRGBFill(p, 0, 0, 0);
    for (int r = 0; r < m.width; r++)
        for (int col = 0; col < m.width; col++)
            if (m.modules[r * m.width + col])
                HPDF_Page_Rectangle(p, x + (float)(col + 4) * cell, y + side - (float)(r + 5) * cell, cell, cell);
    HPDF_Page_Fill(p);
    qr_free(&m);
    return 0;
}

/* Save pdf into a new buffer (*out, malloc'd, *len bytes): 0, NX_EINTERNAL for a libharu error
 * (st holds the first), NX_ENOMEM. */
static int save(HPDF_Doc pdf, const pdf_state *st, unsigned char **out, size_t *len, nx_err *e)
{
    if (HPDF_SaveToStream(pdf) != HPDF_OK || st->error)
        return nx_fail(e, NX_EINTERNAL, "", "生成 PDF 失败（libharu 错误 0x%04X/%u）", (unsigned)st->error,
                       (unsigned)st->detail);
    HPDF_UINT32 size = HPDF_GetStreamSize(pdf);
    unsigned char *buf = malloc(size ? size : 1);
    if (buf == NULL)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    HPDF_UINT32 got = size;
    HPDF_ResetStream(pdf);
    HPDF_STATUS rs = HPDF_ReadFromStream(pdf, buf, &got);
    if ((rs != HPDF_OK && rs != HPDF_STREAM_EOF) || got != size) {
        free(buf);
        return nx_fail(e, NX_EINTERNAL, "", "读取 PDF 失败");
    }
    *out = buf;
    *len = got;
    return 0;
}

/* A new document with the Chinese font loaded and its creator and title set: 0 with *pdf (freed with
 * HPDF_Free) and *font, or NX_EIO (no font installed), NX_ENOMEM, NX_EINTERNAL (the font does not
 * load) with nothing left. libharu reports its errors into st, which must outlive the document. */
static int doc_new(pdf_state *st, const char *title, HPDF_Doc *pdf, HPDF_Font *font, nx_err *e)
{
    const char *font_file = pdf_font_path();
    if (font_file == NULL)
        return nx_fail(e, NX_EIO, "", "未安装中文字体（请安装 fonts-wqy-zenhei）");
    HPDF_Doc d = HPDF_New(on_error, st);
    if (d == NULL)
        return nx_fail(e, NX_ENOMEM, "", "内存不足");
    HPDF_SetCompressionMode(d, HPDF_COMP_ALL);
    HPDF_UseUTFEncodings(d);
    HPDF_SetCurrentEncoder(d, "UTF-8");
    const char *fname = HPDF_LoadTTFontFromFile2(d, font_file, 0, HPDF_TRUE);
    HPDF_Font f = fname ? HPDF_GetFont(d, fname, "UTF-8") : NULL;
    if (f == NULL) {
        HPDF_Free(d);
        return nx_fail(e, NX_EINTERNAL, "", "无法加载中文字体");
    }
    HPDF_SetInfoAttr(d, HPDF_INFO_CREATOR, "nuanxin");
    HPDF_SetInfoAttr(d, HPDF_INFO_TITLE, title);
    *pdf = d;
    *font = f;
    return 0;
}

int pdf_render_form(const pdf_form *f, unsigned char **out, size_t *len, nx_err *e)
{
    *out = NULL;
    *len = 0;
    if (f == NULL || f->issuer == NULL || f->title == NULL || f->serial == NULL)
        return nx_fail(e, NX_EINVAL, "", "文书缺少发文单位、标题或编号");
    const char *strs[] = {f->issuer, f->title, f->serial, f->body, f->footer, f->qr_text, f->verify_code};
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        if (strs[i] && !str_utf8_valid(strs[i], strlen(strs[i])))
            return nx_fail(e, NX_EINVAL, "", "文书内容含有无效字符");
    for (int i = 0; i < f->nrows; i++)
        if ((f->rows[i].label && !str_utf8_valid(f->rows[i].label, strlen(f->rows[i].label))) ||
            (f->rows[i].value && !str_utf8_valid(f->rows[i].value, strlen(f->rows[i].value))))
            return nx_fail(e, NX_EINVAL, "", "文书内容含有无效字符");
    pdf_state st = {0};
    HPDF_Doc pdf;
    HPDF_Font font;
    int rc = doc_new(&st, f->title, &pdf, &font, e);
    if (rc)
        return rc;
    HPDF_SetInfoAttr(pdf, HPDF_INFO_SUBJECT, f->serial);
    if (f->verify_code)
        HPDF_SetInfoAttr(pdf, HPDF_INFO_KEYWORDS, f->verify_code);

    HPDF_Page p = HPDF_AddPage(pdf);
    HPDF_Page_SetSize(p, HPDF_PAGE_SIZE_A4, HPDF_PAGE_PORTRAIT);
    float y = PAGE_H - MARGIN;
    float w = PAGE_W - 2 * MARGIN;
    /* heading: the issuer, centred */
    float tw = text_width(p, font, 14, f->issuer);
    text_at(p, font, 14, (PAGE_W - tw) / 2, y, f->issuer);
    y -= 44;
    tw = text_width(p, font, 24, f->title);
    text_at(p, font, 24, (PAGE_W - tw) / 2, y, f->title);
    y -= 30;
    tw = text_width(p, font, 10, f->serial);
    text_at(p, font, 10, PAGE_W - MARGIN - tw, y, f->serial);
    y -= 10;
    HPDF_Page_SetLineWidth(p, 0.8f);
    HPDF_Page_MoveTo(p, MARGIN, y);
    HPDF_Page_LineTo(p, PAGE_W - MARGIN, y);
    HPDF_Page_Stroke(p);
    y -= 34;
    float bottom = MARGIN + 150; /* room for footer and QR code */
    if (f->body && f->body[0]) {
        wrapped(p, font, 13, MARGIN, &y, w, 24, bottom, f->body, true);
        y -= 12;
    }
    /* the table: label column, value column, thin rules */
    float label_w = 120;
    for (int i = 0; i < f->nrows && y > bottom; i++) {
        float top = y + 16;
        text_at(p, font, 11, MARGIN + 6, y, f->rows[i].label ? f->rows[i].label : "");
        float vy = y;
        wrapped(p, font, 11, MARGIN + label_w + 6, &vy, w - label_w - 12, 18, bottom,
                f->rows[i].value ? f->rows[i].value : "", false);
        float bot = (vy < y ? vy : y - 18) + 12;
        HPDF_Page_SetLineWidth(p, 0.4f);
        HPDF_Page_Rectangle(p, MARGIN, bot, label_w, top - bot);
        HPDF_Page_Rectangle(p, MARGIN + label_w, bot, w - label_w, top - bot);
        HPDF_Page_Stroke(p);
        y = bot - 16;
    }
    /* footer and QR code */
    if (f->footer) {
        tw = text_width(p, font, 12, f->footer);
        text_at(p, font, 12, PAGE_W - MARGIN - tw, MARGIN + 160, f->footer);
    }
    if (f->qr_text) {
        float side = 110;
        if ((rc = draw_qr(p, f->qr_text, PAGE_W - MARGIN - side, MARGIN + 14, side, e)))
            goto done;
        text_at(p, font, 9, MARGIN, MARGIN + 70, "扫描右侧二维码或访问核验地址，可核验本文书真伪。");
        if (f->verify_code) {
            char line[200];
            snprintf(line, sizeof line, "核验码：%s", f->verify_code);
            text_at(p, font, 9, MARGIN, MARGIN + 54, line);
        }
        if (str_starts_with(f->qr_text, "https://") || str_starts_with(f->qr_text, "http://")) {
            char line[700];
            snprintf(line, sizeof line, "核验地址：%s", f->qr_text);
            text_at(p, font, 9, MARGIN, MARGIN + 38, line);
            HPDF_Rect rect = {PAGE_W - MARGIN - side, MARGIN + 14, PAGE_W - MARGIN, MARGIN + 14 + side};
            HPDF_Annotation link = HPDF_Page_CreateURILinkAnnot(p, rect, f->qr_text);
            if (link)
                HPDF_LinkAnnot_SetBorderStyle(link, 0, 0, 0);
        }
    }
    rc = save(pdf, &st, out, len, e);
done:
    HPDF_Free(pdf);
    return rc;
}

/* Label sheets: A4, 3 columns × 8 rows of 70 × 37 mm (198.4 × 104.9 pt), no gaps, 8.6 mm top and
 * bottom margins as on the usual sticker sheets. */
#define LABEL_W 198.43f
#define LABEL_H 104.88f
#define LABEL_TOP 24.4f

/* s cut at a code point boundary so that it (with "…" when cut) fits width w; written to out. */
static void fit(HPDF_Page p, HPDF_Font font, float size, const char *s, float w, char *out, size_t cap)
{
    str_copy(out, s, cap);
    if (text_width(p, font, size, out) <= w)
        return;
    size_t n = strlen(out);
    while (n > 0) {
        do
            n--;
        while (n > 0 && ((unsigned char)out[n] & 0xC0) == 0x80);
        if (n + sizeof "…" > cap)
            continue;
        memcpy(out + n, "…", sizeof "…");
        if (text_width(p, font, size, out) <= w)
            return;
    }
    out[0] = '\0';
}

int pdf_render_labels(const char *title, const pdf_label *labels, int n, unsigned char **out, size_t *len, nx_err *e)
{
    *out = NULL;
    *len = 0;
    if (title == NULL || !str_utf8_valid(title, strlen(title)))
        return nx_fail(e, NX_EINVAL, "", "标签页缺少标题");
    if (n < 1 || n > PDF_LABELS_MAX)
        return nx_fail(e, NX_EINVAL, "", "一次最多打印 %d 张标签", PDF_LABELS_MAX);
    for (int i = 0; i < n; i++) {
        const char *strs[] = {labels[i].code, labels[i].title, labels[i].line, labels[i].qr_text};
        if (!labels[i].code || !labels[i].qr_text)
            return nx_fail(e, NX_EINVAL, "", "标签缺少编号或二维码内容");
        for (size_t k = 0; k < sizeof strs / sizeof strs[0]; k++)
            if (strs[k] && !str_utf8_valid(strs[k], strlen(strs[k])))
                return nx_fail(e, NX_EINVAL, "", "标签内容含有无效字符");
    }
    pdf_state st = {0};
    HPDF_Doc pdf;
    HPDF_Font font;
    int rc = doc_new(&st, title, &pdf, &font, e);
    if (rc)
        return rc;
    HPDF_Page p = NULL;
    for (int i = 0; i < n && rc == 0; i++) {
        int slot = i % 24, col = slot % 3, row = slot / 3;
        if (slot == 0) {
            p = HPDF_AddPage(pdf);
            HPDF_Page_SetSize(p, HPDF_PAGE_SIZE_A4, HPDF_PAGE_PORTRAIT);
        }
        float x = (float)col * LABEL_W, top = PAGE_H - LABEL_TOP - (float)row * LABEL_H;
        float side = LABEL_H - 14.0f, qx = x + 4.0f, qy = top - LABEL_H + 7.0f;
        if ((rc = draw_qr(p, labels[i].qr_text, qx, qy, side, e)))
            break;
        float tx = qx + side + 4.0f, tw = x + LABEL_W - 8.0f - tx;
        char buf[256];
        fit(p, font, 13.0f, labels[i].code, tw, buf, sizeof buf);
        text_at(p, font, 13.0f, tx, top - 30.0f, buf);
        if (labels[i].title) {
            fit(p, font, 9.0f, labels[i].title, tw, buf, sizeof buf);
            text_at(p, font, 9.0f, tx, top - 52.0f, buf);
        }
        if (labels[i].line) {
            fit(p, font, 7.5f, labels[i].line, tw, buf, sizeof buf);
            text_at(p, font, 7.5f, tx, top - 70.0f, buf);
        }
    }
    if (rc == 0)
        rc = save(pdf, &st, out, len, e);
    HPDF_Free(pdf);
    return rc;
}
