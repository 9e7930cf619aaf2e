/* lt_units: loading, the existing lookups, and the versioned lookups over the
 * merge mapping (cases in tests/data/rules/units.tsv). */
#include "lt_test.h"
#include "lt_tsv.h"
#include "lt_units.h"

static char units_path[512];

static lt_units_t *load_units(int with_merges)
{
    char errstr[256] = "";
    const char *dir = getenv("LT_TEST_DATA");
    snprintf(units_path, sizeof(units_path),
             "%s/../../data/admin-units/units-2026-07-25.json", dir ? dir : "tests/data");
    lt_units_t *units = lt_units_load(units_path, errstr, sizeof(errstr));
    if (!units)
        LT_FAIL_("lt_units_load: %s", errstr);
    else if (with_merges &&
             lt_units_load_merges(units, NULL, errstr, sizeof(errstr)) != 0)
        LT_FAIL_("lt_units_load_merges: %s", errstr);
    return units;
}

static void test_existing_api(void)
{
    lt_units_t *units = load_units(0);
    const lt_unit_t *u = lt_units_commune(units, "00004");
    size_t n = 0;

    ASSERT_TRUE(u != NULL);
    ASSERT_EQ_STR(u ? u->full_name : NULL, "Phường Ba Đình");
    ASSERT_EQ_STR(u ? u->province_code : NULL, "01");
    ASSERT_TRUE(lt_units_commune(units, "06970") ==
                NULL); /* lt_units_commune: no aliases */
    ASSERT_EQ_STR(lt_units_province_name(units, "79"), "Thành phố Hồ Chí Minh");
    ASSERT_TRUE(lt_units_province_name(units, "02") == NULL);
    while (lt_units_province_commune(units, "01", n))
        n++;
    ASSERT_EQ_INT(n, 126);
    ASSERT_EQ_INT(lt_units_has_merges(units), 0);
    lt_units_destroy(units);
    lt_units_destroy(NULL);
}

static void test_merges_load(void)
{
    char errstr[256] = "";
    lt_units_t *units = load_units(0);
    lt_unit_at_t at;

    /* Without the mapping, the pre-reform list is empty. */
    ASSERT_EQ_INT(lt_units_lookup(units, "00016", "2024-12-31", &at), -1);
    ASSERT_EQ_INT(lt_units_lookup(units, "00004", "2025-07-01", &at), 0);
    ASSERT_TRUE(lt_units_any_province_name(units, "02") == NULL);
    ASSERT_EQ_INT(
        lt_units_load_merges(units, "/nonexistent/merges.json", errstr, sizeof(errstr)),
        -1);
    ASSERT_CONTAINS(errstr, "/nonexistent/merges.json");
    ASSERT_EQ_INT(lt_units_load_merges(units, units_path, errstr, sizeof(errstr)), -1);
    ASSERT_CONTAINS(errstr, "expected an object with a \"data\" array");
    ASSERT_EQ_INT(lt_units_has_merges(units), 0);
    ASSERT_EQ_INT(lt_units_load_merges(units, NULL, errstr, sizeof(errstr)), 0);
    ASSERT_EQ_INT(lt_units_has_merges(units), 1);
    /* Loading twice replaces the first copy. */
    ASSERT_EQ_INT(lt_units_load_merges(units, NULL, errstr, sizeof(errstr)), 0);
    ASSERT_EQ_INT(lt_units_lookup(units, "00016", "2024-12-31", &at), 0);
    ASSERT_EQ_STR(lt_units_any_province_name(units, "02"), "Tỉnh Hà Giang");
    ASSERT_EQ_STR(lt_units_any_province_name(units, "01"), "Thành phố Hà Nội");
    ASSERT_TRUE(lt_units_any_province_name(units, "03") == NULL);
    ASSERT_EQ_STR(lt_units_commune(units, "00004")->full_name, "Phường Ba Đình");
    lt_units_destroy(units);
}

/* Every old unit resolves under an old version and lists successors that are
 * units of the new list in the province it names. */
static void test_every_old_commune_maps(void)
{
    lt_units_t *units = load_units(1);
    char code[8];
    int old = 0, bad = 0;

    for (int i = 0; i < 100000; i++) {
        lt_unit_at_t at, to;
        snprintf(code, sizeof(code), "%05d", i);
        if (lt_units_lookup(units, code, "2025-06-30", &at) != 0)
            continue;
        old++;
        for (size_t s = 0; s < at.n_successors; s++)
            if (lt_units_lookup(units, at.successors[s].code, "2026-07-25", &to) != 0 ||
                strcmp(to.province_code, at.province_code) != 0)
                bad++;
        if (at.n_successors == 0)
            bad++;
    }
    ASSERT_EQ_INT(old, 10052 - 5); /* the 5 island districts have 3-digit codes */
    ASSERT_EQ_INT(bad, 0);
    lt_units_destroy(units);
}

static const char *level_name(const lt_unit_at_t *at, int rc)
{
    if (rc != 0)
        return "none";
    return at->level == LT_UNIT_PROVINCE   ? "province"
           : at->level == LT_UNIT_DISTRICT ? "district"
                                           : "commune";
}

static const char *era_name(lt_units_era_t era)
{
    return era == LT_UNITS_ERA_OLD ? "old" : era == LT_UNITS_ERA_NEW ? "new" : "unknown";
}

static void check_lookup(const lt_units_t *units, const lt_tsv_t *t)
{
    lt_unit_at_t at;
    int rc = lt_units_lookup(units, t->field[1], t->field[2], &at);
    ASSERT_EQ_STR(level_name(&at, rc), t->field[3]);
    if (rc != 0)
        return;
    ASSERT_EQ_STR(at.code, t->field[4]);
    ASSERT_EQ_INT(at.alias, atoi(t->field[5]));
    ASSERT_EQ_STR(at.province_code, t->field[6]);
    ASSERT_EQ_STR(at.full_name, t->field[7]);
    ASSERT_EQ_STR(era_name(at.era), era_name(lt_units_version_era(t->field[2])));
}

