/* lt_text: validation, NFC, and the Vietnamese name key — table cases from
 * tests/data/rules/text.tsv, the 201 real name variants of the two unit files
 * (tests/data/rules/name_variants.tsv), and properties over every unit name. */
#include <jansson.h>
#include <utf8proc.h>

#include "lt_test.h"
#include "lt_text.h"
#include "lt_tsv.h"

static char *key_of(const char *s)
{
    char errstr[256] = "";
    char *key = lt_text_name_key(s, strlen(s), errstr, sizeof(errstr));
    if (!key)
        fprintf(stderr, "name key of \"%s\" failed: %s\n", s, errstr);
    return key;
}

static char *nfc_of(const char *s)
{
    char errstr[256] = "";
    return lt_text_nfc(s, strlen(s), LT_TEXT_LINE, errstr, sizeof(errstr));
}

static void check_validate(const lt_tsv_t *t, lt_text_kind_t kind)
{
    char errstr[256] = "";
    int rc = lt_text_validate(t->field[1], t->len[1], kind, errstr, sizeof(errstr));
    const char *got = rc == 0 ? "ok" : "bad_text";
    if (strcmp(got, t->field[3]) != 0)
        fprintf(stderr, "%s:%d: validate: %s\n", t->path, t->lineno, errstr);
    ASSERT_EQ_STR(got, t->field[3]);
    if (rc != 0)
        ASSERT_TRUE(strstr(errstr, "offset") != NULL);
}

static void check_keys(const lt_tsv_t *t, int want_equal)
{
    char *a = key_of(t->field[1]), *b = key_of(t->field[2]);
    int equal = a && b && strcmp(a, b) == 0;
    if (equal != want_equal)
        fprintf(stderr, "%s:%d: keys \"%s\" / \"%s\"\n", t->path, t->lineno, a ? a : "",
                b ? b : "");
    ASSERT_EQ_INT(equal, want_equal);
    free(a);
    free(b);
}

static void check_text_row(const lt_tsv_t *t)
{
    const char *op = t->field[0];
    char *got = NULL;

    if (strcmp(op, "line") == 0 || strcmp(op, "multi") == 0) {
        check_validate(t, op[0] == 'l' ? LT_TEXT_LINE : LT_TEXT_MULTILINE);
    } else if (strcmp(op, "nfc") == 0) {
        ASSERT_EQ_STR(got = nfc_of(t->field[1]), t->field[3]);
    } else if (strcmp(op, "key") == 0) {
        ASSERT_EQ_STR(got = key_of(t->field[1]), t->field[3]);
    } else if (strcmp(op, "key_eq") == 0 || strcmp(op, "key_ne") == 0) {
        check_keys(t, op[4] == 'e');
    } else {
        LT_FAIL_("%s:%d: unknown op %s", t->path, t->lineno, op);
    }
    free(got);
}

static void test_text_table(void)
{
    lt_tsv_t *t = lt_tsv_open("rules/text.tsv");
    int rows = 0;
    ASSERT_TRUE(t != NULL);
    while (t && lt_tsv_next(t)) {
        int before = lt_test_failures;
        check_text_row(t);
        if (lt_test_failures != before)
            fprintf(stderr, "  at %s:%d\n", t->path, t->lineno);
        rows++;
    }
    lt_tsv_close(t);
    ASSERT_TRUE(rows >= 80);
    fprintf(stderr, "  %d cases\n", rows);
}

/* "Xã Lộc Ninh" -> "Lộc Ninh": the name after the unit type. */
static const char *after_type(const char *full)
{
    const char *sp = strchr(full, ' ');
    return sp ? sp + 1 : full;
}

static void check_variant(const lt_tsv_t *t, int *same, int *renamed)
{
    const char *a = t->field[2], *b = t->field[3], *expect = t->field[4];
    char *na = nfc_of(a), *nb = nfc_of(b), *ka = key_of(a), *kb = key_of(b);

    ASSERT_TRUE(na && nb && strcmp(na, nb) != 0); /* NFC alone leaves them different */
    if (strcmp(expect, "same") == 0) {
        (*same)++;
        if (!ka || !kb || strcmp(ka, kb) != 0)
            LT_FAIL_("%s:%d: %s: \"%s\" / \"%s\" keys differ: \"%s\" / \"%s\"", t->path,
                     t->lineno, t->field[0], a, b, ka ? ka : "", kb ? kb : "");
        lt_test_checks++;
    } else {
        char *sa = key_of(after_type(a)), *sb = key_of(after_type(b));
        (*renamed)++;
        ASSERT_EQ_STR(expect, "renamed");
        ASSERT_TRUE(ka && kb && strcmp(ka, kb) != 0); /* Xã -> Phường is a real change */
        ASSERT_EQ_STR(sa, sb);
        free(sa);
        free(sb);
    }
    free(na);
    free(nb);
    free(ka);
    free(kb);
}

