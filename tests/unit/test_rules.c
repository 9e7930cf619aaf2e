/* lt_rules: every rule from table-driven cases in tests/data/rules/ (one
 * row a case, the expected reason code by name), plus the sentences. */
#include "lt_rules.h"
#include "lt_test.h"
#include "lt_tsv.h"
#include "lt_util.h"

static lt_units_t *units;
static char units_path[512];

/* "YYYY-MM-DD" with 00 for unknown parts; "" is "no date". */
static lt_date_t parse_date(const char *s)
{
    lt_date_t d = {0, 0, 0};
    if (*s && sscanf(s, "%d-%d-%d", &d.year, &d.month, &d.day) != 3)
        LT_FAIL_("bad date in table: %s", s);
    return d;
}

static lt_sex_t parse_sex(const char *s)
{
    return s[0] == 'M' ? LT_SEX_MALE : s[0] == 'F' ? LT_SEX_FEMALE : LT_SEX_UNKNOWN;
}

/* Compare a reason code with the table's name; on a mismatch show the sentence. */
static void expect_code(const lt_tsv_t *t, int rc, const char *errstr)
{
    const char *want = t->field[t->nfields - 1];
    ASSERT_EQ_STR(lt_rule_code_name(rc), want);
    if (strcmp(lt_rule_code_name(rc), want) != 0)
        fprintf(stderr, "  at %s:%d (%s)\n", t->path, t->lineno,
                rc ? errstr : "no error");
    else if (rc != 0 && errstr[0] == '\0')
        LT_FAIL_("%s:%d: reason %s without a sentence", t->path, t->lineno, want);
}

static void expect_int(const lt_tsv_t *t, int got)
{
    int want = atoi(t->field[t->nfields - 1]);
    ASSERT_EQ_INT(got, want);
    if (got != want)
        fprintf(stderr, "  at %s:%d\n", t->path, t->lineno);
}

typedef void (*row_fn)(const lt_tsv_t *t);

static int run_table(const char *relpath, row_fn fn)
{
    lt_tsv_t *t = lt_tsv_open(relpath);
    int rows = 0;
    ASSERT_TRUE(t != NULL);
    while (t && lt_tsv_next(t)) {
        fn(t);
        rows++;
    }
    lt_tsv_close(t);
    fprintf(stderr, "  %s: %d cases\n", relpath, rows);
    return rows;
}

/* ------------------------------------------------------------ personal ID */

static void personal_id_row(const lt_tsv_t *t)
{
    char errstr[256] = "";
    int rc =
        lt_rule_personal_id(units, t->field[0], atoi(t->field[1]), parse_sex(t->field[2]),
                            atoi(t->field[3]), errstr, sizeof(errstr));
    expect_code(t, rc, errstr);
}

static void test_personal_id(void)
{
    char errstr[256] = "";
    ASSERT_TRUE(run_table("rules/personal_id.tsv", personal_id_row) >= 50);
    ASSERT_EQ_INT(lt_rule_personal_id(units, "079203001234", 0, LT_SEX_FEMALE, 0, errstr,
                                      sizeof(errstr)),
                  LT_RULE_PERSONAL_ID_SEX_MISMATCH);
    ASSERT_EQ_STR(errstr,
                  "personal ID 079203001234: digit 4 is 2 (male, born 2000-2099) but "
                  "the sex is female");
    ASSERT_EQ_INT(lt_rule_personal_id(units, "079203001234", 0, LT_SEX_UNKNOWN, 2004,
                                      errstr, sizeof(errstr)),
                  LT_RULE_PERSONAL_ID_YEAR_MISMATCH);
    ASSERT_EQ_STR(errstr,
                  "personal ID 079203001234: digits 4-6 (203) say born 2003 but the "
                  "birth year is 2004");
    ASSERT_EQ_INT(lt_rule_personal_id(units, "003099000001", 0, LT_SEX_UNKNOWN, 0, errstr,
                                      sizeof(errstr)),
                  LT_RULE_BAD_PERSONAL_ID);
    ASSERT_CONTAINS(errstr, "digits 1-3 (003) are not a province code");
    ASSERT_EQ_INT(
        lt_rule_personal_id(units, NULL, 0, LT_SEX_UNKNOWN, 0, errstr, sizeof(errstr)),
        LT_RULE_BAD_PERSONAL_ID);
    ASSERT_EQ_STR(errstr, "personal ID '' is not 12 digits");
}

