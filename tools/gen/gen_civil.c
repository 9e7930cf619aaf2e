#include "gen_civil.h"

#include <string.h>

#include "gen_calendar.h"
#include "gen_people.h"
#include "lt_util.h"

/* How often each kind is registered, per 1000 new civil records. */
static const struct {
    enum gen_kind kind;
    unsigned weight;
} gen_civil_mix[] = {
    {GEN_BIRTH, 420},          {GEN_DEATH, 200},       {GEN_MARRIAGE, 140},
    {GEN_RECOGNITION, 30},     {GEN_GUARDIANSHIP, 10}, {GEN_AMENDMENT, 60},
    {GEN_MARITAL_STATUS, 120}, {GEN_ANNOTATION, 20},
};

/* CivilRecordKind of each kind. */
static const Lienthong__V1__CivilRecordKind gen_record_kinds[GEN_DOSSIER] = {
    [GEN_BIRTH] = LIENTHONG__V1__CIVIL_RECORD_KIND__CIVIL_RECORD_KIND_BIRTH,
    [GEN_DEATH] = LIENTHONG__V1__CIVIL_RECORD_KIND__CIVIL_RECORD_KIND_DEATH,
    [GEN_MARRIAGE] = LIENTHONG__V1__CIVIL_RECORD_KIND__CIVIL_RECORD_KIND_MARRIAGE,
    [GEN_RECOGNITION] = LIENTHONG__V1__CIVIL_RECORD_KIND__CIVIL_RECORD_KIND_RECOGNITION,
    [GEN_GUARDIANSHIP] = LIENTHONG__V1__CIVIL_RECORD_KIND__CIVIL_RECORD_KIND_GUARDIANSHIP,
    [GEN_AMENDMENT] = LIENTHONG__V1__CIVIL_RECORD_KIND__CIVIL_RECORD_KIND_AMENDMENT,
    [GEN_MARITAL_STATUS] =
        LIENTHONG__V1__CIVIL_RECORD_KIND__CIVIL_RECORD_KIND_MARITAL_STATUS,
    [GEN_ANNOTATION] = LIENTHONG__V1__CIVIL_RECORD_KIND__CIVIL_RECORD_KIND_ANNOTATION,
};

enum gen_kind gen_civil_kind(unsigned permille)
{
    for (size_t i = 0; i < GEN_COUNT(gen_civil_mix); i++) {
        if (permille < gen_civil_mix[i].weight)
            return gen_civil_mix[i].kind;
        permille -= gen_civil_mix[i].weight;
    }
    return GEN_BIRTH;
}

/* What one record is drawn with. */
typedef struct gen_civil_ctx {
    gen_arena_t *arena;
    const gen_desk_t *desk;
    const gen_entity_t *e;
    gen_rng_t *r;
    int32_t reg_day; /* the day it was entered in the books */
} gen_civil_ctx_t;

static char *gen_str(const gen_civil_ctx_t *c, const char *s)
{
    return gen_arena_strdup(c->arena, s);
}

/* ------------------------------------------------------------ registration */

/* When a civil record was entered: a working day up to ten days before the
 * entity was written, in office hours. From the entity alone, so a record
 * referring to it finds the same. */
static int64_t gen_registered_at(const gen_entity_t *e)
{
    gen_rng_t r = gen_rng_for(e, 1);
    int32_t day = gen_day_of(e->base_us) - (int32_t)gen_below(&r, 11);
    return gen_office_time(&r, day, e->base_us);
}

/* Each desk keeps its own book a year: "NN/YYYY", NN the desk. */
static char *gen_book_number(gen_arena_t *arena, int book, int32_t day)
{
    return gen_arena_printf(arena, "%02d/%d", book, gen_date(day).year);
}

static Lienthong__V1__Registration *gen_registration(const gen_civil_ctx_t *c,
                                                     Lienthong__V1__RegistrationKind kind)
{
    Lienthong__V1__Registration *reg =
        gen_arena_msg(c->arena, &lienthong__v1__registration__descriptor);
    reg->authority = gen_str(c, c->desk->place->commune);
    reg->book_number = gen_book_number(c->arena, c->desk->index + 1, c->reg_day);
    reg->entry_number = gen_arena_printf(c->arena, "%u", c->e->n);
    reg->registered_on = gen_date_msg(c->arena, c->reg_day, 3);
    reg->officer = gen_str(c, c->desk->officer);
    reg->signer = gen_str(c, c->desk->signer);
    reg->kind = kind;
    return reg;
}

