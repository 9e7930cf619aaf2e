/* The rules applied to whole payloads (lt_validate), table-driven from
 * tests/data/validate/cases.tsv: a valid sample, one field changed, the rule
 * that must catch it. Plus NFC normalisation of every string. */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lienthong/v1/lienthong.pb-c.h"
#include "lt_json_pb.h"
#include "lt_test.h"
#include "lt_validate.h"

static char data_dir[512];

/* Set (or with "DELETE" remove) the value at a dotted path; numeric parts index arrays. */
static int set_path(json_t *root, const char *path, const char *value)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", path);
    json_t *node = root;
    char *save = NULL, *seg = strtok_r(buf, ".", &save), *next;
    for (; (next = strtok_r(NULL, ".", &save)); seg = next)
        node = json_is_array(node) ? json_array_get(node, (size_t)atoi(seg))
                                   : json_object_get(node, seg);
    if (!node)
        return -1;
    if (!strcmp(value, "DELETE"))
        return json_object_del(node, seg);
    json_t *v = json_loads(value, JSON_DECODE_ANY, NULL);
    if (!v)
        return -1;
    return json_is_array(node) ? json_array_set_new(node, (size_t)atoi(seg), v)
                               : json_object_set_new(node, seg, v);
}

static Lienthong__V1__Event *load_event(const char *sample, const char *path, const char *value)
{
    char file[1024], errstr[512];
    snprintf(file, sizeof(file), "%s/json_pb/%s", data_dir, sample);
    json_t *json = json_load_file(file, 0, NULL);
    if (!json)
        return NULL;
    if (strcmp(path, "-") != 0 && set_path(json, path, value) != 0) {
        json_decref(json);
        return NULL;
    }
    ProtobufCMessage *msg = lt_json_to_pb(&lienthong__v1__event__descriptor, json, errstr,
                                          sizeof(errstr));
    json_decref(json);
    if (!msg)
        fprintf(stderr, "%s %s: %s\n", sample, path, errstr);
    return (Lienthong__V1__Event *)msg;
}

static void run_case(const lt_validate_ctx_t *ctx, char *line, int lineno)
{
    char *cols[5] = {0};
    int n = 0;
    for (char *save = NULL, *tok = strtok_r(line, "\t\n", &save); tok && n < 5;
         tok = strtok_r(NULL, "\t\n", &save))
        cols[n++] = tok;
    if (n < 4) {
        fprintf(stderr, "cases.tsv:%d: expected 4 or 5 columns\n", lineno);
        ASSERT_TRUE(0);
        return;
    }
    Lienthong__V1__Event *ev = load_event(cols[0], cols[1], cols[2]);
    ASSERT_TRUE(ev != NULL);
    if (!ev)
        return;
    lt_validate_result_t r;
    lt_validate_event(ctx, ev, &r);
    if (strcmp(lt_rule_code_name(r.code), cols[3]) != 0)
        fprintf(stderr, "cases.tsv:%d: %s %s=%s: %s\n", lineno, cols[0], cols[1], cols[2],
                r.text);
    ASSERT_EQ_STR(lt_rule_code_name(r.code), cols[3]);
    if (r.code && !strstr(r.text, ":"))
        ASSERT_CONTAINS(r.text, ": "); /* the field path comes first */
    if (n == 5)
        ASSERT_EQ_INT(r.late, atoi(cols[4]));
    protobuf_c_message_free_unpacked(&ev->base, NULL);
}

static void test_cases(void)
{
    char errstr[512], path[1024], line[2048];
    lt_units_t *units = lt_units_open(NULL, errstr, sizeof(errstr));
    ASSERT_TRUE(units != NULL);
    if (!units)
        return;
    lt_validate_ctx_t ctx = {units, "01", "00004", "2025-07-01"};
    snprintf(path, sizeof(path), "%s/validate/cases.tsv", data_dir);
    FILE *fp = fopen(path, "r");
    ASSERT_TRUE(fp != NULL);
    int lineno = 0, cases = 0;
    while (fp && fgets(line, sizeof(line), fp)) {
        lineno++;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        run_case(&ctx, line, lineno);
        cases++;
    }
    if (fp)
        fclose(fp);
    fprintf(stderr, "  validate/cases.tsv: %d cases\n", cases);
    ASSERT_TRUE(cases >= 20);
    lt_units_destroy(units);
}

static void test_subject_extracted(void)
{
    char errstr[512];
    lt_units_t *units = lt_units_open(NULL, errstr, sizeof(errstr));
    lt_validate_ctx_t ctx = {units, "01", "00004", "2025-07-01"};
    Lienthong__V1__Event *ev = load_event("birth.json", "-", "-");
    lt_validate_result_t r;
    ASSERT_EQ_INT(lt_validate_event(&ctx, ev, &r), 0);
    ASSERT_EQ_STR(r.subject_name, "Nguyễn Văn An");
    ASSERT_EQ_STR(r.personal_id, "001225004711");
    ASSERT_TRUE(r.subject_name_key[0] != '\0');
    protobuf_c_message_free_unpacked(&ev->base, NULL);
    lt_units_destroy(units);
}

static void test_nfc(void)
{
    char errstr[256];
    Lienthong__V1__PersonName name;
    lienthong__v1__person_name__init(&name);
    name.full = strdup("Nguye\xcc\x82\xcc\x83n Tha\xcc\x80nh Ho\xcc\x80\x61"); /* NFD */
    ASSERT_EQ_INT(lt_pb_check_nfc(&name.base, errstr, sizeof(errstr)), -1);
    ASSERT_CONTAINS(errstr, "full: text is not in Unicode NFC");
    ASSERT_EQ_INT(lt_pb_normalize_text(&name.base, errstr, sizeof(errstr)), 0);
    ASSERT_EQ_STR(name.full, "Nguyễn Thành Hòa");
    ASSERT_EQ_INT(lt_pb_check_nfc(&name.base, errstr, sizeof(errstr)), 0);
    free(name.full);
}

int main(void)
{
    const char *data = getenv("LT_TEST_DATA");
    snprintf(data_dir, sizeof(data_dir), "%s", data ? data : "tests/data");
    RUN_TEST(test_cases);
    RUN_TEST(test_subject_extracted);
    RUN_TEST(test_nfc);
    return LT_TEST_EXIT();
}