/* ------------------------------------------------------------ dates */

static void dates_row(const lt_tsv_t *t)
{
    char errstr[256] = "";
    const char *op = t->field[0];
    lt_date_t a = parse_date(t->field[1]), b = parse_date(t->field[2]);

    if (strcmp(op, "valid") == 0)
        expect_code(t, lt_rule_date(a, "date of birth", errstr, sizeof(errstr)), errstr);
    else if (strcmp(op, "cmp") == 0)
        expect_int(t, lt_rule_date_cmp(a, b));
    else if (strcmp(op, "not_before") == 0)
        expect_code(t,
                    lt_rule_date_not_before(a, "registration date", b, "date of birth",
                                            errstr, sizeof(errstr)),
                    errstr);
    else if (strcmp(op, "late_birth") == 0)
        expect_int(t, lt_rule_birth_registered_late(a, b));
    else if (strcmp(op, "late_death") == 0)
        expect_int(t, lt_rule_death_registered_late(a, b));
    else
        LT_FAIL_("%s:%d: unknown op %s", t->path, t->lineno, op);
}

static void test_dates(void)
{
    char errstr[256] = "";
    ASSERT_TRUE(run_table("rules/dates.tsv", dates_row) >= 60);
    ASSERT_EQ_INT(lt_rule_date_not_before((lt_date_t){2024, 1, 8}, "registration date",
                                          (lt_date_t){2024, 1, 9}, "date of birth",
                                          errstr, sizeof(errstr)),
                  LT_RULE_DATE_ORDER);
    ASSERT_EQ_STR(errstr,
                  "registration date 2024-01-08 is before date of birth 2024-01-09");
    ASSERT_EQ_INT(
        lt_rule_date((lt_date_t){2023, 2, 29}, "date of death", errstr, sizeof(errstr)),
        LT_RULE_BAD_DATE);
    ASSERT_CONTAINS(errstr, "date of death 2023-02-29 is not a date");
}

static void check_date_from_us(int64_t us, int offset, int y, int m, int d)
{
    lt_date_t got = lt_rule_date_from_us(us, offset);
    ASSERT_EQ_INT(got.year * 10000 + got.month * 100 + got.day, y * 10000 + m * 100 + d);
}

static void test_date_from_us(void)
{
    const int vn = 7 * 3600;
    check_date_from_us(0, 0, 1970, 1, 1);
    check_date_from_us(-1, 0, 1969, 12, 31);
    check_date_from_us(1751328000000000LL, 0, 2025, 7, 1); /* 2025-07-01T00:00Z */
    check_date_from_us(1751328000000000LL - 1, 0, 2025, 6, 30);
    check_date_from_us(1751302800000000LL, vn, 2025, 7, 1); /* 2025-06-30T17:00Z */
    check_date_from_us(1751302800000000LL - 1, vn, 2025, 6, 30);
    check_date_from_us(951782400000000LL, 0, 2000, 2, 29);
    check_date_from_us(4107542400000000LL, 0, 2100, 3, 1); /* 2100 is not leap */
    check_date_from_us(-2208988800000000LL, 0, 1900, 1, 1);
    /* Every day 1900..2100 round-trips through the comparison. */
    lt_date_t prev = lt_rule_date_from_us(-2208988800000000LL, 0);
    int bad = 0;
    for (int64_t day = 1; day < 73415; day++) {
        lt_date_t d = lt_rule_date_from_us((-2208988800LL + day * 86400) * 1000000, vn);
        if (lt_rule_date_cmp(prev, d) != -1 || lt_rule_date(d, "d", NULL, 0) != 0)
            bad++;
        prev = d;
    }
    ASSERT_EQ_INT(bad, 0);
    ASSERT_EQ_INT(prev.year * 10000 + prev.month * 100 + prev.day, 21010101);
}

/* ------------------------------------------------------------ dossiers */