#define GEN_REG(k) LIENTHONG__V1__REGISTRATION_KIND__REGISTRATION_KIND_##k

/* ------------------------------------------------------------ births */

/* Who a birth registration is about. Drawn first from the record's own
 * random stream, so an amendment can find the facts of the birth it corrects. */
typedef struct gen_birth_facts {
    gen_person_t child, mother, father;
    unsigned c; /* birth case, per 1000: normal, parents unknown, abandoned, surrogacy */
    int has_mother, has_father;
    Lienthong__V1__RegistrationKind reg_kind;
} gen_birth_facts_t;

/* Days from birth to registration: mostly soon, within the 60 the law gives;
 * late (over 60 days, births of 2025 on) for one in eleven. */
static int32_t gen_birth_delay(gen_rng_t *r, int32_t reg_day, gen_birth_facts_t *f)
{
    const int32_t first_birth_day = gen_day(2025, 1, 1);
    unsigned a = gen_below(r, 61), b = gen_below(r, 61);
    int32_t delay = (int32_t)(a < b ? gen_below(r, 31) : gen_below(r, 61));
    f->reg_kind = GEN_REG(NEW);
    if (gen_chance(r, 90) && reg_day - first_birth_day > 61) {
        int32_t max = reg_day - first_birth_day;
        delay = 61 + (int32_t)gen_below(r, (unsigned)(max > 600 ? 600 - 61 : max - 61));
        f->reg_kind = GEN_REG(LATE);
    }
    return delay;
}

static void gen_birth_parents(gen_rng_t *r, const gen_place_t *pl, int32_t dob,
                              gen_birth_facts_t *f)
{
    int32_t mother_dob = gen_born(r, dob, 18, 30);
    mother_dob -= (int32_t)gen_below(r, 12 * 365);
    gen_person(r, pl, &f->mother, LT_SEX_FEMALE, mother_dob, NULL);
    f->mother.dob_precision = gen_chance(r, 500) ? 1 : 3; /* often the year only */
    int foreign = gen_chance(r, 8);
    int32_t father_dob = mother_dob - gen_between(r, -700, 3000);
    if (foreign)
        gen_foreigner(r, &f->father, LT_SEX_MALE, father_dob);
    else
        gen_person(r, pl, &f->father, LT_SEX_MALE, father_dob, NULL);
    f->father.dob_precision = f->mother.dob_precision;
    if (f->father.foreign || gen_chance(r, 850)) /* they live together */
        lt_strlcpy(f->father.residence, f->mother.residence, sizeof(f->father.residence));
}

static void gen_birth_facts(gen_rng_t *r, const gen_place_t *pl, int32_t reg_day,
                            gen_birth_facts_t *f)
{
    int32_t dob = reg_day - gen_birth_delay(r, reg_day, f);
    f->c = gen_below(r, 1000);
    f->has_mother = f->c < 990 || f->c >= 997;
    f->has_father = f->c < 965 || f->c >= 997;
    gen_birth_parents(r, pl, dob, f);
    const char *family = f->has_father && f->father.family && gen_chance(r, 950)
                             ? f->father.family
                             : f->mother.family;
    gen_person(r, pl, &f->child, gen_chance(r, 512) ? LT_SEX_MALE : LT_SEX_FEMALE, dob,
               family);
    /* the child's personal ID is issued here, at registration */
    gen_personal_id(r, pl->id_province, f->child.sex, gen_date(dob).year, f->child.id);
    f->child.ethnicity = f->has_mother ? f->mother.ethnicity : "01";
    lt_strlcpy(f->child.residence, f->mother.residence, sizeof(f->child.residence));
}

static Lienthong__V1__BirthCase gen_birth_case(unsigned c)
{
    return c < 965   ? LIENTHONG__V1__BIRTH_CASE__BIRTH_CASE_NORMAL
           : c < 990 ? LIENTHONG__V1__BIRTH_CASE__BIRTH_CASE_PARENTS_UNKNOWN
           : c < 997 ? LIENTHONG__V1__BIRTH_CASE__BIRTH_CASE_ABANDONED_CHILD
                     : LIENTHONG__V1__BIRTH_CASE__BIRTH_CASE_SURROGACY;
}

/* Where the child was born: found abandoned, at a health station or in the
 * province's maternity hospital. */
