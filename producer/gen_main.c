/* lienthong-gen — realistic commune activity written into a commune outbox.
 *
 * Several writer threads, each with its own connection, insert civil records
 * and dossiers with their outbox rows in transactions of a few rows. Writers
 * hold some transactions open while others commit, so rows commit out of id
 * order — exactly what the agent must never skip. Each writer owns its
 * entities, so versions rise without coordination: civil-status facts are
 * registered, dossiers move through statuses, some records are deleted.
 *
 * The payloads follow the whole model of proto/lienthong/v1/lienthong.proto:
 *   - all eight civil-record kinds, births most, then deaths, marriages and
 *     marital-status confirmations, a few of the rest;
 *   - dossiers along the National Public Service Portal's status paths (most
 *     NEW -> ACCEPTED -> IN_PROCESS -> PROCESSED -> RESULT_RETURNED, from ACCEPTED
 *     when received at the desk; some ask for documents or fees, some are not
 *     accepted, withdrawn or stopped), with a channel, an applicant and their
 *     timeliness, and passing the status table of common/lt_rules.c;
 *   - nothing dated after the moment it is written; times in office hours on
 *     working days (online submissions 07:00-24:00), Vietnam time, so that an
 *     instant's UTC date is also its Vietnam date; births within 60 days of
 *     registration, some late; 12-digit personal IDs that agree with the
 *     person's sex and year of birth; dossier codes AAA.BB.CC.DDD-YYMMDD-NNNN
 *     whose date is the receipt date.
 * Everything about an entity comes from its own seed and creation time, so
 * each version of it tells the same story, one status further. */
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "lt_buf.h"
#include "lt_units.h"
#include "lt_util.h"

typedef struct gen_opts {
    const char *postgres;
    const char *commune;
    long events;
    int writers;
    int max_rows_per_tx;
    int hold_ms;   /* how long a "slow" transaction stays open */
    double rate;   /* events/s over all writers; 0 = as fast as possible */
    unsigned seed;
    int quiet;
} gen_opts_t;

/* Where the commune is: from the unit list, or plain defaults without it. */
typedef struct gen_place {
    const char *commune;       /* "00004" */
    const char *commune_name;  /* "Phường Ba Đình" */
    const char *province;      /* "01" */
    const char *province_name; /* "Thành phố Hà Nội" */
    int rural;                 /* a "Xã": addresses by hamlet (thôn) */
    const lt_unit_t **nearby;  /* the province's communes (places of birth, death) */
    size_t n_nearby;
} gen_place_t;

enum gen_kind {
    GEN_BIRTH,
    GEN_DEATH,
    GEN_MARRIAGE,
    GEN_RECOGNITION,
    GEN_GUARDIANSHIP,
    GEN_AMENDMENT,
    GEN_MARITAL_STATUS,
    GEN_ANNOTATION,
    GEN_DOSSIER
};

static const struct {
    const char *id;   /* in entity ids */
    const char *kind; /* CivilRecordKind */
    unsigned weight;  /* per 1000 new civil records */
} gen_civil[GEN_DOSSIER] = {
    [GEN_BIRTH] = {"birth", "CIVIL_RECORD_KIND_BIRTH", 420},
    [GEN_DEATH] = {"death", "CIVIL_RECORD_KIND_DEATH", 200},
    [GEN_MARRIAGE] = {"marriage", "CIVIL_RECORD_KIND_MARRIAGE", 140},
    [GEN_MARITAL_STATUS] = {"marital", "CIVIL_RECORD_KIND_MARITAL_STATUS", 120},
    [GEN_AMENDMENT] = {"amendment", "CIVIL_RECORD_KIND_AMENDMENT", 60},
    [GEN_RECOGNITION] = {"recognition", "CIVIL_RECORD_KIND_RECOGNITION", 30},
    [GEN_ANNOTATION] = {"annotation", "CIVIL_RECORD_KIND_ANNOTATION", 20},
    [GEN_GUARDIANSHIP] = {"guardianship", "CIVIL_RECORD_KIND_GUARDIANSHIP", 10},
};

typedef struct gen_entity {
    uint8_t kind;  /* enum gen_kind */
    uint8_t step;  /* dossier: index of its current status in its path */
    uint8_t steps; /* dossier: length of its path */
    uint8_t deleted;
    uint32_t n; /* per-writer number, part of the id */
    uint32_t version;
    uint32_t seed;   /* the entity's content derives from seed, n and base_us */
    uint32_t target; /* amendment: n of the birth it amends, 0 = an old paper record */
    int64_t base_us; /* wall clock at creation: nothing in the entity is later */
} gen_entity_t;

typedef struct gen_writer {
    const gen_opts_t *opts;
    const gen_place_t *place;
    int index;
    long quota;
    unsigned rng;
    PGconn *pg;
    gen_entity_t *entities;
    size_t n_entities, cap_entities;
    uint32_t *open; /* indexes of dossiers still under way, oldest first from open_head */
    size_t open_head, n_open, cap_open;
    long written, upserts, deletes, txs;
    char officer[64]; /* công chức tư pháp - hộ tịch of this writer */
    char signer[64];  /* who signs for the People's Committee */
    char error[512];
} gen_writer_t;

/* ------------------------------------------------------------------ random */

/* The writer's choices: what happens next. */
static unsigned gen_rand(gen_writer_t *w)
{
    w->rng = w->rng * 1103515245u + 12345u;
    return (w->rng >> 8) & 0xffffff;
}

/* An entity's content: splitmix64, seeded from the entity. */
typedef struct gen_rng {
    uint64_t s;
} gen_rng_t;

static uint32_t gen_next(gen_rng_t *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return (uint32_t)((z ^ (z >> 31)) >> 32);
}

/* Uniform in [0, n). */
static unsigned gen_below(gen_rng_t *r, unsigned n)
{
    return (unsigned)(((uint64_t)gen_next(r) * n) >> 32);
}

/* Uniform in [lo, hi]. */
static int gen_between(gen_rng_t *r, int lo, int hi)
{
    return lo + (int)gen_below(r, (unsigned)(hi - lo + 1));
}

/* True with probability permille/1000. */
static int gen_chance(gen_rng_t *r, unsigned permille)
{
    return gen_below(r, 1000) < permille;
}

static gen_rng_t gen_rng_for(const gen_entity_t *e, uint64_t salt)
{
    gen_rng_t r = {((uint64_t)e->seed << 32 | e->n) ^ (salt * 0xD1B54A32D192ED03u)};
    return r;
}

#define GEN_COUNT(arr)   (sizeof(arr) / sizeof(*(arr)))
#define GEN_PICK(r, arr) (arr)[gen_below((r), (unsigned)GEN_COUNT(arr))]

/* ------------------------------------------------------------------ calendar */

#define GEN_MIN_US  ((int64_t)60 * 1000000)
#define GEN_HOUR_US (60 * GEN_MIN_US)
#define GEN_DAY_US  (24 * GEN_HOUR_US)
/* Vietnam is UTC+7: office hours 07:30-17:00 are 00:30-10:00 UTC, and any
 * time 07:00-24:00 in Vietnam falls on the same date in UTC. */
#define GEN_OFFICE_OPEN_US  (30 * GEN_MIN_US)
#define GEN_OFFICE_CLOSE_US (10 * GEN_HOUR_US)
#define GEN_EVENING_END_US  (17 * GEN_HOUR_US - GEN_MIN_US)

typedef struct gen_date {
    int y;
    unsigned m, d;
} gen_date_t;

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
static int32_t gen_days(int y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int32_t)doe - 719468;
}

static gen_date_t gen_date(int32_t z)
{
    z += 719468;
    int era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return (gen_date_t){(int)yoe + era * 400 + (m <= 2), m, doy - (153 * mp + 2) / 5 + 1};
}

static int32_t gen_day_of(int64_t us)
{
    return (int32_t)(us / GEN_DAY_US);
}

static int gen_is_weekend(int32_t day)
{
    int wd = (int)(((day % 7) + 7 + 4) % 7); /* 0 = Sunday; 1970-01-01 was a Thursday */
    return wd == 0 || wd == 6;
}

static int32_t gen_workday_back(int32_t day)
{
    while (gen_is_weekend(day))
        day--;
    return day;
}

static int32_t gen_workdays_after(int32_t day, int n)
{
    while (n > 0 || gen_is_weekend(day)) {
        day++;
        if (!gen_is_weekend(day))
            n--;
    }
    return day;
}

/* A random office-hours instant on the working day `day`, or on the nearest
 * earlier one, never after not_after. */
static int64_t gen_office_time(gen_rng_t *r, int32_t day, int64_t not_after)
{
    int64_t span = (GEN_OFFICE_CLOSE_US - GEN_OFFICE_OPEN_US) / GEN_MIN_US;
    int64_t t;
    for (day = gen_workday_back(day);; day = gen_workday_back(day - 1)) {
        t = (int64_t)day * GEN_DAY_US + GEN_OFFICE_OPEN_US +
            (int64_t)gen_below(r, (unsigned)span) * GEN_MIN_US;
        if (t <= not_after)
            return t;
    }
}

