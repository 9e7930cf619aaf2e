#include "gen_dossier.h"

#include <stdio.h>
#include <string.h>

#include "gen_calendar.h"
#include "gen_people.h"
#include "lt_util.h"

#define ST(s) LT_DOSSIER_##s

/* How dossiers go, per 100, as submitted online; received at the desk the NEW
 * step is left out. */
static const struct {
    unsigned weight;
    lt_dossier_status_t steps[GEN_MAX_STEPS]; /* ends at the first UNSPECIFIED */
} gen_paths[] = {
    {70, {ST(NEW), ST(ACCEPTED), ST(IN_PROCESS), ST(PROCESSED), ST(RESULT_RETURNED)}},
    {7,
     {ST(NEW), ST(ACCEPTED), ST(IN_PROCESS), ST(SUPPLEMENT_REQUESTED), ST(IN_PROCESS),
      ST(PROCESSED), ST(RESULT_RETURNED)}},
    {4,
     {ST(NEW), ST(ACCEPTED), ST(IN_PROCESS), ST(FEE_REQUESTED), ST(IN_PROCESS),
      ST(PROCESSED), ST(RESULT_RETURNED)}},
    {4,
     {ST(NEW), ST(ACCEPTED), ST(SUPPLEMENT_REQUESTED), ST(ACCEPTED), ST(IN_PROCESS),
      ST(PROCESSED), ST(RESULT_RETURNED)}},
    {5, {ST(NEW), ST(NOT_ACCEPTED)}},
    {3, {ST(NEW), ST(WITHDRAWN)}},
    {3, {ST(NEW), ST(ACCEPTED), ST(IN_PROCESS), ST(SUPPLEMENT_REQUESTED), ST(WITHDRAWN)}},
    {2,
     {ST(NEW), ST(ACCEPTED), ST(IN_PROCESS), ST(SUPPLEMENT_REQUESTED),
      ST(PROCESSING_STOPPED)}},
    {2, {ST(NEW), ST(ACCEPTED), ST(IN_PROCESS), ST(PROCESSING_STOPPED)}},
};

/* Procedure codes of the national database and their time limits in working
 * days (the limits are illustrative). */
static const struct {
    const char *code;
    int days;
} gen_procedures[] = {{"1.001193", 1},  {"1.000894", 3}, {"1.000656", 1},
                      {"1.004873", 3},  {"1.001022", 5}, {"2.000908", 3},
                      {"1.004227", 10}, {"1.003583", 15}};

static const char *const business_names[] = {"Công ty TNHH Thương mại Minh Phát",
                                             "Công ty Cổ phần Xây dựng An Khang",
                                             "Công ty TNHH Dịch vụ Thành Đạt",
                                             "Hợp tác xã Nông nghiệp Hưng Thịnh",
                                             "Công ty TNHH Phúc Lộc",
                                             "Công ty Cổ phần Đầu tư Việt Tiến"};
static const char *const phone_prefixes[] = {
    "032", "033", "034", "035", "036", "037", "038", "039", "070",
    "076", "077", "078", "079", "081", "083", "084", "085", "086",
    "088", "089", "090", "091", "093", "094", "096", "097", "098"};

#define GEN_CHANNEL(c) LIENTHONG__V1__DOSSIER_CHANNEL__DOSSIER_CHANNEL_##c

/* The whole life of a dossier, drawn from the entity alone. */
typedef struct gen_dossier_plan {
    lt_dossier_status_t status[GEN_MAX_STEPS];
    int steps;
    Lienthong__V1__DossierChannel channel;
    int procedure;
    int64_t at[GEN_MAX_STEPS];  /* when each step happened */
    int64_t due[GEN_MAX_STEPS]; /* the due time as of each step; 0 until accepted */
} gen_dossier_plan_t;

size_t gen_dossier_path_count(void)
{
    return GEN_COUNT(gen_paths);
}