static char *gen_birth_place_detail(const gen_civil_ctx_t *c, const char *place_name,
                                    int abandoned)
{
    if (abandoned)
        return gen_arena_printf(c->arena, "Trẻ bị bỏ rơi, được tìm thấy tại %s",
                                place_name);
    if (gen_chance(c->r, 300))
        return gen_arena_printf(c->arena, "Trạm Y tế %s", place_name);
    return gen_arena_printf(c->arena, "Bệnh viện Sản Nhi %s",
                            c->desk->place->province_name);
}

static void gen_birth(const gen_civil_ctx_t *c, Lienthong__V1__CivilRecord *rec)
{
    gen_birth_facts_t f;
    gen_birth_facts(c->r, c->desk->place, c->reg_day, &f);
    Lienthong__V1__BirthRecord *b =
        gen_arena_msg(c->arena, &lienthong__v1__birth_record__descriptor);
    int abandoned = f.c >= 990 && f.c < 997;
    rec->registration = gen_registration(c, f.reg_kind);
    b->child = gen_person_msg(c->arena, &f.child);
    if (f.has_mother)
        b->mother = gen_person_msg(c->arena, &f.mother);
    if (f.has_father)
        b->father = gen_person_msg(c->arena, &f.father);
    const char *place_name;
    b->place =
        gen_commune_ref_msg(c->arena, gen_nearby(c->r, c->desk->place, 700, &place_name));
    b->place_detail = gen_birth_place_detail(c, place_name, abandoned);
    if (!abandoned)
        b->birth_certificate_number =
            gen_arena_printf(c->arena, "%05u/GCS", gen_below(c->r, 100000));
    b->birth_case = gen_birth_case(f.c);
    rec->record_case = LIENTHONG__V1__CIVIL_RECORD__RECORD_BIRTH;
    rec->birth = b;
}

/* ------------------------------------------------------------ deaths */

static const char *const death_causes[] = {"Tuổi cao, sức yếu",
                                           "Bệnh tim mạch",
                                           "Đột quỵ",
                                           "Ung thư",
                                           "Bệnh phổi tắc nghẽn mạn tính",
                                           "Suy thận",
                                           "Tai nạn giao thông",
                                           "Bệnh"};

/* When the death happened: within the 15 days the law gives, later, or years
 * ago for a book that was lost and is registered again. */
static int32_t gen_death_day(const gen_civil_ctx_t *c, int *precision,
                             Lienthong__V1__RegistrationKind *kind)
{
    unsigned k = gen_below(c->r, 1000);
    *precision = 3;
    if (k < 900) {
        *kind = GEN_REG(NEW);
        return c->reg_day - (int32_t)gen_below(c->r, 16);
    }
    if (k < 980) {
        *kind = GEN_REG(LATE);
        return c->reg_day - 16 - (int32_t)gen_below(c->r, 350);
    }
    *kind = GEN_REG(RE_REGISTRATION);
    int32_t years = gen_between(c->r, 3, 40);
    int32_t dod = c->reg_day - 365 * years - (int32_t)gen_below(c->r, 365);
    *precision = gen_chance(c->r, 400) ? 2 : 3;
    return dod;
}

static void gen_death(const gen_civil_ctx_t *c, Lienthong__V1__CivilRecord *rec)
{
    int precision;
    Lienthong__V1__RegistrationKind kind;
    int32_t dod = gen_death_day(c, &precision, &kind);
    int age =
        gen_chance(c->r, 150) ? gen_between(c->r, 30, 64) : gen_between(c->r, 65, 99);
    int32_t dob = gen_born(c->r, dod, age, age);
    gen_person_t p;
    gen_person(c->r, c->desk->place, &p,
               gen_chance(c->r, 520) ? LT_SEX_MALE : LT_SEX_FEMALE, dob, NULL);
    p.dob_precision = gen_chance(c->r, 250) ? 1 : 3;
    if (gen_date(dod).year < 2016) /* died before personal IDs were issued to all */
        p.id[0] = '\0';
    Lienthong__V1__DeathRecord *d =
        gen_arena_msg(c->arena, &lienthong__v1__death_record__descriptor);
    rec->registration = gen_registration(c, kind);
    d->deceased = gen_person_msg(c->arena, &p);
    d->date_of_death = gen_date_msg(c->arena, dod, precision);
    const char *place_name;
    d->place =
        gen_commune_ref_msg(c->arena, gen_nearby(c->r, c->desk->place, 700, &place_name));
    unsigned notice = gen_below(c->r, 10000);
    d->cause = gen_str(c, GEN_PICK(c->r, death_causes));
    d->death_notice_number = gen_arena_printf(c->arena, "%04u/GBT", notice);
    d->place_detail = gen_chance(c->r, 600)
                          ? gen_str(c, "Tại nhà riêng")
                          : gen_arena_printf(c->arena, "Bệnh viện Đa khoa %s",
                                             c->desk->place->province_name);
    rec->record_case = LIENTHONG__V1__CIVIL_RECORD__RECORD_DEATH;
    rec->death = d;
}