/* An office-hours instant 0..max_days working days after t, later than t. */
static int64_t gen_office_after(gen_rng_t *r, int64_t t, int min_days, int max_days)
{
    int32_t day = gen_workdays_after(gen_day_of(t), gen_between(r, min_days, max_days));
    int64_t open = (int64_t)day * GEN_DAY_US + GEN_OFFICE_OPEN_US;
    int64_t close = (int64_t)day * GEN_DAY_US + GEN_OFFICE_CLOSE_US;
    if (open <= t)
        open = t + 5 * GEN_MIN_US;
    if (open >= close) { /* no time left that day: the next working day */
        day = gen_workdays_after(day, 1);
        open = (int64_t)day * GEN_DAY_US + GEN_OFFICE_OPEN_US;
        close = (int64_t)day * GEN_DAY_US + GEN_OFFICE_CLOSE_US;
    }
    return open +
           (int64_t)gen_below(r, (unsigned)((close - open) / GEN_MIN_US)) * GEN_MIN_US;
}

/* ------------------------------------------------------------------ people */

static const char *const family_names[] = {
    "Nguyễn", "Nguyễn", "Nguyễn", "Trần",  "Trần", "Lê",  "Lê", "Phạm", "Hoàng",
    "Huỳnh",  "Phan",   "Vũ",     "Võ",    "Đặng", "Bùi", "Đỗ", "Hồ",   "Ngô",
    "Dương",  "Lý",     "Đinh",   "Trịnh", "Đào",  "Mai", "Tạ", "Lương"};
static const char *const middle_m[] = {"Văn",   "Văn",  "Hữu",  "Đức", "Minh", "Quang",
                                       "Thành", "Công", "Quốc", "Gia", "Tuấn", "Xuân"};
static const char *const middle_f[] = {"Thị", "Thị",     "Thị",   "Ngọc",
                                       "Thu", "Minh",    "Thanh", "Kim",
                                       "Bảo", "Thị Thu", "Khánh", "Phương"};
static const char *const given_m[] = {"An",   "Bình", "Dũng",  "Hải",  "Hùng", "Khánh",
                                      "Long", "Nam",  "Phúc",  "Quân", "Sơn",  "Trung",
                                      "Tuấn", "Hoà",  "Minh",  "Đức",  "Khôi", "Bảo",
                                      "Huy",  "Việt", "Thắng", "Cường"};
static const char *const given_f[] = {"Châu", "Giang", "Hà",    "Hạnh",   "Hương", "Lan",
                                      "Linh", "Mai",   "Ngân",  "Phương", "Tâm",   "Thảo",
                                      "Thuỷ", "Trang", "Vy",    "Yến",    "An",    "Anh",
                                      "Chi",  "Hoa",   "Nhung", "Ánh"};
/* ISO 3166-1 alpha-2 code and a name as written on a foreigner's papers. */
static const struct {
    const char *country, *male, *female;
} foreign_names[] = {
    {"KR", "Kim Min Jun", "Park Ji Yeon"}, {"CN", "Wang Wei", "Li Na"},
    {"JP", "Sato Haruto", "Suzuki Yui"},   {"TW", "Chen Jian Hong", "Lin Mei Ling"},
    {"US", "John Smith", "Emily Johnson"}, {"FR", "Pierre Martin", "Claire Dubois"}};
/* National list of ethnic groups: 01 Kinh, 02 Tày, 03 Thái, 04 Hoa, 05 Khơ-me,
 * 06 Mường, 07 Nùng, 08 Hmông, 09 Dao. */
static const char *const ethnic_minorities[] = {"02", "03", "04", "05",
                                                "06", "07", "08", "09"};
/* Province codes (before the 2025 merger) personal IDs of older people carry. */
static const char *const id_provinces[] = {
    "001", "002", "004", "006", "008", "010", "011", "012", "014", "015", "017",
    "019", "020", "022", "024", "025", "026", "027", "030", "031", "033", "034",
    "035", "036", "037", "038", "040", "042", "044", "045", "046", "048", "049",
    "051", "052", "054", "056", "058", "060", "062", "064", "066", "067", "068",
    "070", "072", "074", "075", "077", "079", "080", "082", "083", "084", "086",
    "087", "089", "091", "092", "093", "094", "095", "096"};
static const char *const streets[] = {
    "Lê Lợi",         "Trần Phú",     "Hùng Vương", "Nguyễn Trãi", "Quang Trung",
    "Lý Thường Kiệt", "Hai Bà Trưng", "Lê Duẩn",    "Nguyễn Du",   "Phan Chu Trinh"};

enum { GEN_MALE = 1, GEN_FEMALE = 2 };

typedef struct gen_person {
    const char *family, *middle, *given; /* NULL for a foreign name */
    const char *foreign;                 /* the name in full, for a foreigner */
    int sex;
    int32_t dob;
    int dob_precision; /* 1 year, 2 year and month, 3 full date */
    char id[13];       /* empty for foreigners */
    const char *ethnicity;
    const char *nationality;
    char residence[192];
} gen_person_t;

/* The commune's place in the addresses: its name, then the province's. */
static void gen_address(gen_rng_t *r, const gen_place_t *pl, char *out, size_t size)
{
    if (pl->rural)
        snprintf(out, size, "Thôn %d, %s, %s", gen_between(r, 1, 18), pl->commune_name,
                 pl->province_name);
    else if (gen_chance(r, 500))
        snprintf(out, size, "Số %d đường %s, %s, %s", gen_between(r, 1, 240),
                 GEN_PICK(r, streets), pl->commune_name, pl->province_name);
    else
        snprintf(out, size, "Số %d, ngõ %d, tổ dân phố %d, %s, %s", gen_between(r, 1, 80),
                 gen_between(r, 1, 120), gen_between(r, 1, 30), pl->commune_name,
                 pl->province_name);
}

/* Personal ID: province of birth registration, century and sex, year, 6 digits. */
static void gen_personal_id(gen_rng_t *r, const char *province3, int sex, int year,
                            char out[13])
{
    unsigned serial = gen_below(r, 1000000), yy = (unsigned)year % 100;
    memcpy(out, province3, 3);
    out[3] = (char)('0' + (year >= 2000 ? 2 : 0) + (sex == GEN_FEMALE));
    out[4] = (char)('0' + yy / 10);
    out[5] = (char)('0' + yy % 10);
    for (int i = 11; i >= 6; i--, serial /= 10)
        out[i] = (char)('0' + serial % 10);
    out[12] = '\0';
}

/* A Vietnamese citizen of this sex born on day dob; family NULL = any. */
static void gen_person(gen_rng_t *r, const gen_place_t *pl, gen_person_t *p, int sex,
                       int32_t dob, const char *family)
{
    char local[4];
    memset(p, 0, sizeof(*p));
    p->sex = sex;
    p->family = family ? family : GEN_PICK(r, family_names);
    p->middle = sex == GEN_MALE ? GEN_PICK(r, middle_m) : GEN_PICK(r, middle_f);
    p->given = sex == GEN_MALE ? GEN_PICK(r, given_m) : GEN_PICK(r, given_f);
    p->dob = dob;
    p->dob_precision = 3;
    p->ethnicity = gen_chance(r, 880) ? "01" : GEN_PICK(r, ethnic_minorities);
    p->nationality = "VN";
    snprintf(local, sizeof(local), "0%.2s", pl->province);
    gen_personal_id(r, gen_chance(r, 750) ? local : GEN_PICK(r, id_provinces), sex,
                    gen_date(dob).y, p->id);
    gen_address(r, pl, p->residence, sizeof(p->residence));
}

/* A foreign national: a name in full, no personal ID. */
static void gen_foreigner(gen_rng_t *r, gen_person_t *p, int sex, int32_t dob)
{
    unsigned i = gen_below(r, (unsigned)GEN_COUNT(foreign_names));
    memset(p, 0, sizeof(*p));
    p->sex = sex;
    p->foreign = sex == GEN_MALE ? foreign_names[i].male : foreign_names[i].female;
    p->dob = dob;
    p->dob_precision = 3;
    p->nationality = foreign_names[i].country;
}

/* A day of birth for someone aged age_lo..age_hi on day `on`. */
static int32_t gen_born(gen_rng_t *r, int32_t on, int age_lo, int age_hi)
{
    return on - (int32_t)(age_lo * 365 +
                          gen_below(r, (unsigned)((age_hi - age_lo + 1) * 365)));
}

static void gen_partial_date(lt_buf_t *b, const char *key, int32_t day, int precision)
{
    gen_date_t d = gen_date(day);
    if (precision <= 1)
        lt_buf_printf(b, "\"%s\":{\"year\":%d}", key, d.y);
    else if (precision == 2)
        lt_buf_printf(b, "\"%s\":{\"year\":%d,\"month\":%u}", key, d.y, d.m);
    else
        lt_buf_printf(b, "\"%s\":{\"year\":%d,\"month\":%u,\"day\":%u}", key, d.y, d.m,
                      d.d);
}

static void gen_person_name(lt_buf_t *b, const gen_person_t *p)
{
    if (p->foreign)
        lt_buf_printf(b, "\"name\":{\"full\":\"%s\"}", p->foreign);
    else
        lt_buf_printf(b,
                      "\"name\":{\"family\":\"%s\",\"middle\":\"%s\",\"given\":\"%s\","
                      "\"full\":\"%s %s %s\"}",
                      p->family, p->middle, p->given, p->family, p->middle, p->given);
}

