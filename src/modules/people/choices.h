/* choices.h — the fixed vocabularies of the registry (sex, relation to the household head,
 * residence status, care level, status, political status): each value has an English code used in
 * the API and a Chinese label used on screens and in spreadsheets. Parsing accepts either. */
#ifndef NX_MODULES_PEOPLE_CHOICES_H
#define NX_MODULES_PEOPLE_CHOICES_H

struct choice {
    const char *code, *label;
};

extern const struct choice choice_sex[], choice_relation[], choice_residence[], choice_care_level[],
    choice_status[], choice_political[], choice_household_kind[];

/* The code for s (a code or a label), or NULL when s is neither. */
const char *choice_parse(const struct choice *list, const char *s);
/* The label of a code ("" when unknown). */
const char *choice_label(const struct choice *list, const char *code);
/* "户主、配偶、…" for error messages, into out. */
void choice_labels(const struct choice *list, char *out, size_t n);

#endif