/* ------------------------------------------------------------ marriages */

static void gen_marriage(const gen_civil_ctx_t *c, Lienthong__V1__CivilRecord *rec)
{
    const gen_place_t *pl = c->desk->place;
    int32_t married = c->reg_day;
    Lienthong__V1__RegistrationKind kind = GEN_REG(NEW);
    if (gen_chance(c->r, 30)) { /* registered again, decades later */
        int32_t years = gen_between(c->r, 8, 45);
        married = c->reg_day - 365 * years - (int32_t)gen_below(c->r, 365);
        kind = GEN_REG(RE_REGISTRATION);
    }
    gen_person_t husband, wife;
    gen_person(c->r, pl, &husband, LT_SEX_MALE, gen_born(c->r, married, 20, 38), NULL);
    if (gen_chance(c->r, 15))
        gen_foreigner(c->r, &wife, LT_SEX_FEMALE, gen_born(c->r, married, 20, 35));
    else
        gen_person(c->r, pl, &wife, LT_SEX_FEMALE, gen_born(c->r, married, 18, 35), NULL);
    if (gen_chance(c->r, 300)) /* after the wedding they live together */
        lt_strlcpy(wife.residence, husband.residence, sizeof(wife.residence));
    Lienthong__V1__MarriageRecord *m =
        gen_arena_msg(c->arena, &lienthong__v1__marriage_record__descriptor);
    rec->registration = gen_registration(c, kind);
    m->husband = gen_person_msg(c->arena, &husband);
    m->wife = gen_person_msg(c->arena, &wife);
    m->married_on = gen_date_msg(c->arena, married, 3);
    m->place = gen_commune_ref_msg(c->arena, pl->commune);
    rec->record_case = LIENTHONG__V1__CIVIL_RECORD__RECORD_MARRIAGE;
    rec->marriage = m;
}

/* ------------------------------------------------------------ recognitions */

static void gen_recognition(const gen_civil_ctx_t *c, Lienthong__V1__CivilRecord *rec)
{
    const gen_place_t *pl = c->desk->place;
    unsigned k =
        gen_below(c->r, 100); /* 80 a child recognised, 15 a father, 5 a mother */
    gen_person_t parent, child;
    int32_t child_dob = gen_born(c->r, c->reg_day, 0, k < 80 ? 12 : 40);
    gen_person(c->r, pl, &parent, k < 95 ? LT_SEX_MALE : LT_SEX_FEMALE,
               gen_born(c->r, child_dob, 20, 45), NULL);
    gen_person(c->r, pl, &child, gen_chance(c->r, 500) ? LT_SEX_MALE : LT_SEX_FEMALE,
               child_dob, NULL);
    Lienthong__V1__RecognitionRecord *g =
        gen_arena_msg(c->arena, &lienthong__v1__recognition_record__descriptor);
    rec->registration = gen_registration(c, GEN_REG(NEW));
    g->parent = gen_person_msg(c->arena, &parent);
    g->child = gen_person_msg(c->arena, &child);
    g->relation = k < 80 ? LIENTHONG__V1__RECOGNITION_RELATION__RECOGNITION_RELATION_CHILD
                  : k < 95
                      ? LIENTHONG__V1__RECOGNITION_RELATION__RECOGNITION_RELATION_FATHER
                      : LIENTHONG__V1__RECOGNITION_RELATION__RECOGNITION_RELATION_MOTHER;
    rec->record_case = LIENTHONG__V1__CIVIL_RECORD__RECORD_RECOGNITION;
    rec->recognition = g;
}

/* ------------------------------------------------------------ guardianships */

/* Why, by action (k: 70 register, 20 end, 10 change) and whether the ward is
 * a minor. */