static void gen_person_json(lt_buf_t *b, const char *key, const gen_person_t *p)
{
    lt_buf_printf(b, "\"%s\":{", key);
    gen_person_name(b, p);
    lt_buf_puts(b, ",");
    gen_partial_date(b, "dateOfBirth", p->dob, p->dob_precision);
    lt_buf_printf(b, ",\"sex\":\"%s\"", p->sex == GEN_MALE ? "SEX_MALE" : "SEX_FEMALE");
    if (p->id[0])
        lt_buf_printf(b, ",\"personalId\":\"%s\"", p->id);
    if (p->ethnicity)
        lt_buf_printf(b, ",\"ethnicity\":\"%s\"", p->ethnicity);
    lt_buf_printf(b, ",\"nationality\":\"%s\"", p->nationality);
    if (p->residence[0])
        lt_buf_printf(b, ",\"residence\":\"%s\"", p->residence);
    lt_buf_puts(b, "}");
}

/* A commune of the province: the commune itself most of the time. */
static const char *gen_nearby(gen_rng_t *r, const gen_place_t *pl, unsigned permille_here,
                              const char **name)
{
    if (pl->n_nearby == 0 || gen_chance(r, permille_here)) {
        *name = pl->commune_name;
        return pl->commune;
    }
    const lt_unit_t *u = pl->nearby[gen_below(r, (unsigned)pl->n_nearby)];
    *name = u->full_name;
    return u->code;
}

static void gen_admin_unit(lt_buf_t *b, const char *key, const char *code)
{
    lt_buf_printf(b,
                  "\"%s\":{\"code\":\"%s\",\"codeListVersion\":\"2025-07-01\","
                  "\"level\":\"ADMIN_UNIT_LEVEL_COMMUNE\"}",
                  key, code);
}

/* ------------------------------------------------------------------ civil records */

/* When a civil record was entered: a working day up to ten days before the
 * entity was written (paper records are typed in later), in office hours.
 * From the entity alone, so a record referring to it finds the same. */
static int64_t gen_registered_at(const gen_entity_t *e)
{
    gen_rng_t r = gen_rng_for(e, 1);
    int32_t day = gen_day_of(e->base_us) - (int32_t)gen_below(&r, 11);
    return gen_office_time(&r, day, e->base_us);
}

static void gen_registration(lt_buf_t *b, const gen_writer_t *w, const gen_entity_t *e,
                             int32_t day, const char *kind)
{
    lt_buf_printf(b,
                  "\"registration\":{\"authority\":\"%s\",\"bookNumber\":\"%02d/%d\","
                  "\"entryNumber\":\"%u\",",
                  w->place->commune, w->index + 1, gen_date(day).y, e->n);
    gen_partial_date(b, "registeredOn", day, 3);
    lt_buf_printf(b, ",\"officer\":\"%s\",\"signer\":\"%s\",\"kind\":\"%s\"}", w->officer,
                  w->signer, kind);
}

/* Who a birth registration is about. Drawn first from the record's own
 * random stream, so an amendment can find the facts of the birth it corrects. */
typedef struct gen_birth_facts {
    gen_person_t child, mother, father;
    unsigned c; /* birth case, per 1000: normal, parents unknown, abandoned, surrogacy */
    int has_mother, has_father;
    const char *reg_kind;
} gen_birth_facts_t;

static void gen_birth_facts(gen_rng_t *r, const gen_place_t *pl, int32_t reg_day,
                            gen_birth_facts_t *f)
{
    const int32_t first_birth_day = gen_days(2025, 1, 1); /* births are 2025-2026 */
    int32_t delay = (int32_t)(gen_below(r, 61) < gen_below(r, 61) ? gen_below(r, 31)
                                                                  : gen_below(r, 61));
    f->reg_kind = "REGISTRATION_KIND_NEW";
    if (gen_chance(r, 90) && reg_day - first_birth_day > 61) { /* late: over 60 days */
        int32_t max = reg_day - first_birth_day;
        delay = 61 + (int32_t)gen_below(r, (unsigned)(max > 600 ? 600 - 61 : max - 61));
        f->reg_kind = "REGISTRATION_KIND_LATE";
    }
    int32_t dob = reg_day - delay;
    f->c = gen_below(r, 1000);
    f->has_mother = f->c < 990 || f->c >= 997;
    f->has_father = f->c < 965 || f->c >= 997;
    int32_t mother_dob = gen_born(r, dob, 18, 30) - (int32_t)gen_below(r, 12 * 365);
    gen_person(r, pl, &f->mother, GEN_FEMALE, mother_dob, NULL);
    f->mother.dob_precision = gen_chance(r, 500) ? 1 : 3; /* often the year only */
    if (gen_chance(r, 8))
        gen_foreigner(r, &f->father, GEN_MALE, mother_dob - gen_between(r, -700, 3000));
    else
        gen_person(r, pl, &f->father, GEN_MALE, mother_dob - gen_between(r, -700, 3000),
                   NULL);
    f->father.dob_precision = f->mother.dob_precision;
    if (f->father.foreign || gen_chance(r, 850)) /* they live together */
        lt_strlcpy(f->father.residence, f->mother.residence, sizeof(f->father.residence));
    const char *family = f->has_father && f->father.family && gen_chance(r, 950)
                             ? f->father.family
                             : f->mother.family;
    gen_person(r, pl, &f->child, gen_chance(r, 512) ? GEN_MALE : GEN_FEMALE, dob, family);
    char local[4];
    snprintf(local, sizeof(local), "0%.2s", pl->province);
    gen_personal_id(r, local, f->child.sex, gen_date(dob).y,
                    f->child.id); /* issued here */
    f->child.ethnicity = f->has_mother ? f->mother.ethnicity : "01";
    lt_strlcpy(f->child.residence, f->mother.residence, sizeof(f->child.residence));
}

static void gen_birth(lt_buf_t *b, gen_rng_t *r, const gen_writer_t *w,
                      const gen_entity_t *e, int32_t reg_day)
{
    const gen_place_t *pl = w->place;
    gen_birth_facts_t facts;
    gen_birth_facts(r, pl, reg_day, &facts);
    unsigned c = facts.c;
    const char *birth_case = c < 965   ? "BIRTH_CASE_NORMAL"
                             : c < 990 ? "BIRTH_CASE_PARENTS_UNKNOWN"
                             : c < 997 ? "BIRTH_CASE_ABANDONED_CHILD"
                                       : "BIRTH_CASE_SURROGACY";
    int has_mother = facts.has_mother, has_father = facts.has_father;
    const char *reg_kind = facts.reg_kind;
    const gen_person_t *child = &facts.child, *mother = &facts.mother,
                       *father = &facts.father;

    gen_registration(b, w, e, reg_day, reg_kind);
    lt_buf_puts(b, ",\"birth\":{");
    gen_person_json(b, "child", child);
    if (has_mother) {
        lt_buf_puts(b, ",");
        gen_person_json(b, "mother", mother);
    }
    if (has_father) {
        lt_buf_puts(b, ",");
        gen_person_json(b, "father", father);
    }
    const char *place_name;
    const char *place = gen_nearby(r, pl, 700, &place_name);
    lt_buf_puts(b, ",");
    gen_admin_unit(b, "place", place);
    if (c >= 990 && c < 997)
        lt_buf_printf(b, ",\"placeDetail\":\"Trẻ bị bỏ rơi, được tìm thấy tại %s\"",
                      place_name);
    else if (gen_chance(r, 300))
        lt_buf_printf(b, ",\"placeDetail\":\"Trạm Y tế %s\"", place_name);
    else
        lt_buf_printf(b, ",\"placeDetail\":\"Bệnh viện Sản Nhi %s\"", pl->province_name);
    if (c < 990 || c >= 997)
        lt_buf_printf(b, ",\"birthCertificateNumber\":\"%05u/GCS\"",
                      gen_below(r, 100000));
    lt_buf_printf(b, ",\"birthCase\":\"%s\"}", birth_case);
}

static void gen_death(lt_buf_t *b, gen_rng_t *r, const gen_writer_t *w,
                      const gen_entity_t *e, int32_t reg_day)
{
    static const char *const causes[] = {"Tuổi cao, sức yếu",
                                         "Bệnh tim mạch",
                                         "Đột quỵ",
                                         "Ung thư",
                                         "Bệnh phổi tắc nghẽn mạn tính",
                                         "Suy thận",
                                         "Tai nạn giao thông",
                                         "Bệnh"};
    unsigned k = gen_below(r, 1000);
    int32_t dod;
    int precision = 3;
    const char *reg_kind;
    if (k < 900) { /* within the 15 days the law gives */
        dod = reg_day - (int32_t)gen_below(r, 16);
        reg_kind = "REGISTRATION_KIND_NEW";
    } else if (k < 980) {
        dod = reg_day - 16 - (int32_t)gen_below(r, 350);
        reg_kind = "REGISTRATION_KIND_LATE";
    } else { /* the book was lost: registered again years later */
        dod = reg_day - 365 * gen_between(r, 3, 40) - (int32_t)gen_below(r, 365);
        precision = gen_chance(r, 400) ? 2 : 3;
        reg_kind = "REGISTRATION_KIND_RE_REGISTRATION";
    }
    int age = gen_chance(r, 150) ? gen_between(r, 30, 64) : gen_between(r, 65, 99);
    gen_person_t p;
    gen_person(r, w->place, &p, gen_chance(r, 520) ? GEN_MALE : GEN_FEMALE,
               gen_born(r, dod, age, age), NULL);
    p.dob_precision = gen_chance(r, 250) ? 1 : 3;
    if (gen_date(dod).y < 2016) /* died before personal IDs were issued to all */
        p.id[0] = '\0';
    gen_registration(b, w, e, reg_day, reg_kind);
    lt_buf_puts(b, ",\"death\":{");
    gen_person_json(b, "deceased", &p);
    lt_buf_puts(b, ",");
    gen_partial_date(b, "dateOfDeath", dod, precision);
    const char *place_name;
    const char *place = gen_nearby(r, w->place, 700, &place_name);
    lt_buf_puts(b, ",");
    gen_admin_unit(b, "place", place);
    lt_buf_printf(b, ",\"cause\":\"%s\",\"deathNoticeNumber\":\"%04u/GBT\"",
                  GEN_PICK(r, causes), gen_below(r, 10000));
    if (gen_chance(r, 600))
        lt_buf_puts(b, ",\"placeDetail\":\"Tại nhà riêng\"}");
    else
        lt_buf_printf(b, ",\"placeDetail\":\"Bệnh viện Đa khoa %s\"}",
                      w->place->province_name);
}