static void test_real_name_variants(void)
{
    lt_tsv_t *t = lt_tsv_open("rules/name_variants.tsv");
    int same = 0, renamed = 0;
    ASSERT_TRUE(t != NULL);
    while (t && lt_tsv_next(t))
        check_variant(t, &same, &renamed);
    lt_tsv_close(t);
    /* All 201 codes whose names differ after NFC between the two files. */
    ASSERT_EQ_INT(same + renamed, 201);
    ASSERT_EQ_INT(renamed, 10); /* the 2026 Đồng Nai changes, Xã -> Phường */
}

/* Properties over one name: NFD and NFC give one key; the key is its own key;
 * upper-casing does not change it. */
static void check_name_properties(const char *name)
{
    char *nfd = (char *)utf8proc_NFD((const utf8proc_uint8_t *)name);
    char *k = key_of(name), *knfd = key_of(nfd), *kk = k ? key_of(k) : NULL;
    ASSERT_TRUE(k && knfd && strcmp(k, knfd) == 0);
    ASSERT_TRUE(k && kk && strcmp(k, kk) == 0);
    free(nfd);
    free(k);
    free(knfd);
    free(kk);
}

static json_t *load_json(const char *name)
{
    char path[512];
    json_error_t jerr;
    const char *dir = getenv("LT_TEST_DATA");
    snprintf(path, sizeof(path), "%s/../../data/admin-units/%s", dir ? dir : "tests/data",
             name);
    json_t *root = json_load_file(path, 0, &jerr);
    if (!root)
        fprintf(stderr, "%s: %s\n", path, jerr.text);
    return root;
}

static void test_all_unit_names(void)
{
    json_t *units = load_json("units-2026-07-25.json");
    json_t *merges = load_json("merges-2025-07-01.json");
    size_t i, j, k, n = 0;
    json_t *p, *w, *m;
    int before = lt_test_checks;

    json_array_foreach(units, i, p) json_array_foreach(json_object_get(p, "Wards"), j, w)
    {
        check_name_properties(json_string_value(json_object_get(w, "FullName")));
        n++;
    }
    json_array_foreach(json_object_get(merges, "data"), i, p)
        json_array_foreach(json_object_get(p, "level2s"), j, w)
            json_array_foreach(json_object_get(w, "merges"), k, m)
    {
        check_name_properties(json_string_value(json_object_get(m, "name")));
        n++;
    }
    ASSERT_EQ_INT(n, 3321 + 10604); /* communes, and old communes and districts */
    fprintf(stderr, "  %zu names, %d property checks\n", n, lt_test_checks - before);
    json_decref(units);
    json_decref(merges);
}

/* Within a province, names that differ after NFC keep different keys. */
static void test_keys_keep_province_names_apart(void)
{
    json_t *units = load_json("units-2026-07-25.json");
    size_t i, j, a, b;
    json_t *p;

    json_array_foreach(units, i, p)
    {
        json_t *wards = json_object_get(p, "Wards");
        size_t n = json_array_size(wards);
        char **keys = calloc(n, sizeof(*keys));
        for (j = 0; j < n; j++)
            keys[j] = key_of(
                json_string_value(json_object_get(json_array_get(wards, j), "FullName")));
        for (a = 0; a < n; a++)
            for (b = a + 1; b < n; b++)
                if (keys[a] && keys[b] && strcmp(keys[a], keys[b]) == 0)
                    LT_FAIL_("province %s: two communes share the key \"%s\"",
                             json_string_value(json_object_get(p, "Code")), keys[a]);
        for (a = 0; a < n; a++)
            free(keys[a]);
        free(keys);
    }
    lt_test_checks++;
    json_decref(units);
}

static void test_errors(void)
{
    char errstr[256] = "";
    char *key = lt_text_name_key("ab\x01", 3, errstr, sizeof(errstr));
    ASSERT_TRUE(key == NULL);
    ASSERT_CONTAINS(errstr, "control character U+0001 at offset 2");
    key = lt_text_name_key("a\xc3", 2, errstr, sizeof(errstr));
    ASSERT_TRUE(key == NULL);
    ASSERT_CONTAINS(errstr, "invalid UTF-8 (byte 0xc3 at offset 1)");
    ASSERT_TRUE(lt_text_nfc("x\ny", 3, LT_TEXT_LINE, errstr, sizeof(errstr)) == NULL);
    ASSERT_CONTAINS(errstr, "not allowed in a name or code");
    /* NUL inside the given length is a control character. */
    ASSERT_EQ_INT(lt_text_validate("a\0b", 3, LT_TEXT_MULTILINE, errstr, sizeof(errstr)),
                  -1);
    ASSERT_EQ_INT(lt_text_validate("a\0b", 1, LT_TEXT_LINE, NULL, 0), 0);
    ASSERT_EQ_INT(lt_text_name_equal("Hoà", "Hòa", errstr, sizeof(errstr)), 1);
    ASSERT_EQ_INT(lt_text_name_equal("Hoa", "Hòa", errstr, sizeof(errstr)), 0);
    ASSERT_EQ_INT(lt_text_name_equal("Hoa", "H\xffoa", errstr, sizeof(errstr)), -1);
    ASSERT_CONTAINS(errstr, "invalid UTF-8");
}