static const char *gen_guardianship_reason(unsigned k, int minor)
{
    if (k < 70)
        return minor ? "Cha, mẹ của người được giám hộ đều đã chết"
                     : "Người được giám hộ bị mất năng lực hành vi dân sự";
    if (k < 90)
        return minor ? "Người được giám hộ đã thành niên" : "Người được giám hộ đã chết";
    return "Người giám hộ không còn đủ điều kiện làm người giám hộ";
}

/* A guardian of the ward's family (by law) or anyone (appointed). */
static void gen_guardian(const gen_civil_ctx_t *c, gen_person_t *p,
                         unsigned male_permille, int age_lo, int age_hi,
                         const char *family)
{
    int32_t dob = gen_born(c->r, c->reg_day, age_lo, age_hi);
    gen_person(c->r, c->desk->place, p,
               gen_chance(c->r, male_permille) ? LT_SEX_MALE : LT_SEX_FEMALE, dob,
               family);
}

static void gen_guardianship(const gen_civil_ctx_t *c, Lienthong__V1__CivilRecord *rec)
{
    unsigned k = gen_below(c->r, 100);
    int by_law = gen_chance(c->r, 600);
    int minor = gen_chance(c->r, 850);
    int32_t ward_dob = !minor ? gen_born(c->r, c->reg_day, 20, 70)
                       : k >= 70 && k < 90
                           ? gen_born(c->r, c->reg_day, 18, 18) /* came of age */
                           : gen_born(c->r, c->reg_day, 1, 17);
    gen_person_t guardian, ward, previous;
    gen_person(c->r, c->desk->place, &ward,
               gen_chance(c->r, 500) ? LT_SEX_MALE : LT_SEX_FEMALE, ward_dob, NULL);
    gen_guardian(c, &guardian, 450, 25, 70, by_law ? ward.family : NULL);
    Lienthong__V1__GuardianshipRecord *g =
        gen_arena_msg(c->arena, &lienthong__v1__guardianship_record__descriptor);
    rec->registration = gen_registration(c, GEN_REG(NEW));
    g->guardian = gen_person_msg(c->arena, &guardian);
    g->ward = gen_person_msg(c->arena, &ward);
    g->type = by_law ? LIENTHONG__V1__GUARDIANSHIP_TYPE__GUARDIANSHIP_TYPE_BY_LAW
                     : LIENTHONG__V1__GUARDIANSHIP_TYPE__GUARDIANSHIP_TYPE_APPOINTED;
    g->action = k < 70 ? LIENTHONG__V1__GUARDIANSHIP_ACTION__GUARDIANSHIP_ACTION_REGISTER
                : k < 90 ? LIENTHONG__V1__GUARDIANSHIP_ACTION__GUARDIANSHIP_ACTION_END
                         : LIENTHONG__V1__GUARDIANSHIP_ACTION__GUARDIANSHIP_ACTION_CHANGE;
    g->reason = gen_str(c, gen_guardianship_reason(k, minor));
    if (k >= 90) {
        gen_guardian(c, &previous, 300, 65, 90, by_law ? ward.family : NULL);
        g->previous_guardian = gen_person_msg(c->arena, &previous);
    }
    rec->record_case = LIENTHONG__V1__CIVIL_RECORD__RECORD_GUARDIANSHIP;
    rec->guardianship = g;
}

/* ------------------------------------------------------------ references */

/* A record an amendment or annotation refers to: one this desk registered
 * before `before` (returned, found again from its entity), or an old paper
 * one (NULL). *target_day gets its registration day. */
static const gen_entity_t *gen_record_ref(const gen_civil_ctx_t *c, enum gen_kind kind,
                                          Lienthong__V1__RecordRef **out,
                                          int32_t *target_day)
{
    const gen_desk_t *desk = c->desk;
    const gen_entity_t *t = c->e->target ? &desk->entities[c->e->target - 1] : NULL;
    int32_t day = t ? gen_day_of(gen_registered_at(t)) : 0;
    Lienthong__V1__RecordRef *ref =
        gen_arena_msg(c->arena, &lienthong__v1__record_ref__descriptor);
    ref->kind = gen_record_kinds[kind];
    ref->authority = gen_str(c, desk->place->commune);
    if (t && t->kind == kind && day < c->reg_day) {
        char id[96];
        gen_entity_id(desk, t, id, sizeof(id));
        ref->entity_id = gen_str(c, id);
        ref->book_number = gen_book_number(c->arena, desk->index + 1, day);
        ref->entry_number = gen_arena_printf(c->arena, "%u", t->n);
    } else {
        t = NULL;
        int32_t years = gen_between(c->r, 2, 35);
        day = gen_workday_back(c->reg_day - 365 * years - (int32_t)gen_below(c->r, 365));
        int entry = gen_between(c->r, 1, 400);
        ref->book_number = gen_book_number(c->arena, gen_between(c->r, 1, 3), day);
        ref->entry_number = gen_arena_printf(c->arena, "%d", entry);
    }
    ref->registered_on = gen_date_msg(c->arena, day, 3);
    *out = ref;
    *target_day = day;
    return t;
}

