#include "lt_rules.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lt_util.h"

#define LT_COUNT(a) (sizeof(a) / sizeof(*(a)))

/* lt_err() returns -1; the checks return a reason code with the same sentence. */
#define LT_RULE_FAIL(code, ...) (lt_err(errstr, errstr_size, __VA_ARGS__), (code))

static const char *const lt_rule_names[] = {
    "ok",
    "bad_text",
    "bad_date",
    "date_order",
    "bad_code_list_version",
    "bad_unit_code",
    "old_code_after_reform",
    "commune_not_in_province",
    "bad_personal_id",
    "personal_id_sex_mismatch",
    "personal_id_year_mismatch",
    "bad_dossier_code",
    "dossier_code_date_mismatch",
    "bad_status",
    "bad_status_transition",
    "terminal_status",
    "time_order",
    "kind_mismatch",
    "missing_received_at",
    "history_too_long",
};

const char *lt_rule_code_name(int code)
{
    if (code > 0 || (size_t)-code >= LT_COUNT(lt_rule_names))
        return "unknown";
    return lt_rule_names[-code];
}

/* ------------------------------------------------------------ text */

int lt_rule_text(const char *s, const char *what, lt_text_kind_t kind, char *errstr,
                 size_t errstr_size)
{
    char why[160];
    if (!s || lt_text_validate(s, strlen(s), kind, why, sizeof(why)) == 0)
        return LT_RULE_OK;
    return LT_RULE_FAIL(LT_RULE_BAD_TEXT, "%s: %s", what, why);
}

/* ------------------------------------------------------------ dates */