static void dossier_code_row(const lt_tsv_t *t)
{
    char errstr[256] = "";
    expect_code(t,
                lt_rule_dossier_code(t->field[0], parse_date(t->field[1]), errstr,
                                     sizeof(errstr)),
                errstr);
}

static void test_dossier_code(void)
{
    char errstr[256] = "";
    ASSERT_TRUE(run_table("rules/dossier_code.tsv", dossier_code_row) >= 35);
    ASSERT_EQ_INT(lt_rule_dossier_code("000.00.07.H56-220315-0001",
                                       (lt_date_t){2022, 3, 16}, errstr, sizeof(errstr)),
                  LT_RULE_DOSSIER_CODE_DATE_MISMATCH);
    ASSERT_EQ_STR(errstr,
                  "dossier code 000.00.07.H56-220315-0001: date 220315 differs from "
                  "the receipt date 2022-03-16");
    ASSERT_EQ_INT(
        lt_rule_dossier_code(NULL, (lt_date_t){0, 0, 0}, errstr, sizeof(errstr)),
        LT_RULE_BAD_DOSSIER_CODE);
}

/* "NEW@0 ACCEPTED@10" into steps; returns the count. */
static size_t parse_history(const char *s, lt_dossier_step_t *steps, size_t max)
{
    char buf[512], *save = NULL;
    size_t n = 0;
    lt_strlcpy(buf, s, sizeof(buf));
    for (char *tok = strtok_r(buf, " ", &save); tok && n < max;
         tok = strtok_r(NULL, " ", &save)) {
        char *at = strchr(tok, '@');
        if (at)
            *at = '\0';
        steps[n].status = lt_rule_status_from_name(tok);
        steps[n++].at_us = at ? strtoll(at + 1, NULL, 10) : 0;
    }
    return n;
}

static void dossier_status_row(const lt_tsv_t *t)
{
    char errstr[256] = "";
    lt_dossier_step_t steps[32];
    int rc;

    if (strcmp(t->field[0], "transition") == 0) {
        rc = lt_rule_dossier_transition(lt_rule_status_from_name(t->field[1]),
                                        lt_rule_status_from_name(t->field[2]), errstr,
                                        sizeof(errstr));
    } else if (strcmp(t->field[0], "received") == 0) {
        /* what the dossier carries besides its status: history, receivedAt, both, none */
        const char *has = t->field[2];
        int history = !strcmp(has, "history") || !strcmp(has, "both");
        int received = !strcmp(has, "receivedAt") || !strcmp(has, "both");
        if (!history && !received && strcmp(has, "none") != 0)
            LT_FAIL_("%s:%d: carries \"%s\"?", t->path, t->lineno, has);
        rc = lt_rule_dossier_received(lt_rule_status_from_name(t->field[1]),
                                      history ? 2 : 0, received ? 1794318087000000 : 0,
                                      errstr, sizeof(errstr));
    } else {
        size_t n = parse_history(t->field[1], steps, 32);
        rc = lt_rule_dossier_history(steps, n, errstr, sizeof(errstr));
    }
    expect_code(t, rc, errstr);
}