/* ------------------------------------------------------------ amendments */

#define GEN_AMEND(k) LIENTHONG__V1__AMENDMENT_KIND__AMENDMENT_KIND_##k

/* The three amendments of a birth record the generator makes. */
enum gen_amendment_what {
    GEN_AMEND_MOTHER_DOB,   /* the mother's day and month of birth supplemented */
    GEN_AMEND_CHILD_GIVEN,  /* the child's given name changed, as the parents wish */
    GEN_AMEND_MOTHER_GIVEN, /* the mother's given name corrected */
};

static const struct {
    const char *field_path, *reason, *legal_basis;
    Lienthong__V1__AmendmentKind kind;
} gen_amendments[] = {
    [GEN_AMEND_MOTHER_DOB] = {"birth.mother.dateOfBirth",
                              "Bổ sung ngày, tháng sinh của người mẹ",
                              "Luật Hộ tịch 2014; Nghị định 123/2015/NĐ-CP",
                              GEN_AMEND(SUPPLEMENT)},
    [GEN_AMEND_CHILD_GIVEN] = {"birth.child.name.given", "Theo nguyện vọng của cha, mẹ",
                               "Bộ luật Dân sự 2015; Luật Hộ tịch 2014",
                               GEN_AMEND(CHANGE)},
    [GEN_AMEND_MOTHER_GIVEN] = {"birth.mother.name.given",
                                "Sai sót khi ghi Sổ đăng ký khai sinh",
                                "Luật Hộ tịch 2014; Nghị định 123/2015/NĐ-CP",
                                GEN_AMEND(CORRECTION)},
};

/* The facts of the birth record amended: those its own stream drew for a
 * record of this desk (t), else whatever this draws for an old paper one. */
static void gen_amended_birth(const gen_civil_ctx_t *c, const gen_entity_t *t,
                              int32_t target_day, gen_birth_facts_t *f)
{
    gen_rng_t target_stream;
    if (t)
        target_stream = gen_rng_for(t, 2);
    gen_birth_facts(t ? &target_stream : c->r, c->desk->place, target_day, f);
}

/* What is amended (k in [0, 100)) and its value before and after: the old
 * value is what the birth record says. */
static enum gen_amendment_what gen_amendment_values(const gen_civil_ctx_t *c, unsigned k,
                                                    const gen_birth_facts_t *f,
                                                    Lienthong__V1__AmendmentRecord *a)
{
    int mother_ok = f->has_mother && f->mother.given;
    if (k >= 85 && mother_ok && f->mother.dob_precision == 1) {
        lt_date_t d = gen_date(f->mother.dob);
        a->old_value = gen_arena_printf(c->arena, "%d", d.year);
        a->new_value = gen_arena_printf(c->arena, "%02d/%02d/%d", d.day, d.month, d.year);
        return GEN_AMEND_MOTHER_DOB;
    }
    if (k >= 50 || !mother_ok) {
        a->old_value = gen_str(c, f->child.given);
        a->new_value = gen_str(c, gen_other_given(c->r, f->child.sex, f->child.given));
        return GEN_AMEND_CHILD_GIVEN;
    }
    a->old_value = gen_str(c, f->mother.given);
    a->new_value = gen_str(c, gen_other_given(c->r, LT_SEX_FEMALE, f->mother.given));
    return GEN_AMEND_MOTHER_GIVEN;
}

static void gen_amendment(const gen_civil_ctx_t *c, Lienthong__V1__CivilRecord *rec)
{
    unsigned k = gen_below(c->r, 100);
    int32_t target_day;
    gen_birth_facts_t f;
    Lienthong__V1__AmendmentRecord *a =
        gen_arena_msg(c->arena, &lienthong__v1__amendment_record__descriptor);
    rec->registration = gen_registration(c, GEN_REG(NEW));
    const gen_entity_t *t = gen_record_ref(c, GEN_BIRTH, &a->target, &target_day);
    gen_amended_birth(c, t, target_day, &f);
    enum gen_amendment_what what = gen_amendment_values(c, k, &f, a);
    a->field_path = gen_str(c, gen_amendments[what].field_path);
    a->reason = gen_str(c, gen_amendments[what].reason);
    a->legal_basis = gen_str(c, gen_amendments[what].legal_basis);
    a->kind = gen_amendments[what].kind;
    rec->record_case = LIENTHONG__V1__CIVIL_RECORD__RECORD_AMENDMENT;
    rec->amendment = a;
}