size_t gen_dossier_path(size_t i, lt_dossier_status_t out[GEN_MAX_STEPS])
{
    size_t n = 0;
    while (n < GEN_MAX_STEPS && gen_paths[i].steps[n] != LT_DOSSIER_UNSPECIFIED) {
        out[n] = gen_paths[i].steps[n];
        n++;
    }
    return n;
}

/* The path by weight, and the channel: a path that ends before the dossier is
 * received (lt_rule_status_received) was submitted online; the others online,
 * in person or by post. At the desk, the dossier is received at once. */
static void gen_plan_path(gen_rng_t *r, gen_dossier_plan_t *p)
{
    unsigned pick = gen_below(r, 100), i;
    for (i = 0; i + 1 < GEN_COUNT(gen_paths) && pick >= gen_paths[i].weight; i++)
        pick -= gen_paths[i].weight;
    unsigned c = gen_below(r, 100);
    p->channel = !lt_rule_status_received(gen_paths[i].steps[1]) || c < 55
                     ? GEN_CHANNEL(ONLINE)
                 : c < 95 ? GEN_CHANNEL(IN_PERSON)
                          : GEN_CHANNEL(POSTAL);
    int skip = p->channel != GEN_CHANNEL(ONLINE);
    for (p->steps = 0; p->steps + skip < GEN_MAX_STEPS &&
                       gen_paths[i].steps[p->steps + skip] != LT_DOSSIER_UNSPECIFIED;
         p->steps++)
        p->status[p->steps] = gen_paths[i].steps[p->steps + skip];
}

/* Received within the 30 days before creation: online any time 07:00-24:00
 * (Vietnam), else at the counter in office hours. */
static int64_t gen_plan_received(gen_rng_t *r, const gen_entity_t *e,
                                 const gen_dossier_plan_t *p)
{
    int32_t day = gen_day_of(e->base_us) - (int32_t)gen_below(r, 30);
    if (p->channel != GEN_CHANNEL(ONLINE))
        return gen_office_time(r, day, INT64_MAX);
    return (int64_t)day * GEN_DAY_US +
           (int64_t)gen_below(r, (unsigned)(GEN_EVENING_END_US / GEN_MIN_US)) *
               GEN_MIN_US;
}

/* The wait for the applicant does not count: the due day moves on by the
 * working days from asking (asked_at) to their answer (t). */
static int64_t gen_due_moved(int64_t due, int64_t asked_at, int64_t t)
{
    int32_t d = gen_day_of(asked_at), due_day = gen_day_of(due);
    while (d < gen_day_of(t)) {
        d = gen_workdays_after(d, 1);
        due_day = gen_workdays_after(due_day, 1);
    }
    return gen_due_time(due_day, 0);
}

/* Processed: late ones after the due time, the others some working day up to
 * the due one. */
static int64_t gen_processed_at(gen_rng_t *r, int64_t t, int64_t due, int late)
{
    if (late || t >= due)
        return gen_office_after(r, t > due ? t : due, late, 5);
    int32_t d = gen_day_of(t);
    int n = 0;
    for (; d < gen_day_of(due); n++)
        d = gen_workdays_after(d, 1);
    t = gen_office_after(r, t, 0, n);
    return t > due ? due : t;
}

/* When step cur (after prev at t) happens, and the due time as of it. */
static int64_t gen_plan_step(gen_rng_t *r, const gen_dossier_plan_t *p, int s, int64_t t,
                             int64_t *due, int late)
{
    lt_dossier_status_t prev = p->status[s - 1], cur = p->status[s];
    if (prev == ST(SUPPLEMENT_REQUESTED) || prev == ST(FEE_REQUESTED)) {
        int stopped = cur == ST(PROCESSING_STOPPED); /* no answer in time */
        t = gen_office_after(r, t, stopped ? 5 : 1, stopped ? 15 : 5);
        if (*due)
            *due = gen_due_moved(*due, p->at[s - 1], t);
    } else if (cur == ST(ACCEPTED) || cur == ST(NOT_ACCEPTED) ||
               cur == ST(SUPPLEMENT_REQUESTED)) {
        t = gen_office_after(r, t, 0,
                             cur == ST(SUPPLEMENT_REQUESTED) && prev != ST(NEW) ? 2 : 1);
    } else if (cur == ST(IN_PROCESS)) {
        t = gen_office_after(r, t, 0, 0);
    } else if (cur == ST(PROCESSED)) {
        t = gen_processed_at(r, t, *due, late);
    } else if (cur == ST(RESULT_RETURNED)) {
        t = gen_office_after(r, t, 0, 4);
    } else if (cur == ST(WITHDRAWN)) {
        t = gen_office_after(r, t, 0, 3);
    } else { /* FEE_REQUESTED, PROCESSING_STOPPED */
        t = gen_office_after(r, t, 0, 2);
    }
    return t;
}