static void test_dossier_status(void)
{
    char errstr[256] = "";
    lt_dossier_step_t steps[3] = {
        {LT_DOSSIER_NEW, 0}, {LT_DOSSIER_ACCEPTED, 10}, {LT_DOSSIER_PROCESSED, 20}};

    ASSERT_TRUE(run_table("rules/dossier_status.tsv", dossier_status_row) >= 120);
    for (int s = 0; s < LT_DOSSIER_STATUS_COUNT; s++)
        ASSERT_EQ_INT(
            lt_rule_status_from_name(lt_rule_status_name((lt_dossier_status_t)s)), s);
    ASSERT_EQ_STR(lt_rule_status_name((lt_dossier_status_t)42), "UNSPECIFIED");
    ASSERT_EQ_INT(lt_rule_status_from_name(NULL), LT_DOSSIER_UNSPECIFIED);
    ASSERT_EQ_INT(lt_rule_status_terminal(LT_DOSSIER_RESULT_RETURNED), 1);
    ASSERT_EQ_INT(lt_rule_status_terminal(LT_DOSSIER_PROCESSED), 0);
    ASSERT_EQ_INT(lt_rule_dossier_history(steps, 3, errstr, sizeof(errstr)),
                  LT_RULE_BAD_STATUS_TRANSITION);
    ASSERT_EQ_STR(errstr,
                  "status history step 2: dossier status cannot change from ACCEPTED to "
                  "PROCESSED");
    ASSERT_EQ_INT(lt_rule_dossier_transition(LT_DOSSIER_WITHDRAWN, LT_DOSSIER_ACCEPTED,
                                             errstr, sizeof(errstr)),
                  LT_RULE_TERMINAL_STATUS);
    ASSERT_EQ_STR(errstr,
                  "dossier status WITHDRAWN is terminal: it cannot change to ACCEPTED");
    ASSERT_EQ_INT(lt_rule_dossier_history(NULL, 0, errstr, sizeof(errstr)), LT_RULE_OK);
    ASSERT_EQ_INT(lt_rule_dossier_received(LT_DOSSIER_IN_PROCESS, 0, 0, errstr,
                                           sizeof(errstr)),
                  LT_RULE_MISSING_RECEIVED_AT);
    ASSERT_EQ_STR(errstr, "a dossier at status IN_PROCESS has been received, but it has "
                          "neither a receipt time nor a status history to say when");
}

/* Every step of a long history is checked; beyond the cap the history is
 * refused as a whole, never cut. */
static void test_dossier_history_long(void)
{
    static lt_dossier_step_t steps[LT_DOSSIER_HISTORY_MAX + 1];
    const size_t max = LT_DOSSIER_HISTORY_MAX;
    char errstr[256] = "";

    /* NEW, ACCEPTED, then IN_PROCESS <-> SUPPLEMENT_REQUESTED, one step a second */
    for (size_t i = 0; i <= max; i++)
        steps[i] = (lt_dossier_step_t){i == 0   ? LT_DOSSIER_NEW
                                       : i == 1 ? LT_DOSSIER_ACCEPTED
                                       : i % 2  ? LT_DOSSIER_SUPPLEMENT_REQUESTED
                                                : LT_DOSSIER_IN_PROCESS,
                                       (int64_t)i * 1000000};
    ASSERT_EQ_INT(lt_rule_dossier_history(steps, max, errstr, sizeof(errstr)),
                  LT_RULE_OK);
    ASSERT_EQ_INT(lt_rule_dossier_history(steps, max + 1, errstr, sizeof(errstr)),
                  LT_RULE_HISTORY_TOO_LONG);
    ASSERT_EQ_STR(errstr, "status history has 1001 steps, more than the 1000 allowed");
    ASSERT_EQ_INT(lt_rule_dossier_history_length(max, errstr, sizeof(errstr)),
                  LT_RULE_OK);
    steps[max - 1].status = LT_DOSSIER_NEW; /* the very last step goes back */
    ASSERT_EQ_INT(lt_rule_dossier_history(steps, max, errstr, sizeof(errstr)),
                  LT_RULE_BAD_STATUS_TRANSITION);
    ASSERT_CONTAINS(errstr, "status history step 999: ");
}

/* ------------------------------------------------------------ units */

static void unit_rules_row(const lt_tsv_t *t)
{
    char errstr[256] = "";
    int rc;
    if (strcmp(t->field[0], "ref") == 0)
        rc = lt_rule_unit_ref(units, t->field[1], t->field[2], parse_date(t->field[3]),
                              errstr, sizeof(errstr));
    else
        rc = lt_rule_commune_in_province(units, t->field[1], t->field[2], t->field[3],
                                         errstr, sizeof(errstr));
    expect_code(t, rc, errstr);
}