/* ------------------------------------------------------------ marital status */

static const char *const marital_purposes[] = {
    "Để bổ sung hồ sơ vay vốn ngân hàng",
    "Để làm thủ tục chuyển nhượng quyền sử dụng đất", "Để bổ sung hồ sơ xin việc",
    "Để làm thủ tục đi lao động ở nước ngoài"};

/* Since when the status holds: single since reaching marriageable age (20 for
 * men, 18 for women); otherwise since the marriage, divorce or spouse's death,
 * some day after that. */
static int32_t gen_marital_since(gen_rng_t *r, const gen_person_t *p, int single,
                                 int32_t reg_day)
{
    lt_date_t born = gen_date(p->dob);
    int32_t from =
        gen_day(born.year + (p->sex == LT_SEX_MALE ? 20 : 18), born.month, born.day);
    if (from > reg_day)
        from = reg_day;
    if (!single)
        from += (int32_t)gen_below(r, (unsigned)(reg_day - from));
    return from;
}

static void gen_marital_status(const gen_civil_ctx_t *c, Lienthong__V1__CivilRecord *rec)
{
    unsigned k = gen_below(c->r, 100); /* 72 single, 12 divorced, 10 married, 6 widowed */
    int single = k < 72;
    lt_sex_t sex = gen_chance(c->r, 480) ? LT_SEX_MALE : LT_SEX_FEMALE;
    gen_person_t p;
    gen_person(c->r, c->desk->place, &p, sex,
               gen_born(c->r, c->reg_day, single ? 20 : 28, single ? 40 : 65), NULL);
    int32_t from = gen_marital_since(c->r, &p, single, c->reg_day);
    Lienthong__V1__MaritalStatusRecord *m =
        gen_arena_msg(c->arena, &lienthong__v1__marital_status_record__descriptor);
    rec->registration = gen_registration(c, GEN_REG(NEW));
    m->person = gen_person_msg(c->arena, &p);
    m->status = single   ? LIENTHONG__V1__MARITAL_STATUS__MARITAL_STATUS_SINGLE
                : k < 84 ? LIENTHONG__V1__MARITAL_STATUS__MARITAL_STATUS_DIVORCED
                : k < 94 ? LIENTHONG__V1__MARITAL_STATUS__MARITAL_STATUS_MARRIED
                         : LIENTHONG__V1__MARITAL_STATUS__MARITAL_STATUS_WIDOWED;
    m->period_from = gen_date_msg(c->arena, from, 3);
    m->period_to = gen_date_msg(c->arena, c->reg_day, 3);
    m->purpose =
        gen_str(c, single && gen_chance(c->r, 650) ? "Để đăng ký kết hôn"
                                                   : GEN_PICK(c->r, marital_purposes));
    rec->record_case = LIENTHONG__V1__CIVIL_RECORD__RECORD_MARITAL_STATUS;
    rec->marital_status = m;
}

/* ------------------------------------------------------------ annotations */

#define GEN_SUBJECT(s) LIENTHONG__V1__ANNOTATION_SUBJECT__ANNOTATION_SUBJECT_##s

