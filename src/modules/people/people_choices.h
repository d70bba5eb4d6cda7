/* people_choices.h — the fixed vocabularies of the registry (sex, relation to the household head,
 * residence status, care level, status, political status): each value has an English code used in
 * the API and a Chinese label used on screens and in spreadsheets. Parsing accepts either. */
#ifndef NX_MODULES_PEOPLE_PEOPLE_CHOICES_H
#define NX_MODULES_PEOPLE_PEOPLE_CHOICES_H

struct people_choice {
    const char *code, *label;
};

extern const struct people_choice people_choice_sex[], people_choice_relation[], people_choice_residence[],
    people_choice_care_level[], people_choice_status[], people_choice_political[], people_choice_household_kind[];

/* The code for s (a code or a label), or NULL when s is neither. */
const char *people_choice_parse(const struct people_choice *list, const char *s);
/* The label of a code ("" when unknown). */
const char *people_choice_label(const struct people_choice *list, const char *code);
/* "户主、配偶、…" for error messages, into out. */
void people_choice_labels(const struct people_choice *list, char *out, size_t n);

#endif