static void test_unit_rules(void)
{
    char errstr[256] = "";
    ASSERT_TRUE(run_table("rules/unit_rules.tsv", unit_rules_row) >= 55);
    ASSERT_EQ_INT(lt_rule_commune_in_province(units, "00004", "79", "2025-07-01", errstr,
                                              sizeof(errstr)),
                  LT_RULE_COMMUNE_NOT_IN_PROVINCE);
    ASSERT_EQ_STR(errstr,
                  "commune 00004 (Phường Ba Đình) is not in province 79 (Thành phố Hồ "
                  "Chí Minh) under code list 2025-07-01");
    ASSERT_EQ_INT(lt_rule_unit_ref(units, "00016", "2024-12-31", (lt_date_t){2025, 7, 1},
                                   errstr, sizeof(errstr)),
                  LT_RULE_OLD_CODE_AFTER_REFORM);
    ASSERT_CONTAINS(errstr, "'00016' is from the pre-reform code list 2024-12-31");
    ASSERT_EQ_INT(lt_rule_unit_ref(units, "00016", "2025-07-01", (lt_date_t){0, 0, 0},
                                   errstr, sizeof(errstr)),
                  LT_RULE_BAD_UNIT_CODE);
    ASSERT_EQ_STR(errstr, "unit code '00016' is not in the 2025-07-01 code list");
    ASSERT_EQ_INT(lt_rule_unit_ref(units, "00004", NULL, (lt_date_t){0, 0, 0}, errstr,
                                   sizeof(errstr)),
                  LT_RULE_BAD_CODE_LIST_VERSION);
}

static void test_units_without_merges(void)
{
    char errstr[256] = "";
    lt_units_t *bare = lt_units_load(units_path, errstr, sizeof(errstr));
    ASSERT_TRUE(bare != NULL);
    if (!bare)
        return;
    ASSERT_EQ_INT(lt_rule_unit_ref(bare, "00016", "2024-12-31", (lt_date_t){2024, 1, 1},
                                   errstr, sizeof(errstr)),
                  LT_RULE_BAD_UNIT_CODE);
    ASSERT_CONTAINS(errstr, "(the pre-reform list is not loaded)");
    /* Post-reform province codes still pass without the pre-reform list. */
    ASSERT_EQ_INT(lt_rule_personal_id(bare, "079203001234", 0, LT_SEX_MALE, 2003, errstr,
                                      sizeof(errstr)),
                  LT_RULE_OK);
    lt_units_destroy(bare);
}

/* ------------------------------------------------------------ codes, text */

static void test_code_names(void)
{
    static const char *const names[] = {"ok",
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
                                        "history_too_long"};
    /* Stored with quarantined records: the numbering must never change. */
    for (int i = 0; i < (int)(sizeof(names) / sizeof(*names)); i++)
        ASSERT_EQ_STR(lt_rule_code_name(-i), names[i]);
    ASSERT_EQ_INT(LT_RULE_TIME_ORDER, -16);
    ASSERT_EQ_INT(LT_RULE_KIND_MISMATCH, -17);
    ASSERT_EQ_INT(LT_RULE_MISSING_RECEIVED_AT, -18);
    ASSERT_EQ_INT(LT_RULE_HISTORY_TOO_LONG, -19);
    ASSERT_EQ_STR(lt_rule_code_name(-20), "unknown");
    ASSERT_EQ_STR(lt_rule_code_name(1), "unknown");
}

static void test_text_rule(void)
{
    char errstr[256] = "";
    ASSERT_EQ_INT(
        lt_rule_text("Nguyễn Văn A", "child name", LT_TEXT_LINE, errstr, sizeof(errstr)),
        LT_RULE_OK);
    ASSERT_EQ_INT(lt_rule_text(NULL, "child name", LT_TEXT_LINE, errstr, sizeof(errstr)),
                  LT_RULE_OK);
    ASSERT_EQ_INT(
        lt_rule_text("Nguyễn\tVăn A", "child name", LT_TEXT_LINE, errstr, sizeof(errstr)),
        LT_RULE_BAD_TEXT);
    ASSERT_EQ_STR(errstr,
                  "child name: control character U+0009 at offset 8 (not allowed in "
                  "a name or code)");
    ASSERT_EQ_INT(lt_rule_text("số 1\nđường 2", "residence", LT_TEXT_MULTILINE, errstr,
                               sizeof(errstr)),
                  LT_RULE_OK);
}

/* ------------------------------------------------------------ values built */