static void gen_marriage(lt_buf_t *b, gen_rng_t *r, const gen_writer_t *w,
                         const gen_entity_t *e, int32_t reg_day)
{
    int32_t married = reg_day;
    const char *reg_kind = "REGISTRATION_KIND_NEW";
    if (gen_chance(r, 30)) {
        married = reg_day - 365 * gen_between(r, 8, 45) - (int32_t)gen_below(r, 365);
        reg_kind = "REGISTRATION_KIND_RE_REGISTRATION";
    }
    gen_person_t husband, wife;
    gen_person(r, w->place, &husband, GEN_MALE, gen_born(r, married, 20, 38), NULL);
    if (gen_chance(r, 15))
        gen_foreigner(r, &wife, GEN_FEMALE, gen_born(r, married, 20, 35));
    else
        gen_person(r, w->place, &wife, GEN_FEMALE, gen_born(r, married, 18, 35), NULL);
    if (gen_chance(r, 300)) /* after the wedding they live together */
        lt_strlcpy(wife.residence, husband.residence, sizeof(wife.residence));
    gen_registration(b, w, e, reg_day, reg_kind);
    lt_buf_puts(b, ",\"marriage\":{");
    gen_person_json(b, "husband", &husband);
    lt_buf_puts(b, ",");
    gen_person_json(b, "wife", &wife);
    lt_buf_puts(b, ",");
    gen_partial_date(b, "marriedOn", married, 3);
    lt_buf_puts(b, ",");
    gen_admin_unit(b, "place", w->place->commune);
    lt_buf_puts(b, "}");
}

static void gen_recognition(lt_buf_t *b, gen_rng_t *r, const gen_writer_t *w,
                            const gen_entity_t *e, int32_t reg_day)
{
    unsigned k = gen_below(r, 100);
    const char *relation = k < 80   ? "RECOGNITION_RELATION_CHILD"
                           : k < 95 ? "RECOGNITION_RELATION_FATHER"
                                    : "RECOGNITION_RELATION_MOTHER";
    gen_person_t parent, child;
    int32_t child_dob = gen_born(r, reg_day, 0, k < 80 ? 12 : 40);
    gen_person(r, w->place, &parent, k < 95 ? GEN_MALE : GEN_FEMALE,
               gen_born(r, child_dob, 20, 45), NULL);
    gen_person(r, w->place, &child, gen_chance(r, 500) ? GEN_MALE : GEN_FEMALE, child_dob,
               NULL);
    gen_registration(b, w, e, reg_day, "REGISTRATION_KIND_NEW");
    lt_buf_puts(b, ",\"recognition\":{");
    gen_person_json(b, "parent", &parent);
    lt_buf_puts(b, ",");
    gen_person_json(b, "child", &child);
    lt_buf_printf(b, ",\"relation\":\"%s\"}", relation);
}

static void gen_guardianship(lt_buf_t *b, gen_rng_t *r, const gen_writer_t *w,
                             const gen_entity_t *e, int32_t reg_day)
{
    unsigned k = gen_below(r, 100);
    const char *action = k < 70   ? "GUARDIANSHIP_ACTION_REGISTER"
                         : k < 90 ? "GUARDIANSHIP_ACTION_END"
                                  : "GUARDIANSHIP_ACTION_CHANGE";
    int by_law = gen_chance(r, 600), minor = gen_chance(r, 850);
    const char *reason =
        k < 70 ? (minor ? "Cha, mẹ của người được giám hộ đều đã chết"
                        : "Người được giám hộ bị mất năng lực hành vi dân sự")
        : k < 90
            ? (minor ? "Người được giám hộ đã thành niên" : "Người được giám hộ đã chết")
            : "Người giám hộ không còn đủ điều kiện làm người giám hộ";
    gen_person_t guardian, ward, previous;
    int32_t ward_dob = !minor ? gen_born(r, reg_day, 20, 70)
                       : k >= 70 && k < 90
                           ? gen_born(r, reg_day, 18, 18) /* came of age */
                           : gen_born(r, reg_day, 1, 17);
    gen_person(r, w->place, &ward, gen_chance(r, 500) ? GEN_MALE : GEN_FEMALE, ward_dob,
               NULL);
    gen_person(r, w->place, &guardian, gen_chance(r, 450) ? GEN_MALE : GEN_FEMALE,
               gen_born(r, reg_day, 25, 70), by_law ? ward.family : NULL);
    gen_registration(b, w, e, reg_day, "REGISTRATION_KIND_NEW");
    lt_buf_puts(b, ",\"guardianship\":{");
    gen_person_json(b, "guardian", &guardian);
    lt_buf_puts(b, ",");
    gen_person_json(b, "ward", &ward);
    lt_buf_printf(b, ",\"type\":\"%s\",\"action\":\"%s\",\"reason\":\"%s\"",
                  by_law ? "GUARDIANSHIP_TYPE_BY_LAW" : "GUARDIANSHIP_TYPE_APPOINTED",
                  action, reason);
    if (k >= 90) {
        gen_person(r, w->place, &previous, gen_chance(r, 300) ? GEN_MALE : GEN_FEMALE,
                   gen_born(r, reg_day, 65, 90), by_law ? ward.family : NULL);
        lt_buf_puts(b, ",");
        gen_person_json(b, "previousGuardian", &previous);
    }
    lt_buf_puts(b, "}");
}

/* A record an amendment or annotation refers to: one this writer registered
 * earlier (then found again from its entity: returned), or an old paper one. */
static const gen_entity_t *gen_record_ref(lt_buf_t *b, gen_rng_t *r,
                                          const gen_writer_t *w, const gen_entity_t *e,
                                          int kind, int32_t before, int32_t *target_day)
{
    const gen_entity_t *t = e->target ? &w->entities[e->target - 1] : NULL;
    int32_t day = t ? gen_day_of(gen_registered_at(t)) : 0;
    lt_buf_puts(b, "\"target\":{");
    if (t && t->kind == kind && day < before) {
        lt_buf_printf(
            b,
            "\"entityId\":\"%s-%s-s%u-w%d-%u\",\"kind\":\"%s\",\"authority\":\"%s\","
            "\"bookNumber\":\"%02d/%d\",\"entryNumber\":\"%u\",",
            w->place->commune, gen_civil[t->kind].id, w->opts->seed, w->index, t->n,
            gen_civil[t->kind].kind, w->place->commune, w->index + 1, gen_date(day).y,
            t->n);
    } else {
        t = NULL;
        day = gen_workday_back(before - 365 * gen_between(r, 2, 35) -
                               (int32_t)gen_below(r, 365));
        lt_buf_printf(b,
                      "\"kind\":\"%s\",\"authority\":\"%s\",\"bookNumber\":\"%02d/%d\","
                      "\"entryNumber\":\"%d\",",
                      gen_civil[kind].kind, w->place->commune, gen_between(r, 1, 3),
                      gen_date(day).y, gen_between(r, 1, 400));
    }
    gen_partial_date(b, "registeredOn", day, 3);
    lt_buf_puts(b, "}");
    *target_day = day;
    return t;
}

/* A given name of this sex other than `not`. */
static const char *gen_other_given(gen_rng_t *r, int sex, const char * not )
{
    const char *given;
    do
        given = sex == GEN_MALE ? GEN_PICK(r, given_m) : GEN_PICK(r, given_f);
    while (strcmp(given, not ) == 0);
    return given;
}

