/* people_choices.c — the vocabularies of people_choices.h, as data. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "modules/people/people_choices.h"

const struct people_choice people_choice_sex[] = {{"male", "男"}, {"female", "女"}, {NULL, NULL}};
const struct people_choice people_choice_relation[] = {
    {"head", "户主"},          {"spouse", "配偶"},       {"child", "子女"},
    {"child_in_law", "儿媳/女婿"}, {"grandchild", "孙子女"}, {"parent", "父母"},
    {"grandparent", "祖父母"},  {"sibling", "兄弟姐妹"},  {"other", "其他"},
    {NULL, NULL}};
const struct people_choice people_choice_residence[] = {
    {"registered", "户籍"}, {"resident", "常住"}, {"floating", "流动"}, {NULL, NULL}};
const struct people_choice people_choice_care_level[] = {
    {"none", "无"}, {"normal", "常态"}, {"key", "重点"}, {"frequent", "勤访"}, {NULL, NULL}};
const struct people_choice people_choice_status[] = {
    {"active", "在册"}, {"moved_out", "已迁出"}, {"deceased", "已故"}, {NULL, NULL}};
const struct people_choice people_choice_political[] = {
    {"party_member", "中共党员"}, {"probationary_member", "预备党员"}, {"league_member", "共青团员"},
    {"masses", "群众"},          {"other", "其他"},              {NULL, NULL}};
const struct people_choice people_choice_household_kind[] = {
    {"registered", "户籍户"}, {"resident", "常住户"}, {"floating", "流动户"}, {NULL, NULL}};

const char *people_choice_parse(const struct people_choice *list, const char *s)
{
    if (s == NULL)
        return NULL;
    for (const struct people_choice *c = list; c->code; c++)
        if (strcmp(c->code, s) == 0 || strcmp(c->label, s) == 0)
            return c->code;
    return NULL;
}

const char *people_choice_label(const struct people_choice *list, const char *code)
{
    for (const struct people_choice *c = list; code && c->code; c++)
        if (strcmp(c->code, code) == 0)
            return c->label;
    return "";
}

void people_choice_labels(const struct people_choice *list, char *out, size_t n)
{
    size_t used = 0;
    out[0] = '\0';
    for (const struct people_choice *c = list; c->code && used < n; c++) {
        int w = snprintf(out + used, n - used, "%s%s", c == list ? "" : "、", c->label);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}