static void check_successors(const lt_units_t *units, const lt_tsv_t *t)
{
    lt_unit_at_t at;
    char got[512] = "";
    size_t off = 0;

    if (lt_units_lookup(units, t->field[1], t->field[2], &at) == 0)
        for (size_t i = 0; i < at.n_successors; i++)
            off += (size_t)snprintf(got + off, sizeof(got) - off, "%s%s:%s", i ? " " : "",
                                    at.successors[i].code,
                                    at.successors[i].partial ? "partial" : "full");
    ASSERT_EQ_STR(got, t->field[3]);
}

static void check_units_row(const lt_units_t *units, const lt_tsv_t *t)
{
    const char *op = t->field[0];
    if (strcmp(op, "era") == 0)
        ASSERT_EQ_STR(era_name(lt_units_version_era(t->field[1])), t->field[2]);
    else if (strcmp(op, "lookup") == 0)
        check_lookup(units, t);
    else if (strcmp(op, "succ") == 0)
        check_successors(units, t);
    else if (strcmp(op, "inprov") == 0)
        ASSERT_EQ_INT(lt_units_in_province(units, t->field[1], t->field[2], t->field[3]),
                      atoi(t->field[4]));
    else
        LT_FAIL_("%s:%d: unknown op %s", t->path, t->lineno, op);
}

static void test_units_table(void)
{
    lt_units_t *units = load_units(1);
    lt_tsv_t *t = lt_tsv_open("rules/units.tsv");
    int rows = 0;
    ASSERT_TRUE(t != NULL);
    while (units && t && lt_tsv_next(t)) {
        int before = lt_test_failures;
        check_units_row(units, t);
        if (lt_test_failures != before)
            fprintf(stderr, "  at %s:%d\n", t->path, t->lineno);
        rows++;
    }
    fprintf(stderr, "  %d cases\n", rows);
    ASSERT_TRUE(rows >= 100);
    lt_tsv_close(t);
    lt_units_destroy(units);
}

/* Every post-reform commune: the same unit under both versions, in its province
 * by the table. */
static void test_every_new_commune(void)
{
    lt_units_t *units = load_units(1);
    const char *provinces[] = {"01", "04", "08", "11", "12", "14", "15", "19", "20",
                               "22", "24", "25", "31", "33", "37", "38", "40", "42",
                               "44", "46", "48", "51", "52", "56", "66", "68", "75",
                               "79", "80", "82", "86", "91", "92", "96"};
    size_t total = 0, bad = 0;

    for (size_t p = 0; p < sizeof(provinces) / sizeof(*provinces); p++) {
        const lt_unit_t *u;
        for (size_t n = 0; (u = lt_units_province_commune(units, provinces[p], n)); n++) {
            lt_unit_at_t a, b;
            total++;
            if (lt_units_lookup(units, u->code, "2025-07-01", &a) != 0 ||
                lt_units_lookup(units, u->code, "2026-07-25", &b) != 0 ||
                strcmp(a.code, b.code) != 0 || strcmp(b.full_name, u->full_name) != 0 ||
                lt_units_in_province(units, u->code, provinces[p], "2025-07-01") != 1)
                bad++;
        }
    }
    ASSERT_EQ_INT(total, 3321);
    ASSERT_EQ_INT(bad, 0);
    lt_units_destroy(units);
}

/* The mapping read backwards, as merge --into uses it: Xã Minh Ngọc (00994,
 * province 08) from itself, Xã Thượng Tân and part of Xã Yên Định, whose
 * other part went to Xã Ngọc Đường (00700). */
static void test_predecessors(void)
{
    lt_units_t *units = load_units(1);
    const char *want[][2] = {{"00988", "1"}, {"00994", "0"}, {"01009", "0"}};
    const char *code, *name;
    int partial;
    for (size_t i = 0; i < 3; i++) {
        ASSERT_EQ_INT(lt_units_predecessor(units, "00994", i, &code, &name, &partial), 0);
        ASSERT_EQ_STR(code, want[i][0]);
        ASSERT_EQ_INT(partial, want[i][1][0] == '1');
    }
    ASSERT_EQ_INT(lt_units_predecessor(units, "00994", 3, &code, &name, &partial), -1);
    ASSERT_EQ_INT(lt_units_predecessor(units, "00700", 0, &code, &name, &partial), 0);
    size_t n = 0;
    while (lt_units_predecessor(units, "00700", n, &code, &name, &partial) == 0 &&
           strcmp(code, "00988") != 0)
        n++;
    ASSERT_EQ_STR(code, "00988");
    ASSERT_EQ_STR(name, "Xã Yên Định");
    ASSERT_EQ_INT(partial, 1);
    ASSERT_EQ_INT(lt_units_predecessor(units, "99999", 0, &code, &name, &partial), -1);
    lt_units_destroy(units);
    units = load_units(0); /* no mapping loaded: nothing to read */
    ASSERT_EQ_INT(lt_units_predecessor(units, "00994", 0, &code, &name, &partial), -1);
    lt_units_destroy(units);
}

int main(void)
{
    RUN_TEST(test_existing_api);
    RUN_TEST(test_merges_load);
    RUN_TEST(test_every_old_commune_maps);
    RUN_TEST(test_units_table);
    RUN_TEST(test_every_new_commune);
    RUN_TEST(test_predecessors);
    return LT_TEST_EXIT();
}