/* Amends a birth record: the old value is what that record says. */
static void gen_amendment(lt_buf_t *b, gen_rng_t *r, const gen_writer_t *w,
                          const gen_entity_t *e, int32_t reg_day)
{
    unsigned k = gen_below(r, 100);
    int32_t target_day;
    gen_registration(b, w, e, reg_day, "REGISTRATION_KIND_NEW");
    lt_buf_puts(b, ",\"amendment\":{");
    const gen_entity_t *t = gen_record_ref(b, r, w, e, GEN_BIRTH, reg_day, &target_day);
    gen_birth_facts_t f;
    if (t) {
        gen_rng_t tr = gen_rng_for(t, 2);
        gen_birth_facts(&tr, w->place, target_day, &f);
    } else { /* an old paper record: its facts are whatever this draws */
        gen_birth_facts(r, w->place, target_day, &f);
    }
    int mother_ok = f.has_mother && f.mother.given;
    if (k >= 85 && mother_ok && f.mother.dob_precision == 1) {
        gen_date_t d = gen_date(f.mother.dob);
        lt_buf_printf(b,
                      ",\"fieldPath\":\"birth.mother.dateOfBirth\",\"oldValue\":\"%d\","
                      "\"newValue\":\"%02u/%02u/%d\","
                      "\"reason\":\"Bổ sung ngày, tháng sinh của người mẹ\","
                      "\"legalBasis\":\"Luật Hộ tịch 2014; Nghị định 123/2015/NĐ-CP\","
                      "\"kind\":\"AMENDMENT_KIND_SUPPLEMENT\"}",
                      d.y, d.d, d.m, d.y);
    } else if (k >= 50 || !mother_ok) {
        lt_buf_printf(b,
                      ",\"fieldPath\":\"birth.child.name.given\",\"oldValue\":\"%s\","
                      "\"newValue\":\"%s\",\"reason\":\"Theo nguyện vọng của cha, mẹ\","
                      "\"legalBasis\":\"Bộ luật Dân sự 2015; Luật Hộ tịch 2014\","
                      "\"kind\":\"AMENDMENT_KIND_CHANGE\"}",
                      f.child.given, gen_other_given(r, f.child.sex, f.child.given));
    } else {
        lt_buf_printf(
            b,
            ",\"fieldPath\":\"birth.mother.name.given\",\"oldValue\":\"%s\","
            "\"newValue\":\"%s\",\"reason\":\"Sai sót khi ghi Sổ đăng ký khai sinh\","
            "\"legalBasis\":\"Luật Hộ tịch 2014; Nghị định 123/2015/NĐ-CP\","
            "\"kind\":\"AMENDMENT_KIND_CORRECTION\"}",
            f.mother.given, gen_other_given(r, GEN_FEMALE, f.mother.given));
    }
}

static void gen_marital_status(lt_buf_t *b, gen_rng_t *r, const gen_writer_t *w,
                               const gen_entity_t *e, int32_t reg_day)
{
    static const char *const purposes[] = {
        "Để bổ sung hồ sơ vay vốn ngân hàng",
        "Để làm thủ tục chuyển nhượng quyền sử dụng đất", "Để bổ sung hồ sơ xin việc",
        "Để làm thủ tục đi lao động ở nước ngoài"};
    unsigned k = gen_below(r, 100);
    const char *status = k < 72   ? "MARITAL_STATUS_SINGLE"
                         : k < 84 ? "MARITAL_STATUS_DIVORCED"
                         : k < 94 ? "MARITAL_STATUS_MARRIED"
                                  : "MARITAL_STATUS_WIDOWED";
    gen_person_t p;
    int sex = gen_chance(r, 480) ? GEN_MALE : GEN_FEMALE;
    gen_person(r, w->place, &p, sex,
               gen_born(r, reg_day, k < 72 ? 20 : 28, k < 72 ? 40 : 65), NULL);
    /* single since reaching marriageable age; otherwise since the marriage,
     * divorce or spouse's death */
    gen_date_t born = gen_date(p.dob);
    int32_t from = gen_days(born.y + (sex == GEN_MALE ? 20 : 18), born.m, born.d);
    if (from > reg_day)
        from = reg_day;
    if (k >= 72)
        from += (int32_t)gen_below(r, (unsigned)(reg_day - from));
    gen_registration(b, w, e, reg_day, "REGISTRATION_KIND_NEW");
    lt_buf_puts(b, ",\"maritalStatus\":{");
    gen_person_json(b, "person", &p);
    lt_buf_printf(b, ",\"status\":\"%s\",", status);
    gen_partial_date(b, "periodFrom", from, 3);
    lt_buf_puts(b, ",");
    gen_partial_date(b, "periodTo", reg_day, 3);
    lt_buf_printf(b, ",\"purpose\":\"%s\"}",
                  k < 72 && gen_chance(r, 650) ? "Để đăng ký kết hôn"
                                               : GEN_PICK(r, purposes));
}

static const struct {
    const char *subject;
    int target_kind;    /* the kind of record the decision changes */
    const char *body;   /* who decided ... */
    int in_province;    /* ... followed by the province's name */
    const char *number; /* after "<number>/<year>/" */
    const char *content;
} gen_annotations[] = {
    {"ANNOTATION_SUBJECT_DIVORCE", GEN_MARRIAGE, "Tòa án nhân dân khu vực 1 - ", 1,
     "QĐST-HNGĐ", "Công nhận thuận tình ly hôn theo quyết định của Tòa án"},
    {"ANNOTATION_SUBJECT_DIVORCE", GEN_MARRIAGE, "Tòa án nhân dân khu vực 2 - ", 1,
     "HNGĐ-ST", "Ly hôn theo bản án sơ thẩm đã có hiệu lực pháp luật"},
    {"ANNOTATION_SUBJECT_MARRIAGE_ANNULMENT", GEN_MARRIAGE,
     "Tòa án nhân dân khu vực 1 - ", 1, "QĐST-HNGĐ", "Hủy việc kết hôn trái pháp luật"},
    {"ANNOTATION_SUBJECT_PARENTAGE", GEN_BIRTH, "Tòa án nhân dân khu vực 1 - ", 1,
     "QĐST-HNGĐ", "Xác định cha cho con theo quyết định của Tòa án"},
    {"ANNOTATION_SUBJECT_NATIONALITY", GEN_BIRTH, "Chủ tịch nước", 0, "QĐ-CTN",
     "Thôi quốc tịch Việt Nam theo quyết định của Chủ tịch nước"},
    {"ANNOTATION_SUBJECT_ADOPTION", GEN_BIRTH, "Tòa án nhân dân khu vực 1 - ", 1,
     "QĐST-HNGĐ", "Chấm dứt việc nuôi con nuôi theo quyết định của Tòa án"},
    {"ANNOTATION_SUBJECT_CIVIL_CAPACITY", GEN_BIRTH, "Tòa án nhân dân khu vực 1 - ", 1,
     "QĐST-DS", "Tuyên bố một người mất năng lực hành vi dân sự"},
    {"ANNOTATION_SUBJECT_SEX_REDETERMINATION", GEN_BIRTH, "Sở Y tế ", 1, "QĐ-SYT",
     "Xác định lại giới tính theo kết luận của cơ sở y tế"},
};

static void gen_annotation(lt_buf_t *b, gen_rng_t *r, const gen_writer_t *w,
                           const gen_entity_t *e, int32_t reg_day)
{
    unsigned i = gen_below(r, 100);
    i = i < 55   ? 0
        : i < 70 ? 1
                 : 2 + (i - 70) % (unsigned)(GEN_COUNT(gen_annotations) - 2);
    int32_t decided = gen_workday_back(reg_day - 7 - (int32_t)gen_below(r, 80));
    gen_registration(b, w, e, reg_day, "REGISTRATION_KIND_NEW");
    lt_buf_puts(b, ",\"annotation\":{");
    int32_t target_day;
    gen_record_ref(b, r, w, e, gen_annotations[i].target_kind, reg_day, &target_day);
    lt_buf_printf(b, ",\"decidingBody\":\"%s%s\",\"decisionNumber\":\"%d/%d/%s\",",
                  gen_annotations[i].body,
                  gen_annotations[i].in_province ? w->place->province_name : "",
                  gen_between(r, 1, 900), gen_date(decided).y, gen_annotations[i].number);
    gen_partial_date(b, "decisionDate", decided, 3);
    lt_buf_printf(b, ",\"content\":\"%s\",\"subject\":\"%s\"}",
                  gen_annotations[i].content, gen_annotations[i].subject);
}

/* The CivilRecord of e; returns when it was registered (Event.occurred_at). */
static int64_t gen_civil_payload(lt_buf_t *b, const gen_writer_t *w,
                                 const gen_entity_t *e)
{
    int64_t at = gen_registered_at(e);
    int32_t day = gen_day_of(at);
    gen_rng_t r = gen_rng_for(e, 2);
    lt_buf_printf(b, "{\"kind\":\"%s\",", gen_civil[e->kind].kind);
    switch (e->kind) {
    case GEN_BIRTH:
        gen_birth(b, &r, w, e, day);
        break;
    case GEN_DEATH:
        gen_death(b, &r, w, e, day);
        break;
    case GEN_MARRIAGE:
        gen_marriage(b, &r, w, e, day);
        break;
    case GEN_RECOGNITION:
        gen_recognition(b, &r, w, e, day);
        break;
    case GEN_GUARDIANSHIP:
        gen_guardianship(b, &r, w, e, day);
        break;
    case GEN_AMENDMENT:
        gen_amendment(b, &r, w, e, day);
        break;
    case GEN_MARITAL_STATUS:
        gen_marital_status(b, &r, w, e, day);
        break;
    default:
        gen_annotation(b, &r, w, e, day);
        break;
    }
    lt_buf_puts(b, "}");
    return at;
}

/* ------------------------------------------------------------------ dossiers */

