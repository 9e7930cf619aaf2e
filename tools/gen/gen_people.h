/* gen_people — Vietnamese citizens and foreigners as civil-status records
 * and dossiers name them: names, dates of birth, personal IDs that agree with
 * sex and year (lt_rule_personal_id_make), ethnic groups, addresses. */
#ifndef GEN_PEOPLE_H
#define GEN_PEOPLE_H

#include <stdint.h>

#include "gen_arena.h"
#include "gen_place.h"
#include "gen_random.h"
#include "lienthong/v1/lienthong.pb-c.h"
#include "lt_rules.h"

typedef struct gen_person {
    const char *family, *middle, *given; /* NULL for a foreign name */
    const char *foreign;                 /* the name in full, for a foreigner */
    lt_sex_t sex;
    int32_t dob;       /* day of birth */
    int dob_precision; /* 1 year, 2 year and month, 3 full date */
    char id[13];       /* empty for foreigners */
    const char *ethnicity;
    const char *nationality;
    char residence[192];
} gen_person_t;

/* A Vietnamese citizen of this sex born on day dob, living in the commune;
 * family NULL = any family name. */
void gen_person(gen_rng_t *r, const gen_place_t *place, gen_person_t *p, lt_sex_t sex,
                int32_t dob, const char *family);

/* A foreign national: a name in full, no personal ID, no residence. */
void gen_foreigner(gen_rng_t *r, gen_person_t *p, lt_sex_t sex, int32_t dob);

/* A personal ID issued in province3 ("001") to someone of this sex born in
 * year; empty for a year that has none (before 1900). */
void gen_personal_id(gen_rng_t *r, const char *province3, lt_sex_t sex, int year,
                     char out[13]);

/* A given name of this sex other than not_this. */
const char *gen_other_given(gen_rng_t *r, lt_sex_t sex, const char *not_this);

/* The civil-status officer (a woman) and the signer for the People's
 * Committee (a man) of one writer's books, "Family Middle Given". */
void gen_staff(gen_rng_t *r, char *officer, char *signer, size_t size);

/* The messages of a person, a name and a date of which precision parts are
 * known; all in arena. */
Lienthong__V1__Person *gen_person_msg(gen_arena_t *arena, const gen_person_t *p);
Lienthong__V1__PersonName *gen_person_name_msg(gen_arena_t *arena, const gen_person_t *p);
Lienthong__V1__PartialDate *gen_date_msg(gen_arena_t *arena, int32_t day, int precision);

#endif