/* Nothing after the creation: move the whole story back by whole weeks,
 * which keeps weekdays and office hours. */
static void gen_plan_shift_back(gen_dossier_plan_t *p, int64_t created_us)
{
    int64_t last = p->at[p->steps - 1], week = 7 * GEN_DAY_US;
    if (last <= created_us)
        return;
    int64_t shift = (last - created_us + week - 1) / week * week;
    for (int s = 0; s < p->steps; s++) {
        p->at[s] -= shift;
        if (p->due[s])
            p->due[s] -= shift;
    }
}

static void gen_dossier_plan(const gen_entity_t *e, gen_dossier_plan_t *p)
{
    gen_rng_t r = gen_rng_for(e, 3);
    gen_plan_path(&r, p);
    p->procedure = (int)gen_below(&r, (unsigned)GEN_COUNT(gen_procedures));
    int late = gen_chance(&r, 40), limit_days = gen_procedures[p->procedure].days;
    int64_t t = gen_plan_received(&r, e, p), due = 0;
    /* the time limit runs from acceptance (tiếp nhận) */
    if (p->status[0] == ST(ACCEPTED))
        due = gen_due_time(gen_day_of(t), limit_days);
    p->at[0] = t;
    p->due[0] = due;
    for (int s = 1; s < p->steps; s++) {
        t = gen_plan_step(&r, p, s, t, &due, late);
        if (p->status[s] == ST(ACCEPTED) && !due)
            due = gen_due_time(gen_day_of(t), limit_days);
        p->at[s] = t;
        p->due[s] = due;
    }
    gen_plan_shift_back(p, e->base_us);
}

int gen_dossier_steps(const gen_entity_t *e)
{
    gen_dossier_plan_t p;
    gen_dossier_plan(e, &p);
    return p.steps;
}

/* ------------------------------------------------------------ the message */

/* The DossierStatus of a rule status, by name (as lt_validate maps back). */
static Lienthong__V1__DossierStatus gen_status_value(lt_dossier_status_t status)
{
    char name[64];
    snprintf(name, sizeof(name), "DOSSIER_STATUS_%s", lt_rule_status_name(status));
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value_by_name(
        &lienthong__v1__dossier_status__descriptor, name);
    return v ? (Lienthong__V1__DossierStatus)v->value
             : LIENTHONG__V1__DOSSIER_STATUS__DOSSIER_STATUS_UNSPECIFIED;
}

/* What the officer notes when the dossier enters status, or NULL. */
static const char *gen_status_note(lt_dossier_status_t status)
{
    switch (status) {
    case ST(SUPPLEMENT_REQUESTED):
        return "Đề nghị bổ sung giấy tờ theo quy định";
    case ST(FEE_REQUESTED):
        return "Đề nghị nộp lệ phí theo quy định";
    case ST(NOT_ACCEPTED):
        return "Hồ sơ không thuộc thẩm quyền giải quyết";
    case ST(WITHDRAWN):
        return "Người nộp hồ sơ đề nghị rút hồ sơ";
    case ST(PROCESSING_STOPPED):
        return "Không bổ sung hồ sơ trong thời hạn";
    default:
        return NULL;
    }
}

/* Who made the step: the applicant ("cong-dan") submitting online or
 * withdrawing, else the desk's account at the one-stop counter ("motcua")
 * or in the civil-status office ("hotich"). */