static void test_long_name(void)
{
    /* Many tone marks on one word, and a long input. */
    size_t n = 100000;
    char *s = malloc(n * 3 + 1), *key;
    for (size_t i = 0; i < n; i++)
        memcpy(s + 3 * i, i % 2 ? "a\xcc\x80" : "o\xcc\x81", 3);
    s[3 * n] = '\0';
    key = lt_text_name_key(s, 3 * n, NULL, 0);
    ASSERT_TRUE(key != NULL && strlen(key) > 0);
    free(key);
    free(s);
}

/* UTF-8 of one code point into out (NUL-terminated); its length. */
static size_t put_cp(char *out, uint32_t cp)
{
    size_t n = (size_t)utf8proc_encode_char((utf8proc_int32_t)cp, (utf8proc_uint8_t *)out);
    out[n] = '\0';
    return n;
}

/* The fast path of lt_text_is_nfc takes every code point below U+0300 and in
 * U+1E00..U+1EFF as NFC whatever surrounds it: check that against utf8proc's
 * normalisation, alone, after a letter and before a combining mark's base. */
static void test_nfc_fast_path_matches_utf8proc(void)
{
    char errstr[256];
    size_t checked = 0;
    for (uint32_t cp = 0x20; cp <= 0x1EFF; cp = cp == 0x2FF ? 0x1E00 : cp + 1) {
        if (cp >= 0x7F && cp <= 0x9F)
            continue; /* controls: refused as text before NFC matters */
        char one[8], text[32];
        size_t n = put_cp(one, cp);
        const char *before[] = {"", "a", "", one}, *after[] = {"", "", "b", ""};
        for (size_t i = 0; i < sizeof(before) / sizeof(*before); i++) {
            int len = snprintf(text, sizeof(text), "%s%s%s", before[i], one, after[i]);
            utf8proc_uint8_t *norm = NULL;
            utf8proc_ssize_t got = utf8proc_map((const utf8proc_uint8_t *)text, len, &norm,
                                                UTF8PROC_STABLE | UTF8PROC_COMPOSE);
            ASSERT_TRUE(got == len && memcmp(norm, text, (size_t)len) == 0);
            free(norm);
            ASSERT_EQ_INT(lt_text_is_nfc(text, (size_t)len, LT_TEXT_MULTILINE, errstr,
                                         sizeof(errstr)), 1);
        }
        checked += n > 0;
    }
    ASSERT_EQ_INT(checked, (0x2FF - 0x20 + 1) - 33 + 256);
    /* Outside it, the answer is utf8proc's: NFD Vietnamese is not NFC, a
     * singleton (U+212B ANGSTROM SIGN) is not, a combining mark after a
     * fast-path letter is judged with it, invalid text is an error. */
    ASSERT_EQ_INT(lt_text_is_nfc("Nguye\xcc\x82\xcc\x83n", 9, LT_TEXT_LINE, errstr,
                                 sizeof(errstr)), 0);
    ASSERT_EQ_INT(lt_text_is_nfc("Nguy\xe1\xbb\x85n", 8, LT_TEXT_LINE, errstr, sizeof(errstr)), 1);
    ASSERT_EQ_INT(lt_text_is_nfc("\xe2\x84\xab", 3, LT_TEXT_LINE, errstr, sizeof(errstr)), 0);
    ASSERT_EQ_INT(lt_text_is_nfc("a\xcc\x80", 3, LT_TEXT_LINE, errstr, sizeof(errstr)), 0);
    ASSERT_EQ_INT(lt_text_is_nfc("\xe1\xbb\x85\xcc\xa3", 5, LT_TEXT_LINE, errstr,
                                 sizeof(errstr)), 0);
    ASSERT_EQ_INT(lt_text_is_nfc("\xe6\x97\xa5", 3, LT_TEXT_LINE, errstr, sizeof(errstr)), 1);
    ASSERT_EQ_INT(lt_text_is_nfc("a\xff", 2, LT_TEXT_LINE, errstr, sizeof(errstr)), -1);
    ASSERT_CONTAINS(errstr, "invalid UTF-8");
}

int main(void)
{
    RUN_TEST(test_text_table);
    RUN_TEST(test_real_name_variants);
    RUN_TEST(test_all_unit_names);
    RUN_TEST(test_keys_keep_province_names_apart);
    RUN_TEST(test_errors);
    RUN_TEST(test_long_name);
    RUN_TEST(test_nfc_fast_path_matches_utf8proc);
    return LT_TEST_EXIT();
}