enum gen_status {
    ST_NEW = 1,
    ST_ACCEPTED,
    ST_NOT_ACCEPTED,
    ST_IN_PROCESS,
    ST_SUPPLEMENT,
    ST_FEE,
    ST_WITHDRAWN,
    ST_STOPPED,
    ST_PROCESSED,
    ST_RETURNED
};

/* DossierStatus names, by the portal's codes. */
static const char *const gen_status_names[] = {"",
                                               "DOSSIER_STATUS_NEW",
                                               "DOSSIER_STATUS_ACCEPTED",
                                               "DOSSIER_STATUS_NOT_ACCEPTED",
                                               "DOSSIER_STATUS_IN_PROCESS",
                                               "DOSSIER_STATUS_SUPPLEMENT_REQUESTED",
                                               "DOSSIER_STATUS_FEE_REQUESTED",
                                               "DOSSIER_STATUS_WITHDRAWN",
                                               "DOSSIER_STATUS_PROCESSING_STOPPED",
                                               "DOSSIER_STATUS_PROCESSED",
                                               "DOSSIER_STATUS_RESULT_RETURNED"};

#define GEN_MAX_STEPS 8

/* How dossiers go, per 100. Submitted online they start at NEW; received at
 * the desk (in person, by post) they start at ACCEPTED, the NEW step left out. */