static char *gen_status_by(gen_arena_t *arena, const gen_desk_t *desk,
                           const gen_dossier_plan_t *p, lt_dossier_status_t status)
{
    if (status == ST(WITHDRAWN) ||
        (status == ST(NEW) && p->channel != GEN_CHANNEL(IN_PERSON)))
        return gen_arena_strdup(arena, "cong-dan");
    int counter = status == ST(NEW) || status == ST(ACCEPTED) ||
                  status == ST(NOT_ACCEPTED) || status == ST(RESULT_RETURNED);
    return gen_arena_printf(arena, "%s.%s.%02d", counter ? "motcua" : "hotich",
                            desk->place->commune, desk->index + 1);
}

static void gen_dossier_history(gen_arena_t *arena, const gen_desk_t *desk,
                                const gen_dossier_plan_t *p, int step,
                                Lienthong__V1__Dossier *d)
{
    d->n_history = (size_t)step + 1;
    d->history = gen_arena_alloc(arena, d->n_history * sizeof(*d->history));
    for (int s = 0; s <= step; s++) {
        Lienthong__V1__DossierStatusChange *h =
            gen_arena_msg(arena, &lienthong__v1__dossier_status_change__descriptor);
        const char *note = gen_status_note(p->status[s]);
        h->status = gen_status_value(p->status[s]);
        h->at_us = p->at[s];
        h->by = gen_status_by(arena, desk, p, p->status[s]);
        if (note)
            h->note = gen_arena_strdup(arena, note);
        d->history[s] = h;
    }
}

/* The applicant: a citizen, or for one dossier in fourteen a business that
 * sends someone. */
static Lienthong__V1__Applicant *gen_applicant(gen_arena_t *arena, const gen_place_t *pl,
                                               gen_rng_t *r, int64_t received_at)
{
    Lienthong__V1__Applicant *a =
        gen_arena_msg(arena, &lienthong__v1__applicant__descriptor);
    gen_person_t p;
    int32_t dob = gen_born(r, gen_day_of(received_at), 18, 75);
    gen_person(r, pl, &p, gen_chance(r, 500) ? LT_SEX_MALE : LT_SEX_FEMALE, dob, NULL);
    if (gen_chance(r, 70)) {
        unsigned code = gen_below(r, 1000000000);
        a->type = LIENTHONG__V1__APPLICANT_TYPE__APPLICANT_TYPE_BUSINESS;
        a->business_name = gen_arena_strdup(arena, GEN_PICK(r, business_names));
        a->id_number = gen_arena_printf(arena, "0%09u", code);
    } else {
        a->type = LIENTHONG__V1__APPLICANT_TYPE__APPLICANT_TYPE_CITIZEN;
        a->id_number = gen_arena_strdup(arena, p.id);
    }
    a->name = gen_person_name_msg(arena, &p);
    unsigned phone = gen_below(r, 10000000);
    a->phone = gen_arena_printf(arena, "%s%07u", GEN_PICK(r, phone_prefixes), phone);
    a->address = gen_arena_strdup(arena, p.residence);
    return a;
}

/* AAA.BB.CC.DDD-YYMMDD-NNNN: the commune's agency identifier, the receipt
 * date in Vietnam, the dossier's number; the desks number in turn. */
static char *gen_dossier_code(gen_arena_t *arena, const gen_desk_t *desk,
                              const gen_entity_t *e, int64_t received_at)
{
    const gen_place_t *pl = desk->place;
    lt_date_t rd = lt_rule_date_from_us(received_at, GEN_VN_UTC_OFFSET_S);
    unsigned number =
        1 + ((e->n - 1) * (unsigned)desk->writers + (unsigned)desk->index) % 9999;
    return gen_arena_printf(arena, "000.%.2s.%.2s.H%s-%02d%02d%02d-%04u", pl->commune + 1,
                            pl->commune + 3, pl->province, rd.year % 100, rd.month,
                            rd.day, number);
}

/* finished_at (processing ended: processed, or ended otherwise), returned_at
 * and timeliness as of step. */