static const struct {
    Lienthong__V1__AnnotationSubject subject;
    enum gen_kind target_kind; /* the kind of record the decision changes */
    const char *body;          /* who decided ... */
    int in_province;           /* ... followed by the province's name */
    const char *number;        /* after "<number>/<year>/" */
    const char *content;
} gen_annotations[] = {
    {GEN_SUBJECT(DIVORCE), GEN_MARRIAGE, "Tòa án nhân dân khu vực 1 - ", 1, "QĐST-HNGĐ",
     "Công nhận thuận tình ly hôn theo quyết định của Tòa án"},
    {GEN_SUBJECT(DIVORCE), GEN_MARRIAGE, "Tòa án nhân dân khu vực 2 - ", 1, "HNGĐ-ST",
     "Ly hôn theo bản án sơ thẩm đã có hiệu lực pháp luật"},
    {GEN_SUBJECT(MARRIAGE_ANNULMENT), GEN_MARRIAGE, "Tòa án nhân dân khu vực 1 - ", 1,
     "QĐST-HNGĐ", "Hủy việc kết hôn trái pháp luật"},
    {GEN_SUBJECT(PARENTAGE), GEN_BIRTH, "Tòa án nhân dân khu vực 1 - ", 1, "QĐST-HNGĐ",
     "Xác định cha cho con theo quyết định của Tòa án"},
    {GEN_SUBJECT(NATIONALITY), GEN_BIRTH, "Chủ tịch nước", 0, "QĐ-CTN",
     "Thôi quốc tịch Việt Nam theo quyết định của Chủ tịch nước"},
    {GEN_SUBJECT(ADOPTION), GEN_BIRTH, "Tòa án nhân dân khu vực 1 - ", 1, "QĐST-HNGĐ",
     "Chấm dứt việc nuôi con nuôi theo quyết định của Tòa án"},
    {GEN_SUBJECT(CIVIL_CAPACITY), GEN_BIRTH, "Tòa án nhân dân khu vực 1 - ", 1, "QĐST-DS",
     "Tuyên bố một người mất năng lực hành vi dân sự"},
    {GEN_SUBJECT(SEX_REDETERMINATION), GEN_BIRTH, "Sở Y tế ", 1, "QĐ-SYT",
     "Xác định lại giới tính theo kết luận của cơ sở y tế"},
};

/* Divorces most (55 by decision, 15 by judgment), the other decisions alike. */
static unsigned gen_annotation_pick(gen_rng_t *r)
{
    unsigned i = gen_below(r, 100);
    return i < 55   ? 0
           : i < 70 ? 1
                    : 2 + (i - 70) % (unsigned)(GEN_COUNT(gen_annotations) - 2);
}

static void gen_annotation(const gen_civil_ctx_t *c, Lienthong__V1__CivilRecord *rec)
{
    unsigned i = gen_annotation_pick(c->r);
    int32_t decided = gen_workday_back(c->reg_day - 7 - (int32_t)gen_below(c->r, 80));
    int32_t target_day;
    Lienthong__V1__AnnotationRecord *a =
        gen_arena_msg(c->arena, &lienthong__v1__annotation_record__descriptor);
    rec->registration = gen_registration(c, GEN_REG(NEW));
    gen_record_ref(c, gen_annotations[i].target_kind, &a->target, &target_day);
    a->deciding_body = gen_arena_printf(
        c->arena, "%s%s", gen_annotations[i].body,
        gen_annotations[i].in_province ? c->desk->place->province_name : "");
    a->decision_number =
        gen_arena_printf(c->arena, "%d/%d/%s", gen_between(c->r, 1, 900),
                         gen_date(decided).year, gen_annotations[i].number);
    a->decision_date = gen_date_msg(c->arena, decided, 3);
    a->content = gen_str(c, gen_annotations[i].content);
    a->subject = gen_annotations[i].subject;
    rec->record_case = LIENTHONG__V1__CIVIL_RECORD__RECORD_ANNOTATION;
    rec->annotation = a;
}

/* ------------------------------------------------------------ the record */

Lienthong__V1__CivilRecord *gen_civil_record(gen_arena_t *arena, const gen_desk_t *desk,
                                             const gen_entity_t *e,
                                             int64_t *registered_at)
{
    static void (*const kinds[GEN_DOSSIER])(const gen_civil_ctx_t *,
                                            Lienthong__V1__CivilRecord *) = {
        [GEN_BIRTH] = gen_birth,
        [GEN_DEATH] = gen_death,
        [GEN_MARRIAGE] = gen_marriage,
        [GEN_RECOGNITION] = gen_recognition,
        [GEN_GUARDIANSHIP] = gen_guardianship,
        [GEN_AMENDMENT] = gen_amendment,
        [GEN_MARITAL_STATUS] = gen_marital_status,
        [GEN_ANNOTATION] = gen_annotation,
    };
    gen_rng_t r = gen_rng_for(e, 2);
    *registered_at = gen_registered_at(e);
    gen_civil_ctx_t c = {arena, desk, e, &r, gen_day_of(*registered_at)};
    Lienthong__V1__CivilRecord *rec =
        gen_arena_msg(arena, &lienthong__v1__civil_record__descriptor);
    rec->kind = gen_record_kinds[e->kind];
    kinds[e->kind](&c, rec);
    return rec;
}
