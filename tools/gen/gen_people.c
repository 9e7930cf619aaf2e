#include "gen_people.h"

#include <stdio.h>
#include <string.h>

#include "gen_calendar.h"

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

void gen_personal_id(gen_rng_t *r, const char *province3, lt_sex_t sex, int year,
                     char out[13])
{
    uint32_t serial = gen_below(r, 1000000);
    if (lt_rule_personal_id_make(province3, sex, year, serial, out) != LT_RULE_OK)
        out[0] = '\0';
}

void gen_person(gen_rng_t *r, const gen_place_t *place, gen_person_t *p, lt_sex_t sex,
                int32_t dob, const char *family)
{
    memset(p, 0, sizeof(*p));
    p->sex = sex;
    p->family = family ? family : GEN_PICK(r, family_names);
    p->middle = sex == LT_SEX_MALE ? GEN_PICK(r, middle_m) : GEN_PICK(r, middle_f);
    p->given = sex == LT_SEX_MALE ? GEN_PICK(r, given_m) : GEN_PICK(r, given_f);
    p->dob = dob;
    p->dob_precision = 3;
    p->ethnicity = gen_chance(r, 880) ? "01" : GEN_PICK(r, ethnic_minorities);
    p->nationality = "VN";
    /* most were born here; the older ones anywhere in the country */
    const char *id_province =
        gen_chance(r, 750) ? place->id_province : GEN_PICK(r, id_provinces);
    gen_personal_id(r, id_province, sex, gen_date(dob).year, p->id);
    gen_address(r, place, p->residence, sizeof(p->residence));
}

void gen_foreigner(gen_rng_t *r, gen_person_t *p, lt_sex_t sex, int32_t dob)
{
    unsigned i = gen_below(r, (unsigned)GEN_COUNT(foreign_names));
    memset(p, 0, sizeof(*p));
    p->sex = sex;
    p->foreign = sex == LT_SEX_MALE ? foreign_names[i].male : foreign_names[i].female;
    p->dob = dob;
    p->dob_precision = 3;
    p->nationality = foreign_names[i].country;
}

const char *gen_other_given(gen_rng_t *r, lt_sex_t sex, const char *not_this)
{
    const char *given;
    do
        given = sex == LT_SEX_MALE ? GEN_PICK(r, given_m) : GEN_PICK(r, given_f);
    while (strcmp(given, not_this) == 0);
    return given;
}

void gen_staff(gen_rng_t *r, char *officer, char *signer, size_t size)
{
    const char *given = GEN_PICK(r, given_f), *middle = GEN_PICK(r, middle_f);
    snprintf(officer, size, "%s %s %s", GEN_PICK(r, family_names), middle, given);
    given = GEN_PICK(r, given_m);
    middle = GEN_PICK(r, middle_m);
    snprintf(signer, size, "%s %s %s", GEN_PICK(r, family_names), middle, given);
}

Lienthong__V1__PartialDate *gen_date_msg(gen_arena_t *arena, int32_t day, int precision)
{
    Lienthong__V1__PartialDate *msg =
        gen_arena_msg(arena, &lienthong__v1__partial_date__descriptor);
    lt_date_t d = gen_date(day);
    msg->year = (uint32_t)d.year;
    if (precision >= 2)
        msg->month = (uint32_t)d.month;
    if (precision >= 3)
        msg->day = (uint32_t)d.day;
    return msg;
}

Lienthong__V1__PersonName *gen_person_name_msg(gen_arena_t *arena, const gen_person_t *p)
{
    Lienthong__V1__PersonName *name =
        gen_arena_msg(arena, &lienthong__v1__person_name__descriptor);
    if (p->foreign) {
        name->full = gen_arena_strdup(arena, p->foreign);
        return name;
    }
    name->family = gen_arena_strdup(arena, p->family);
    name->middle = gen_arena_strdup(arena, p->middle);
    name->given = gen_arena_strdup(arena, p->given);
    name->full = gen_arena_printf(arena, "%s %s %s", p->family, p->middle, p->given);
    return name;
}

Lienthong__V1__Person *gen_person_msg(gen_arena_t *arena, const gen_person_t *p)
{
    Lienthong__V1__Person *msg = gen_arena_msg(arena, &lienthong__v1__person__descriptor);
    msg->name = gen_person_name_msg(arena, p);
    msg->date_of_birth = gen_date_msg(arena, p->dob, p->dob_precision);
    msg->sex = p->sex == LT_SEX_MALE ? LIENTHONG__V1__SEX__SEX_MALE
                                     : LIENTHONG__V1__SEX__SEX_FEMALE;
    msg->personal_id = gen_arena_strdup(arena, p->id);
    msg->ethnicity = gen_arena_strdup(arena, p->ethnicity ? p->ethnicity : "");
    msg->nationality = gen_arena_strdup(arena, p->nationality);
    msg->residence = gen_arena_strdup(arena, p->residence);
    return msg;
}