static void gen_dossier_outcome(const gen_dossier_plan_t *p, int step,
                                Lienthong__V1__Dossier *d)
{
    int64_t processed = 0;
    for (int s = 0; s <= step; s++) {
        lt_dossier_status_t st = p->status[s];
        /* RESULT_RETURNED is terminal but comes after PROCESSED */
        if (!d->finished_at_us && (st == ST(PROCESSED) || lt_rule_status_terminal(st)))
            d->finished_at_us = p->at[s];
        if (st == ST(PROCESSED))
            processed = p->at[s];
        if (st == ST(RESULT_RETURNED))
            d->returned_at_us = p->at[s];
    }
    if (processed)
        d->timeliness =
            processed <= p->due[step]
                ? LIENTHONG__V1__DOSSIER_TIMELINESS__DOSSIER_TIMELINESS_ON_TIME
                : LIENTHONG__V1__DOSSIER_TIMELINESS__DOSSIER_TIMELINESS_LATE;
}

Lienthong__V1__Dossier *gen_dossier(gen_arena_t *arena, const gen_desk_t *desk,
                                    const gen_entity_t *e, int64_t *at)
{
    gen_dossier_plan_t p;
    gen_dossier_plan(e, &p);
    gen_rng_t r = gen_rng_for(e, 4);
    int step = e->step < p.steps ? e->step : p.steps - 1;
    Lienthong__V1__Dossier *d = gen_arena_msg(arena, &lienthong__v1__dossier__descriptor);
    d->dossier_code = gen_dossier_code(arena, desk, e, p.at[0]);
    d->procedure_code = gen_arena_strdup(arena, gen_procedures[p.procedure].code);
    d->receiving_agency = gen_arena_printf(arena, "UBND %s", desk->place->commune_name);
    d->applicant = gen_applicant(arena, desk->place, &r, p.at[0]);
    d->status = gen_status_value(p.status[step]);
    d->channel = p.channel;
    d->received_at_us = p.at[0];
    d->due_at_us = p.due[step];
    gen_dossier_outcome(&p, step, d);
    gen_dossier_history(arena, desk, &p, step, d);
    *at = p.at[step];
    return d;
}

/* ------------------------------------------------------------ self-check */

/* Path i (from NEW, or at the desk from ACCEPTED) against the rules. */
static int gen_check_path(size_t i, int at_desk, char *errstr, size_t errstr_size)
{
    lt_dossier_status_t path[GEN_MAX_STEPS];
    lt_dossier_step_t steps[GEN_MAX_STEPS];
    char why[256];
    size_t n = gen_dossier_path(i, path), skip = at_desk ? 1 : 0;
    for (size_t s = skip; s < n; s++) {
        steps[s - skip] = (lt_dossier_step_t){path[s], (int64_t)s};
        if (gen_status_value(path[s]) ==
            LIENTHONG__V1__DOSSIER_STATUS__DOSSIER_STATUS_UNSPECIFIED)
            return lt_err(errstr, errstr_size,
                          "dossier path %zu: status %s has no DossierStatus", i,
                          lt_rule_status_name(path[s]));
    }
    if (lt_rule_dossier_history(steps, n - skip, why, sizeof(why)) != LT_RULE_OK)
        return lt_err(errstr, errstr_size, "dossier path %zu%s: %s", i,
                      at_desk ? " (at the desk)" : "", why);
    if (!lt_rule_status_terminal(path[n - 1]))
        return lt_err(errstr, errstr_size,
                      "dossier path %zu ends at %s, not a final status", i,
                      lt_rule_status_name(path[n - 1]));
    return 0;
}

int gen_dossier_check_paths(char *errstr, size_t errstr_size)
{
    for (size_t i = 0; i < GEN_COUNT(gen_paths); i++) {
        if (gen_check_path(i, 0, errstr, errstr_size) != 0)
            return -1;
        if (lt_rule_status_received(gen_paths[i].steps[1]) &&
            gen_check_path(i, 1, errstr, errstr_size) != 0)
            return -1;
    }
    return 0;
}