static const struct {
    unsigned weight;
    uint8_t steps[GEN_MAX_STEPS]; /* ends at the first 0 */
} gen_paths[] = {
    {70, {ST_NEW, ST_ACCEPTED, ST_IN_PROCESS, ST_PROCESSED, ST_RETURNED}},
    {7,
     {ST_NEW, ST_ACCEPTED, ST_IN_PROCESS, ST_SUPPLEMENT, ST_IN_PROCESS, ST_PROCESSED,
      ST_RETURNED}},
    {4,
     {ST_NEW, ST_ACCEPTED, ST_IN_PROCESS, ST_FEE, ST_IN_PROCESS, ST_PROCESSED,
      ST_RETURNED}},
    {4,
     {ST_NEW, ST_ACCEPTED, ST_SUPPLEMENT, ST_ACCEPTED, ST_IN_PROCESS, ST_PROCESSED,
      ST_RETURNED}},
    {5, {ST_NEW, ST_NOT_ACCEPTED}},
    {3, {ST_NEW, ST_WITHDRAWN}},
    {3, {ST_NEW, ST_ACCEPTED, ST_IN_PROCESS, ST_SUPPLEMENT, ST_WITHDRAWN}},
    {2, {ST_NEW, ST_ACCEPTED, ST_IN_PROCESS, ST_SUPPLEMENT, ST_STOPPED}},
    {2, {ST_NEW, ST_ACCEPTED, ST_IN_PROCESS, ST_STOPPED}},
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

typedef struct gen_dossier_plan {
    uint8_t status[GEN_MAX_STEPS];
    int channel; /* DossierChannel */
    int procedure;
    int steps;
    int64_t at[GEN_MAX_STEPS];  /* when each step happened */
    int64_t due[GEN_MAX_STEPS]; /* the due time as of each step; 0 until accepted */
} gen_dossier_plan_t;

/* Day of the due time n working days after day, at the end of office hours. */
static int64_t gen_due_time(int32_t day, int n)
{
    return (int64_t)gen_workdays_after(day, n) * GEN_DAY_US + GEN_OFFICE_CLOSE_US;
}

/* The whole life of a dossier, every step no later than its creation. */
static void gen_dossier_plan(const gen_entity_t *e, gen_dossier_plan_t *p)
{
    gen_rng_t r = gen_rng_for(e, 3);
    unsigned pick = gen_below(&r, 100), i;
    for (i = 0; i + 1 < GEN_COUNT(gen_paths) && pick >= gen_paths[i].weight; i++)
        pick -= gen_paths[i].weight;
    unsigned c = gen_below(&r, 100);
    /* refused or withdrawn before acceptance: only online */
    p->channel = gen_paths[i].steps[1] != ST_ACCEPTED || c < 55 ? 2 : c < 95 ? 1 : 3;
    int skip = p->channel != 2; /* at the desk: no NEW step */
    for (p->steps = 0;
         p->steps + skip < GEN_MAX_STEPS && gen_paths[i].steps[p->steps + skip];
         p->steps++)
        p->status[p->steps] = gen_paths[i].steps[p->steps + skip];
    p->procedure = (int)gen_below(&r, (unsigned)GEN_COUNT(gen_procedures));
    int late = gen_chance(&r, 40), limit_days = gen_procedures[p->procedure].days;

    /* received: online any time 07:00-24:00 (Vietnam), else at the counter */
    int32_t day = gen_day_of(e->base_us) - (int32_t)gen_below(&r, 30);
    int64_t t, due = 0;
    if (p->channel == 2)
        t = (int64_t)day * GEN_DAY_US +
            (int64_t)gen_below(&r, (unsigned)(GEN_EVENING_END_US / GEN_MIN_US)) *
                GEN_MIN_US;
    else
        t = gen_office_time(&r, day, INT64_MAX);
    if (p->status[0] == ST_ACCEPTED) /* the time limit runs from acceptance */
        due = gen_due_time(gen_day_of(t), limit_days);
    p->at[0] = t;
    p->due[0] = due;
    for (int s = 1; s < p->steps; s++) {
        int prev = p->status[s - 1], cur = p->status[s];
        if (prev == ST_SUPPLEMENT || prev == ST_FEE) {
            t = gen_office_after(&r, t, cur == ST_STOPPED ? 5 : 1,
                                 cur == ST_STOPPED ? 15 : 5);
            /* the wait for the applicant does not count: the due day moves */
            if (due) {
                int32_t d = gen_day_of(p->at[s - 1]), due_day = gen_day_of(due);
                while (d < gen_day_of(t)) {
                    d = gen_workdays_after(d, 1);
                    due_day = gen_workdays_after(due_day, 1);
                }
                due = gen_due_time(due_day, 0);
            }
        } else if (cur == ST_ACCEPTED || cur == ST_NOT_ACCEPTED || cur == ST_SUPPLEMENT) {
            t = gen_office_after(&r, t, 0,
                                 cur == ST_SUPPLEMENT && prev != ST_NEW ? 2 : 1);
        } else if (cur == ST_IN_PROCESS) {
            t = gen_office_after(&r, t, 0, 0);
        } else if (cur == ST_PROCESSED) {
            if (late || t >= due) { /* after the due time */
                t = gen_office_after(&r, t > due ? t : due, late, 5);
            } else { /* some working day up to the due one */
                int32_t d = gen_day_of(t);
                int n = 0;
                for (; d < gen_day_of(due); n++)
                    d = gen_workdays_after(d, 1);
                t = gen_office_after(&r, t, 0, n);
                if (t > due)
                    t = due;
            }
        } else if (cur == ST_RETURNED) {
            t = gen_office_after(&r, t, 0, 4);
        } else if (cur == ST_WITHDRAWN) {
            t = gen_office_after(&r, t, 0, 3);
        } else { /* FEE, STOPPED */
            t = gen_office_after(&r, t, 0, 2);
        }
        /* the time limit runs from acceptance (tiếp nhận) */
        if (cur == ST_ACCEPTED && !due)
            due = gen_due_time(gen_day_of(t), limit_days);
        p->at[s] = t;
        p->due[s] = due;
    }
    /* Nothing after the creation: move the whole story back by whole weeks,
     * which keeps weekdays and office hours. */
    int64_t last = p->at[p->steps - 1];
    if (last > e->base_us) {
        int64_t week = 7 * GEN_DAY_US,
                shift = (last - e->base_us + week - 1) / week * week;
        for (int s = 0; s < p->steps; s++) {
            p->at[s] -= shift;
            if (p->due[s])
                p->due[s] -= shift;
        }
    }
}

static int gen_dossier_steps(const gen_entity_t *e)
{
    gen_dossier_plan_t p;
    gen_dossier_plan(e, &p);
    return p.steps;
}

/* The Dossier of e as of its current step; returns that step's time. */
static int64_t gen_dossier_payload(lt_buf_t *b, const gen_writer_t *w,
                                   const gen_entity_t *e)
{
    static const char *const channels[] = {"", "DOSSIER_CHANNEL_IN_PERSON",
                                           "DOSSIER_CHANNEL_ONLINE",
                                           "DOSSIER_CHANNEL_POSTAL"};
    const gen_place_t *pl = w->place;
    gen_dossier_plan_t p;
    gen_dossier_plan(e, &p);
    gen_rng_t r = gen_rng_for(e, 4);
    gen_date_t rd = gen_date(gen_day_of(p.at[0]));
    int step = e->step < p.steps ? e->step : p.steps - 1;
    const uint8_t *path = p.status;

    lt_buf_printf(
        b,
        "{\"dossierCode\":\"000.%.2s.%.2s.H%s-%02d%02u%02u-%04u\","
        "\"procedureCode\":\"%s\",\"receivingAgency\":\"UBND %s\",\"applicant\":{",
        pl->commune + 1, pl->commune + 3, pl->province, rd.y % 100, rd.m, rd.d,
        1 + ((e->n - 1) * (unsigned)w->opts->writers + (unsigned)w->index) % 9999,
        gen_procedures[p.procedure].code, pl->commune_name);
    gen_person_t a;
    gen_person(&r, pl, &a, gen_chance(&r, 500) ? GEN_MALE : GEN_FEMALE,
               gen_born(&r, gen_day_of(p.at[0]), 18, 75), NULL);
    if (gen_chance(&r, 70))
        lt_buf_printf(b,
                      "\"type\":\"APPLICANT_TYPE_BUSINESS\",\"businessName\":\"%s\","
                      "\"idNumber\":\"0%09u\",",
                      GEN_PICK(&r, business_names), gen_below(&r, 1000000000));
    else
        lt_buf_printf(b, "\"type\":\"APPLICANT_TYPE_CITIZEN\",\"idNumber\":\"%s\",",
                      a.id);
    gen_person_name(b, &a);
    lt_buf_printf(b, ",\"phone\":\"%s%07u\",\"address\":\"%s\"}",
                  GEN_PICK(&r, phone_prefixes), gen_below(&r, 10000000), a.residence);

    int64_t finished = 0, returned = 0, processed = 0;
    for (int s = 0; s <= step; s++) {
        int st = path[s];
        if (!finished && (st == ST_PROCESSED || st == ST_NOT_ACCEPTED ||
                          st == ST_WITHDRAWN || st == ST_STOPPED))
            finished = p.at[s];
        if (st == ST_PROCESSED)
            processed = p.at[s];
        if (st == ST_RETURNED)
            returned = p.at[s];
    }
    lt_buf_printf(
        b, ",\"status\":\"%s\",\"channel\":\"%s\",\"receivedAtUs\":\"%" PRId64 "\"",
        gen_status_names[path[step]], channels[p.channel], p.at[0]);
    if (p.due[step])
        lt_buf_printf(b, ",\"dueAtUs\":\"%" PRId64 "\"", p.due[step]);
    if (finished)
        lt_buf_printf(b, ",\"finishedAtUs\":\"%" PRId64 "\"", finished);
    if (returned)
        lt_buf_printf(b, ",\"returnedAtUs\":\"%" PRId64 "\"", returned);
    if (processed)
        lt_buf_printf(b, ",\"timeliness\":\"%s\"",
                      processed <= p.due[step] ? "DOSSIER_TIMELINESS_ON_TIME"
                                               : "DOSSIER_TIMELINESS_LATE");
    lt_buf_puts(b, ",\"history\":[");
    for (int s = 0; s <= step; s++) {
        int st = path[s];
        const char *note = st == ST_SUPPLEMENT ? "Đề nghị bổ sung giấy tờ theo quy định"
                           : st == ST_FEE ? "Đề nghị nộp lệ phí theo quy định"
                           : st == ST_NOT_ACCEPTED
                               ? "Hồ sơ không thuộc thẩm quyền giải quyết"
                           : st == ST_WITHDRAWN ? "Người nộp hồ sơ đề nghị rút hồ sơ"
                           : st == ST_STOPPED ? "Không bổ sung hồ sơ trong thời hạn"
                                              : NULL;
        int citizen = st == ST_WITHDRAWN || (st == ST_NEW && p.channel != 1);
        lt_buf_printf(b, "%s{\"status\":\"%s\",\"atUs\":\"%" PRId64 "\",\"by\":\"",
                      s ? "," : "", gen_status_names[st], p.at[s]);
        if (citizen)
            lt_buf_puts(b, "cong-dan");
        else
            lt_buf_printf(b, "%s.%s.%02d",
                          st == ST_NEW || st == ST_ACCEPTED || st == ST_NOT_ACCEPTED ||
                                  st == ST_RETURNED
                              ? "motcua"
                              : "hotich",
                          pl->commune, w->index + 1);
        if (note)
            lt_buf_printf(b, "\",\"note\":\"%s\"}", note);
        else
            lt_buf_puts(b, "\"}");
    }
    lt_buf_puts(b, "]}");
    return p.at[step];
}

/* ------------------------------------------------------------------ writing */

static gen_entity_t *gen_entity_new(gen_writer_t *w)
{
    if (w->n_entities == w->cap_entities) {
        w->cap_entities = w->cap_entities ? w->cap_entities * 2 : 1024;
        w->entities = realloc(w->entities, w->cap_entities * sizeof(*w->entities));
        if (!w->entities) {
            fprintf(stderr, "lienthong-gen: out of memory\n");
            abort();
        }
    }
    gen_entity_t *e = &w->entities[w->n_entities];
    memset(e, 0, sizeof(*e));
    e->n = (uint32_t)++w->n_entities;
    e->version = 1;
    e->seed = gen_rand(w) << 8;
    e->seed ^= gen_rand(w);
    e->base_us = lt_now_us();
    return e;
}

/* The kind of a new civil record, by the weights of gen_civil. */
static int gen_civil_kind(gen_writer_t *w)
{
    unsigned r = gen_rand(w) % 1000;
    for (int k = 0; k < GEN_DOSSIER; k++) {
        if (r < gen_civil[k].weight)
            return k;
        r -= gen_civil[k].weight;
    }
    return GEN_BIRTH;
}

/* An earlier record of this writer of the given kind, or 0 (a paper record). */
static uint32_t gen_pick_target(gen_writer_t *w, int kind)
{
    for (int tries = 0; tries < 8 && w->n_entities > 1; tries++) {
        const gen_entity_t *t = &w->entities[gen_rand(w) % (w->n_entities - 1)];
        if (t->kind == kind)
            return t->n;
    }
    return 0;
}

/* One of the oldest dossiers still under way takes its next step (most
 * dossiers finish their path, the newest are in progress); NULL if none. */
static gen_entity_t *gen_dossier_moves_on(gen_writer_t *w)
{
    while (w->open_head < w->n_open) {
        size_t window = w->n_open - w->open_head < 16 ? w->n_open - w->open_head : 16;
        size_t j = w->open_head + gen_rand(w) % window;
        gen_entity_t *e = &w->entities[w->open[j]];
        if (!e->deleted && e->step + 1 < e->steps) {
            e->step++;
            e->version++;
            if (e->step + 1 == e->steps)
                w->open[j] = w->open[w->open_head++];
            return e;
        }
        w->open[j] = w->open[w->open_head++]; /* deleted meanwhile */
    }
    return NULL;
}

/* Choose what happens next: a new record, a new version, or a delete. */
static gen_entity_t *gen_next_change(gen_writer_t *w, int *is_delete)
{
    unsigned r = gen_rand(w) % 100;
    *is_delete = 0;
    if (r < 45) {
        gen_entity_t *e = gen_dossier_moves_on(w);
        if (e)
            return e;
    }
    if (w->n_entities > 10 && r >= 45 && r < 50) { /* a record is withdrawn */
        gen_entity_t *e = &w->entities[gen_rand(w) % w->n_entities];
        if (!e->deleted) {
            e->deleted = 1;
            e->version++;
            *is_delete = 1;
            return e;
        }
    }
    /* a dossier takes four steps on average: one new dossier in four keeps
     * the oldest finishing while the newest are under way */
    int kind = gen_rand(w) % 100 < 25 ? GEN_DOSSIER : gen_civil_kind(w);
    gen_entity_t *e = gen_entity_new(w);
    e->kind = (uint8_t)kind;
    if (kind == GEN_DOSSIER) {
        e->steps = (uint8_t)gen_dossier_steps(e);
        if (w->n_open == w->cap_open) {
            w->cap_open = w->cap_open ? w->cap_open * 2 : 1024;
            w->open = realloc(w->open, w->cap_open * sizeof(*w->open));
            if (!w->open) {
                fprintf(stderr, "lienthong-gen: out of memory\n");
                abort();
            }
        }
        w->open[w->n_open++] = e->n - 1;
    } else if (kind == GEN_AMENDMENT) { /* annotations concern older records */
        e->target = gen_pick_target(w, GEN_BIRTH);
    }
    return e;
}

static void gen_row(gen_writer_t *w, lt_buf_t *sql, lt_buf_t *payload, int first)
{
    int is_delete;
    gen_entity_t *e = gen_next_change(w, &is_delete);
    int64_t occurred;
    lt_buf_reset(payload);
    if (is_delete) /* withdrawn just now, in office hours or not */
        occurred = lt_now_us() - (int64_t)(gen_rand(w) % 600) * 1000000;
    else if (e->kind == GEN_DOSSIER)
        occurred = gen_dossier_payload(payload, w, e);
    else
        occurred = gen_civil_payload(payload, w, e);
    lt_buf_printf(sql,
                  "%s('%s','%s-%s-s%u-w%d-%u',%u,'%s','epoch'::timestamptz + %" PRId64
                  " * interval '1 microsecond',%s%s%s)",
                  first ? "" : ",", e->kind == GEN_DOSSIER ? "dossier" : "civil_record",
                  w->opts->commune,
                  e->kind == GEN_DOSSIER ? "dossier" : gen_civil[e->kind].id, w->opts->seed,
                  w->index,
                  e->n, e->version, is_delete ? "delete" : "upsert", occurred,
                  is_delete ? "NULL" : "'", is_delete ? "" : lt_buf_cstr(payload),
                  is_delete ? "" : "'");
    if (is_delete)
        w->deletes++;
    else
        w->upserts++;
}

static int gen_exec(gen_writer_t *w, const char *sql)
{
    PGresult *res = PQexec(w->pg, sql);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        snprintf(w->error, sizeof(w->error), "%s", PQerrorMessage(w->pg));
    PQclear(res);
    return ok ? 0 : -1;
}

static int gen_transaction(gen_writer_t *w, int rows, lt_buf_t *sql, lt_buf_t *payload)
{
    lt_buf_reset(sql);
    lt_buf_puts(sql, "INSERT INTO lt.outbox (entity_type, entity_id, version, op, occurred_at,"
                     " payload) VALUES ");
    for (int i = 0; i < rows; i++)
        gen_row(w, sql, payload, i == 0);
    if (gen_exec(w, "BEGIN") || gen_exec(w, lt_buf_cstr(sql)))
        return -1;
    /* One transaction in eight stays open while the other writers commit. */
    if (w->opts->hold_ms && gen_rand(w) % 8 == 0)
        lt_sleep_ms((int)(gen_rand(w) % (unsigned)w->opts->hold_ms) + 1);
    if (gen_exec(w, "COMMIT"))
        return -1;
    w->written += rows;
    w->txs++;
    return 0;
}

static void *gen_writer_main(void *arg)
{
    gen_writer_t *w = arg;
    lt_buf_t sql = {0}, payload = {0};
    int64_t start = lt_monotonic_ms();
    double per_writer_rate = w->opts->rate / w->opts->writers;
    while (w->written < w->quota && !lt_stop_requested) {
        int rows = 1 + (int)(gen_rand(w) % (unsigned)w->opts->max_rows_per_tx);
        if (rows > w->quota - w->written)
            rows = (int)(w->quota - w->written);
        if (gen_transaction(w, rows, &sql, &payload) != 0)
            break;
        if (per_writer_rate > 0) {
            int64_t due = start + (int64_t)(w->written * 1000.0 / per_writer_rate);
            int64_t wait = due - lt_monotonic_ms();
            if (wait > 0)
                lt_sleep_ms((int)wait);
        }
    }
    lt_buf_free(&sql);
    lt_buf_free(&payload);
    return NULL;
}

/* The commune's names and province from the unit list; without the list (or
 * for a code not in it) the generator still runs, with plain names. */
static void gen_place_init(gen_place_t *pl, const char *commune, const lt_units_t *units)
{
    static char fallback_name[32];
    const lt_unit_t *u = units ? lt_units_commune(units, commune) : NULL;
    *pl = (gen_place_t){
        .commune = commune, .province = "01", .province_name = "Thành phố Hà Nội"};
    if (!u) {
        snprintf(fallback_name, sizeof(fallback_name), "Xã %s", commune);
        pl->commune_name = fallback_name;
        pl->rural = 1;
        return;
    }
    pl->commune_name = u->full_name;
    pl->province = u->province_code;
    const char *pname = lt_units_province_name(units, u->province_code);
    if (pname)
        pl->province_name = pname;
    pl->rural = strncmp(u->full_name, "Xã ", 4) == 0;
    size_t n = 0;
    while (lt_units_province_commune(units, u->province_code, n))
        n++;
    pl->nearby = calloc(n ? n : 1, sizeof(*pl->nearby));
    for (size_t i = 0; pl->nearby && i < n; i++)
        pl->nearby[i] = lt_units_province_commune(units, u->province_code, i);
    pl->n_nearby = pl->nearby ? n : 0;
}

/* A writer's officer and signer: the same few people sign a commune's books. */
static void gen_writer_staff(gen_writer_t *w)
{
    gen_rng_t r = {((uint64_t)w->opts->seed << 32) ^ (uint64_t)w->index ^ 0x5A17u};
    snprintf(w->officer, sizeof(w->officer), "%s %s %s", GEN_PICK(&r, family_names),
             GEN_PICK(&r, middle_f), GEN_PICK(&r, given_f));
    snprintf(w->signer, sizeof(w->signer), "%s %s %s", GEN_PICK(&r, family_names),
             GEN_PICK(&r, middle_m), GEN_PICK(&r, given_m));
}

static void gen_usage(FILE *out)
{
    fprintf(out,
            "Usage: lienthong-gen --postgres CONNINFO --commune CODE [options]\n\n"
            "Writes realistic civil-status and dossier activity into a commune outbox\n"
            "(run `lienthong-agent init` on that database first).\n\n"
            "  -d, --postgres CONNINFO  commune database (libpq conninfo)\n"
            "  -c, --commune CODE       5-digit commune code\n"
            "  -n, --events N           outbox rows to write (default 1000)\n"
            "  -w, --writers N          concurrent writer connections (default 4)\n"
            "  -m, --max-rows N         rows per transaction at most (default 5)\n"
            "  -H, --hold-ms MS         keep some transactions open up to MS (default 20)\n"
            "  -r, --rate R             events per second over all writers (default: max)\n"
            "  -s, --seed N             random seed (default 1)\n"
            "  -q, --quiet              no summary line\n"
            "  -h, --help               this help\n");
}

static int gen_parse(int argc, char **argv, gen_opts_t *o)
{
    static const struct option longopts[] = {
        {"postgres", required_argument, NULL, 'd'}, {"commune", required_argument, NULL, 'c'},
        {"events", required_argument, NULL, 'n'},   {"writers", required_argument, NULL, 'w'},
        {"max-rows", required_argument, NULL, 'm'}, {"hold-ms", required_argument, NULL, 'H'},
        {"rate", required_argument, NULL, 'r'},     {"seed", required_argument, NULL, 's'},
        {"quiet", no_argument, NULL, 'q'},          {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    *o = (gen_opts_t){.events = 1000, .writers = 4, .max_rows_per_tx = 5, .hold_ms = 20, .seed = 1};
    int c;
    while ((c = getopt_long(argc, argv, "d:c:n:w:m:H:r:s:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': o->postgres = optarg; break;
        case 'c': o->commune = optarg; break;
        case 'n': o->events = atol(optarg); break;
        case 'w': o->writers = atoi(optarg); break;
        case 'm': o->max_rows_per_tx = atoi(optarg); break;
        case 'H': o->hold_ms = atoi(optarg); break;
        case 'r': o->rate = atof(optarg); break;
        case 's': o->seed = (unsigned)atol(optarg); break;
        case 'q': o->quiet = 1; break;
        case 'h': gen_usage(stdout); return -1;
        default: gen_usage(stderr); return 2;
        }
    }
    const char *bad = !o->postgres ? "--postgres is required"
                      : !o->commune || !lt_is_digits(o->commune, 5) ? "--commune must be 5 digits"
                      : o->events < 0 ? "--events must be >= 0"
                      : o->writers < 1 || o->writers > 64 ? "--writers must be 1..64"
                      : o->max_rows_per_tx < 1 ? "--max-rows must be >= 1"
                                               : NULL;
    if (bad) {
        fprintf(stderr, "lienthong-gen: %s\n", bad);
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    gen_opts_t opts;
    int rc = gen_parse(argc, argv, &opts);
    if (rc)
        return rc < 0 ? 0 : rc;
    lt_signals_install();
    char errstr[512];
    lt_units_t *units = lt_units_load(NULL, errstr, sizeof(errstr));
    if (!units)
        fprintf(stderr, "lienthong-gen: no unit list, plain names used: %s\n", errstr);
    gen_place_t place;
    gen_place_init(&place, opts.commune, units);
    gen_writer_t *writers = calloc((size_t)opts.writers, sizeof(*writers));
    pthread_t *threads = calloc((size_t)opts.writers, sizeof(*threads));
    int64_t start = lt_monotonic_ms();
    for (int i = 0; i < opts.writers; i++) {
        gen_writer_t *w = &writers[i];
        *w = (gen_writer_t){.opts = &opts, .place = &place, .index = i,
                            .rng = opts.seed * 7919u + (unsigned)i};
        gen_writer_staff(w);
        w->quota = opts.events / opts.writers + (i < opts.events % opts.writers);
        w->pg = PQconnectdb(opts.postgres);
        if (PQstatus(w->pg) != CONNECTION_OK) {
            fprintf(stderr, "lienthong-gen: cannot connect (%s): %s", opts.postgres,
                    PQerrorMessage(w->pg));
            return 1;
        }
    }
    for (int i = 0; i < opts.writers; i++)
        pthread_create(&threads[i], NULL, gen_writer_main, &writers[i]);
    long written = 0, upserts = 0, deletes = 0, txs = 0;
    for (int i = 0; i < opts.writers; i++) {
        pthread_join(threads[i], NULL);
        written += writers[i].written;
        upserts += writers[i].upserts;
        deletes += writers[i].deletes;
        txs += writers[i].txs;
        if (writers[i].error[0]) {
            fprintf(stderr, "lienthong-gen: writer %d: %s", i, writers[i].error);
            rc = 1;
        }
        PQfinish(writers[i].pg);
        free(writers[i].entities);
        free(writers[i].open);
    }
    double secs = (double)(lt_monotonic_ms() - start) / 1000.0;
    if (!opts.quiet)
        printf("commune=%s events=%ld upserts=%ld deletes=%ld transactions=%ld writers=%d "
               "seconds=%.1f rate=%.0f/s\n",
               opts.commune, written, upserts, deletes, txs, opts.writers, secs,
               secs > 0 ? written / secs : 0.0);
    free(writers);
    free(threads);
    free(place.nearby);
    lt_units_destroy(units);
    return rc;
}