/* Day numbers and dates agree both ways, 1900..2100; a day past the month's
 * end runs on. */
static void test_date_days(void)
{
    int bad = 0;
    ASSERT_EQ_INT(lt_rule_date_days((lt_date_t){1970, 1, 1}), 0);
    ASSERT_EQ_INT(lt_rule_date_days((lt_date_t){2025, 7, 1}), 20270);
    ASSERT_EQ_INT(lt_rule_date_days((lt_date_t){1969, 12, 31}), -1);
    ASSERT_EQ_INT(lt_rule_date_days((lt_date_t){2025, 2, 29}),
                  lt_rule_date_days((lt_date_t){2025, 3, 1}));
    for (int64_t day = -25567; day < 47482; day++) { /* 1900-01-01 .. 2099-12-31 */
        lt_date_t d = lt_rule_date_from_days(day);
        lt_date_t via_us = lt_rule_date_from_us(day * 86400 * 1000000, 0);
        if (lt_rule_date_days(d) != day || d.year != via_us.year ||
            d.month != via_us.month || d.day != via_us.day)
            bad++;
    }
    ASSERT_EQ_INT(bad, 0);
}

/* What lt_rule_personal_id_make builds, lt_rule_personal_id accepts with the
 * same sex and year; years and sexes it cannot encode are refused. */
static void test_personal_id_make(void)
{
    char id[13] = "", errstr[256] = "";
    int bad = 0;
    ASSERT_EQ_INT(lt_rule_personal_id_make("001", LT_SEX_MALE, 1990, 42, id), LT_RULE_OK);
    ASSERT_EQ_STR(id, "001090000042");
    ASSERT_EQ_INT(lt_rule_personal_id_make("079", LT_SEX_FEMALE, 2005, 1123456, id),
                  LT_RULE_OK);
    ASSERT_EQ_STR(id, "079305123456");
    for (int year = 1900; year <= 2399; year++) {
        for (lt_sex_t sex = LT_SEX_MALE; sex <= LT_SEX_FEMALE; sex++) {
            if (lt_rule_personal_id_make("001", sex, year, (uint32_t)year * 7, id) != 0 ||
                lt_rule_personal_id(units, id, 0, sex, year, errstr, sizeof(errstr)) != 0)
                bad++;
        }
    }
    ASSERT_EQ_INT(bad, 0);
    strcpy(id, "untouched");
    ASSERT_EQ_INT(lt_rule_personal_id_make("001", LT_SEX_MALE, 1899, 1, id),
                  LT_RULE_BAD_PERSONAL_ID);
    ASSERT_EQ_INT(lt_rule_personal_id_make("001", LT_SEX_FEMALE, 2400, 1, id),
                  LT_RULE_BAD_PERSONAL_ID);
    ASSERT_EQ_INT(lt_rule_personal_id_make("001", LT_SEX_UNKNOWN, 2000, 1, id),
                  LT_RULE_BAD_PERSONAL_ID);
    ASSERT_EQ_STR(id, "untouched");
}

int main(void)
{
    char errstr[256] = "";
    const char *dir = getenv("LT_TEST_DATA");
    snprintf(units_path, sizeof(units_path),
             "%s/../../data/admin-units/units-2026-07-25.json", dir ? dir : "tests/data");
    units = lt_units_load(units_path, errstr, sizeof(errstr));
    if (!units || lt_units_load_merges(units, NULL, errstr, sizeof(errstr)) != 0) {
        fprintf(stderr, "cannot load the unit lists: %s\n", errstr);
        return EXIT_FAILURE;
    }
    RUN_TEST(test_code_names);
    RUN_TEST(test_text_rule);
    RUN_TEST(test_personal_id);
    RUN_TEST(test_dates);
    RUN_TEST(test_date_from_us);
    RUN_TEST(test_dossier_code);
    RUN_TEST(test_dossier_status);
    RUN_TEST(test_dossier_history_long);
    RUN_TEST(test_unit_rules);
    RUN_TEST(test_units_without_merges);
    RUN_TEST(test_date_days);
    RUN_TEST(test_personal_id_make);
    lt_units_destroy(units);
    return LT_TEST_EXIT();
}