static int lt_is_leap(int y)
{
    return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

static int lt_days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && lt_is_leap(y) ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a full date (proleptic Gregorian). */
static int64_t lt_days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

lt_date_t lt_rule_date_from_us(int64_t unix_us, int utc_offset_s)
{
    int64_t secs = unix_us / 1000000 - (unix_us % 1000000 < 0) + utc_offset_s;
    int64_t z = secs / 86400 - (secs % 86400 < 0) + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int m = (int)(mp < 10 ? mp + 3 : mp - 9);
    return (lt_date_t){.year = (int)(yoe + era * 400 + (m <= 2)),
                       .month = m,
                       .day = (int)(doy - (153 * mp + 2) / 5 + 1)};
}

static int lt_date_empty(lt_date_t d)
{
    return d.year == 0 && d.month == 0 && d.day == 0;
}

static int lt_date_valid(lt_date_t d)
{
    if (d.year < 1 || d.year > 9999 || d.month < 0 || d.month > 12 || d.day < 0)
        return 0;
    if (d.month == 0)
        return d.day == 0;
    return d.day <= lt_days_in_month(d.year, d.month);
}

/* The first and last day the partial date can be, in days since the epoch. */
static int64_t lt_date_lo(lt_date_t d)
{
    return lt_days_from_civil(d.year, d.month ? d.month : 1, d.day ? d.day : 1);
}

static int64_t lt_date_hi(lt_date_t d)
{
    int m = d.month ? d.month : 12;
    return lt_days_from_civil(d.year, m, d.day ? d.day : lt_days_in_month(d.year, m));
}

int lt_rule_date(lt_date_t date, const char *what, char *errstr, size_t errstr_size)
{
    if (lt_date_valid(date))
        return LT_RULE_OK;
    return LT_RULE_FAIL(LT_RULE_BAD_DATE,
                        "%s %04d-%02d-%02d is not a date (year 1-9999 required; month 0 "
                        "or 1-12; day 0 or a day of that month, 0 when the month is 0)",
                        what, date.year, date.month, date.day);
}

int lt_rule_date_cmp(lt_date_t a, lt_date_t b)
{
    if (lt_date_hi(a) < lt_date_lo(b))
        return -1;
    if (lt_date_lo(a) > lt_date_hi(b))
        return 1;
    return 0;
}

int lt_rule_date_not_before(lt_date_t later, const char *later_what, lt_date_t earlier,
                            const char *earlier_what, char *errstr, size_t errstr_size)
{
    int rc;
    if (lt_date_empty(later) || lt_date_empty(earlier))
        return LT_RULE_OK;
    if ((rc = lt_rule_date(later, later_what, errstr, errstr_size)) != 0 ||
        (rc = lt_rule_date(earlier, earlier_what, errstr, errstr_size)) != 0)
        return rc;
    if (lt_rule_date_cmp(later, earlier) >= 0)
        return LT_RULE_OK;
    return LT_RULE_FAIL(LT_RULE_DATE_ORDER,
                        "%s %04d-%02d-%02d is before %s %04d-%02d-%02d", later_what,
                        later.year, later.month, later.day, earlier_what, earlier.year,
                        earlier.month, earlier.day);
}

static int lt_registered_late(lt_date_t event, lt_date_t registered, int days)
{
    if (!lt_date_valid(event) || !lt_date_valid(registered))
        return 0;
    return lt_date_lo(registered) - lt_date_hi(event) > days;
}

int lt_rule_birth_registered_late(lt_date_t birth, lt_date_t registered)
{
    return lt_registered_late(birth, registered, LT_BIRTH_REGISTRATION_DAYS);
}

int lt_rule_death_registered_late(lt_date_t death, lt_date_t registered)
{
    return lt_registered_late(death, registered, LT_DEATH_REGISTRATION_DAYS);
}

/* ------------------------------------------------------------ personal ID */

static const char *lt_sex_name(lt_sex_t sex)
{
    return sex == LT_SEX_FEMALE ? "female" : "male";
}

static int lt_personal_id_place(const lt_units_t *units, const char *id, int born_abroad,
                                char *errstr, size_t errstr_size)
{
    char prov[3] = {id[1], id[2], '\0'};
    if (born_abroad || (id[0] == '0' && lt_units_any_province_name(units, prov) != NULL))
        return LT_RULE_OK;
    return LT_RULE_FAIL(LT_RULE_BAD_PERSONAL_ID,
                        "personal ID %s: digits 1-3 (%.3s) are not a province code, and "
                        "the birth was not registered abroad",
                        id, id);
}

int lt_rule_personal_id(const lt_units_t *units, const char *id, int born_abroad,
                        lt_sex_t sex, int birth_year, char *errstr, size_t errstr_size)
{
    int rc, d4, century, yy;

    if (!id || strlen(id) != 12 || !lt_is_digits(id, 12))
        return LT_RULE_FAIL(LT_RULE_BAD_PERSONAL_ID,
                            "personal ID '%.40s' is not 12 digits", id ? id : "");
    if ((rc = lt_personal_id_place(units, id, born_abroad, errstr, errstr_size)) != 0)
        return rc;
    d4 = id[3] - '0';
    century = 1900 + d4 / 2 * 100;
    yy = (id[4] - '0') * 10 + (id[5] - '0');
    if (sex != LT_SEX_UNKNOWN && (sex == LT_SEX_FEMALE) != (d4 % 2 == 1))
        return LT_RULE_FAIL(
            LT_RULE_PERSONAL_ID_SEX_MISMATCH,
            "personal ID %s: digit 4 is %d (%s, born %d-%d) but the sex is %s", id, d4,
            lt_sex_name(d4 % 2 ? LT_SEX_FEMALE : LT_SEX_MALE), century, century + 99,
            lt_sex_name(sex));
    if (birth_year != 0 && birth_year != century + yy)
        return LT_RULE_FAIL(LT_RULE_PERSONAL_ID_YEAR_MISMATCH,
                            "personal ID %s: digits 4-6 (%.3s) say born %d but the birth "
                            "year is %d",
                            id, id + 3, century + yy, birth_year);
    return LT_RULE_OK;
}

/* ------------------------------------------------------------ dossier code */

/* Shape of AAA.BB.CC.DDD-YYMMDD-NNNN: 'A' upper-case letter or digit, '9' digit,
 * anything else itself. */
static const char lt_dossier_shape[] = "AAA.99.99.AAA-999999-9999";

static int lt_dossier_shape_ok(const char *code)
{
    if (strlen(code) != sizeof(lt_dossier_shape) - 1)
        return 0;
    for (size_t i = 0; lt_dossier_shape[i]; i++) {
        char want = lt_dossier_shape[i], c = code[i];
        int digit = c >= '0' && c <= '9', upper = c >= 'A' && c <= 'Z';
        if (want == '9' ? !digit : want == 'A' ? !(digit || upper) : c != want)
            return 0;
    }
    return 1;
}

static int lt_two(const char *s)
{
    return (s[0] - '0') * 10 + (s[1] - '0');
}

int lt_rule_dossier_code(const char *code, lt_date_t received, char *errstr,
                         size_t errstr_size)
{
    lt_date_t d;
    int yy;

    if (!code || !lt_dossier_shape_ok(code))
        return LT_RULE_FAIL(
            LT_RULE_BAD_DOSSIER_CODE,
            "dossier code '%.40s' is not of the form AAA.BB.CC.DDD-YYMMDD-NNNN",
            code ? code : "");
    yy = lt_two(code + 14);
    d = (lt_date_t){.year = (received.year > 0 ? received.year / 100 * 100 : 2000) + yy,
                    .month = lt_two(code + 16),
                    .day = lt_two(code + 18)};
    if (d.month == 0 || d.day == 0 || !lt_date_valid(d))
        return LT_RULE_FAIL(LT_RULE_BAD_DOSSIER_CODE,
                            "dossier code %s: %.6s is not a calendar date (YYMMDD)", code,
                            code + 14);
    if (lt_date_empty(received) ||
        (received.year % 100 == yy && (!received.month || received.month == d.month) &&
         (!received.day || received.day == d.day)))
        return LT_RULE_OK;
    return LT_RULE_FAIL(LT_RULE_DOSSIER_CODE_DATE_MISMATCH,
                        "dossier code %s: date %.6s differs from the receipt date "
                        "%04d-%02d-%02d",
                        code, code + 14, received.year, received.month, received.day);
}

/* ------------------------------------------------------------ dossier status */

static const char *const lt_status_names[LT_DOSSIER_STATUS_COUNT] = {
    "UNSPECIFIED",        "NEW",
    "ACCEPTED",           "NOT_ACCEPTED",
    "IN_PROCESS",         "SUPPLEMENT_REQUESTED",
    "FEE_REQUESTED",      "WITHDRAWN",
    "PROCESSING_STOPPED", "PROCESSED",
    "RESULT_RETURNED",
};

#define LT_S(s) (1u << LT_DOSSIER_##s)

/* Allowed status changes, by status before (an unchanged status always passes):
 *   NEW                  -> ACCEPTED | NOT_ACCEPTED | WITHDRAWN
 *   ACCEPTED             -> IN_PROCESS | FEE_REQUESTED | SUPPLEMENT_REQUESTED | WITHDRAWN
 *   IN_PROCESS           -> SUPPLEMENT_REQUESTED | FEE_REQUESTED | PROCESSED
 *                           | PROCESSING_STOPPED | WITHDRAWN
 *   SUPPLEMENT_REQUESTED -> IN_PROCESS | ACCEPTED | WITHDRAWN | PROCESSING_STOPPED
 *   FEE_REQUESTED        -> IN_PROCESS | ACCEPTED | WITHDRAWN
 *   PROCESSED            -> RESULT_RETURNED
 * Terminal, nothing leaves them: NOT_ACCEPTED, WITHDRAWN, PROCESSING_STOPPED,
 * RESULT_RETURNED. */
static const unsigned lt_status_next[LT_DOSSIER_STATUS_COUNT] = {
    [LT_DOSSIER_NEW] = LT_S(ACCEPTED) | LT_S(NOT_ACCEPTED) | LT_S(WITHDRAWN),
    [LT_DOSSIER_ACCEPTED] = LT_S(IN_PROCESS) | LT_S(FEE_REQUESTED) |
                            LT_S(SUPPLEMENT_REQUESTED) | LT_S(WITHDRAWN),
    [LT_DOSSIER_IN_PROCESS] = LT_S(SUPPLEMENT_REQUESTED) | LT_S(FEE_REQUESTED) |
                              LT_S(PROCESSED) | LT_S(PROCESSING_STOPPED) |
                              LT_S(WITHDRAWN),
    [LT_DOSSIER_SUPPLEMENT_REQUESTED] =
        LT_S(IN_PROCESS) | LT_S(ACCEPTED) | LT_S(WITHDRAWN) | LT_S(PROCESSING_STOPPED),
    [LT_DOSSIER_FEE_REQUESTED] = LT_S(IN_PROCESS) | LT_S(ACCEPTED) | LT_S(WITHDRAWN),
    [LT_DOSSIER_PROCESSED] = LT_S(RESULT_RETURNED),
};

static int lt_status_valid(lt_dossier_status_t s)
{
    return s > LT_DOSSIER_UNSPECIFIED && s < LT_DOSSIER_STATUS_COUNT;
}

const char *lt_rule_status_name(lt_dossier_status_t status)
{
    return lt_status_valid(status) ? lt_status_names[status] : lt_status_names[0];
}

lt_dossier_status_t lt_rule_status_from_name(const char *name)
{
    static const char prefix[] = "DOSSIER_STATUS_";
    if (!name)
        return LT_DOSSIER_UNSPECIFIED;
    if (strncmp(name, prefix, sizeof(prefix) - 1) == 0)
        name += sizeof(prefix) - 1;
    if (strcmp(name, "RETURNED") == 0)
        return LT_DOSSIER_RESULT_RETURNED;
    for (int s = LT_DOSSIER_NEW; s < LT_DOSSIER_STATUS_COUNT; s++)
        if (strcmp(name, lt_status_names[s]) == 0)
            return (lt_dossier_status_t)s;
    return LT_DOSSIER_UNSPECIFIED;
}

int lt_rule_status_terminal(lt_dossier_status_t status)
{
    return status == LT_DOSSIER_NOT_ACCEPTED || status == LT_DOSSIER_WITHDRAWN ||
           status == LT_DOSSIER_PROCESSING_STOPPED ||
           status == LT_DOSSIER_RESULT_RETURNED;
}

int lt_rule_dossier_transition(lt_dossier_status_t from, lt_dossier_status_t to,
                               char *errstr, size_t errstr_size)
{
    if (!lt_status_valid(from) || !lt_status_valid(to))
        return LT_RULE_FAIL(LT_RULE_BAD_STATUS, "dossier status %d is not a known status",
                            lt_status_valid(from) ? (int)to : (int)from);
    if (from == to)
        return LT_RULE_OK;
    if (lt_rule_status_terminal(from))
        return LT_RULE_FAIL(LT_RULE_TERMINAL_STATUS,
                            "dossier status %s is terminal: it cannot change to %s",
                            lt_status_names[from], lt_status_names[to]);
    if (lt_status_next[from] & (1u << to))
        return LT_RULE_OK;
    return LT_RULE_FAIL(LT_RULE_BAD_STATUS_TRANSITION,
                        "dossier status cannot change from %s to %s",
                        lt_status_names[from], lt_status_names[to]);
}

int lt_rule_status_received(lt_dossier_status_t status)
{
    /* NEW's successors other than ACCEPTED: a dossier can end there unreceived */
    return lt_status_valid(status) && status != LT_DOSSIER_NEW &&
           status != LT_DOSSIER_NOT_ACCEPTED && status != LT_DOSSIER_WITHDRAWN;
}

int lt_rule_dossier_received(lt_dossier_status_t status, size_t n_history,
                             int64_t received_at_us, char *errstr, size_t errstr_size)
{
    if (!lt_rule_status_received(status) || n_history > 0 || received_at_us != 0)
        return LT_RULE_OK;
    return LT_RULE_FAIL(LT_RULE_MISSING_RECEIVED_AT,
                        "a dossier at status %s has been received, but it has neither a "
                        "receipt time nor a status history to say when",
                        lt_status_names[status]);
}

int lt_rule_dossier_history_length(size_t n, char *errstr, size_t errstr_size)
{
    if (n <= LT_DOSSIER_HISTORY_MAX)
        return LT_RULE_OK;
    return LT_RULE_FAIL(LT_RULE_HISTORY_TOO_LONG,
                        "status history has %zu steps, more than the %d allowed", n,
                        LT_DOSSIER_HISTORY_MAX);
}

int lt_rule_dossier_history(const lt_dossier_step_t *steps, size_t n, char *errstr,
                            size_t errstr_size)
{
    char why[160];
    int rc;

    if ((rc = lt_rule_dossier_history_length(n, errstr, errstr_size)) != 0)
        return rc;
    if (n == 0)
        return LT_RULE_OK;
    if (!lt_status_valid(steps[0].status))
        return LT_RULE_FAIL(LT_RULE_BAD_STATUS,
                            "status history step 0: status %d is not a "
                            "known status",
                            (int)steps[0].status);
    if (steps[0].status != LT_DOSSIER_NEW && steps[0].status != LT_DOSSIER_ACCEPTED)
        return LT_RULE_FAIL(LT_RULE_BAD_STATUS_TRANSITION,
                            "status history starts at %s, not at NEW or ACCEPTED",
                            lt_status_names[steps[0].status]);
    for (size_t i = 1; i < n; i++) {
        if (steps[i].at_us < steps[i - 1].at_us)
            return LT_RULE_FAIL(LT_RULE_TIME_ORDER,
                                "status history step %zu (%s) at %" PRId64
                                " us is earlier than step %zu at %" PRId64 " us",
                                i, lt_rule_status_name(steps[i].status), steps[i].at_us,
                                i - 1, steps[i - 1].at_us);
        rc = lt_rule_dossier_transition(steps[i - 1].status, steps[i].status, why,
                                        sizeof(why));
        if (rc != 0)
            return LT_RULE_FAIL(rc, "status history step %zu: %s", i, why);
    }
    return LT_RULE_OK;
}

/* ------------------------------------------------------------ units */

static int lt_rule_version(const char *version, char *errstr, size_t errstr_size)
{
    if (lt_units_version_era(version) != LT_UNITS_ERA_UNKNOWN)
        return LT_RULE_OK;
    return LT_RULE_FAIL(
        LT_RULE_BAD_CODE_LIST_VERSION,
        "code list version '%.40s' is not known: a date before %s names the "
        "pre-reform list, %s and %s the current one",
        version ? version : "", LT_UNITS_REFORM_VERSION, LT_UNITS_REFORM_VERSION,
        LT_UNITS_SNAPSHOT_VERSION);
}

static int lt_rule_unit_known(const lt_units_t *units, const char *code,
                              const char *version, lt_unit_at_t *at, char *errstr,
                              size_t errstr_size)
{
    if (lt_units_lookup(units, code, version, at) == 0)
        return LT_RULE_OK;
    return LT_RULE_FAIL(LT_RULE_BAD_UNIT_CODE,
                        "unit code '%.40s' is not in the %s code list%s",
                        code ? code : "", version,
                        at->era == LT_UNITS_ERA_OLD && !lt_units_has_merges(units)
                            ? " (the pre-reform list is not loaded)"
                            : "");
}

int lt_rule_unit_ref(const lt_units_t *units, const char *code, const char *version,
                     lt_date_t registered, char *errstr, size_t errstr_size)
{
    static const lt_date_t reform = {2025, 7, 1};
    lt_unit_at_t at;
    int rc;

    if ((rc = lt_rule_version(version, errstr, errstr_size)) != 0)
        return rc;
    if (lt_units_version_era(version) == LT_UNITS_ERA_OLD && lt_date_valid(registered) &&
        lt_date_lo(registered) >= lt_date_lo(reform))
        return LT_RULE_FAIL(
            LT_RULE_OLD_CODE_AFTER_REFORM,
            "unit code '%.40s' is from the pre-reform code list %s, but the "
            "record was registered on %04d-%02d-%02d, on or after %s",
            code ? code : "", version, registered.year, registered.month, registered.day,
            LT_UNITS_REFORM_VERSION);
    return lt_rule_unit_known(units, code, version, &at, errstr, errstr_size);
}

int lt_rule_commune_in_province(const lt_units_t *units, const char *commune,
                                const char *province, const char *version, char *errstr,
                                size_t errstr_size)
{
    lt_unit_at_t c, p;
    int rc;

    if ((rc = lt_rule_version(version, errstr, errstr_size)) != 0 ||
        (rc = lt_rule_unit_known(units, commune, version, &c, errstr, errstr_size)) !=
            0 ||
        (rc = lt_rule_unit_known(units, province, version, &p, errstr, errstr_size)) != 0)
        return rc;
    if (c.level == LT_UNIT_PROVINCE)
        return LT_RULE_FAIL(LT_RULE_BAD_UNIT_CODE,
                            "unit code %s (%s) is a province, not a "
                            "commune",
                            c.code, c.full_name);
    if (p.level != LT_UNIT_PROVINCE)
        return LT_RULE_FAIL(LT_RULE_BAD_UNIT_CODE, "unit code %s (%s) is not a province",
                            p.code, p.full_name);
    if (lt_units_in_province(units, commune, province, version) == 1)
        return LT_RULE_OK;
    return LT_RULE_FAIL(LT_RULE_COMMUNE_NOT_IN_PROVINCE,
                        "commune %s (%s) is not in province %s (%s) under code list %s",
                        c.code, c.full_name, p.code, p.full_name, version);
}

/* ------------------------------------------------------------ values built */

int64_t lt_rule_date_days(lt_date_t date)
{
    return lt_days_from_civil(date.year, date.month, date.day);
}

lt_date_t lt_rule_date_from_days(int64_t days)
{
    return lt_rule_date_from_us(days * 86400 * 1000000, 0);
}

int lt_rule_personal_id_make(const char *province3, lt_sex_t sex, int birth_year,
                             uint32_t serial, char out[13])
{
    int yy = birth_year % 100;
    if ((sex != LT_SEX_MALE && sex != LT_SEX_FEMALE) || birth_year < 1900 ||
        birth_year > 2399)
        return LT_RULE_BAD_PERSONAL_ID;
    memcpy(out, province3, 3);
    /* digit 4: even for men, odd for women, two digits per century from 1900 */
    out[3] = (char)('0' + (birth_year - 1900) / 100 * 2 + (sex == LT_SEX_FEMALE));
    out[4] = (char)('0' + yy / 10);
    out[5] = (char)('0' + yy % 10);
    for (int i = 11; i >= 6; i--, serial /= 10)
        out[i] = (char)('0' + serial % 10);
    out[12] = '\0';
    return LT_RULE_OK;
}
