/* The rules applied to whole payloads (lt_validate), table-driven from
 * tests/data/validate/cases.tsv: a valid sample, one field changed, the rule
 * that must catch it. Plus histories too long for a table row, and NFC
 * normalisation of every string. */
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

/* The sample with up to two edits (path "-" or NULL: none) as an Event. */
static Lienthong__V1__Event *load_event_edits(const char *sample, const char *path,
                                              const char *value, const char *path2,
                                              const char *value2)
{
    char file[1024], errstr[512];
    snprintf(file, sizeof(file), "%s/json_pb/%s", data_dir, sample);
    json_t *json = json_load_file(file, 0, NULL);
    if (!json)
        return NULL;
    if ((strcmp(path, "-") != 0 && set_path(json, path, value) != 0) ||
        (path2 && set_path(json, path2, value2) != 0)) {
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

static Lienthong__V1__Event *load_event(const char *sample, const char *path,
                                        const char *value)
{
    return load_event_edits(sample, path, value, NULL, NULL);
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

/* dossier.json with a history of n steps: NEW, ACCEPTED, then IN_PROCESS and
 * SUPPLEMENT_REQUESTED in turn, one a minute; the current status is the last. */
static Lienthong__V1__Event *load_long_dossier(size_t n)
{
    const char *const cycle[] = {"DOSSIER_STATUS_IN_PROCESS",
                                 "DOSSIER_STATUS_SUPPLEMENT_REQUESTED"};
    json_t *history = json_array();
    const char *status = "";
    for (size_t i = 0; i < n; i++) {
        status = i == 0   ? "DOSSIER_STATUS_NEW"
                 : i == 1 ? "DOSSIER_STATUS_ACCEPTED"
                          : cycle[i % 2];
        char at[32];
        snprintf(at, sizeof(at), "%lld", 1794318087000000LL + (long long)i * 60000000LL);
        json_array_append_new(history,
                              json_pack("{s:s, s:s}", "status", status, "atUs", at));
    }
    char *text = json_dumps(history, JSON_COMPACT);
    char status_json[64];
    snprintf(status_json, sizeof(status_json), "\"%s\"", status);
    Lienthong__V1__Event *ev = load_event_edits("dossier.json", "dossier.history", text,
                                                "dossier.status", status_json);
    free(text);
    json_decref(history);
    return ev;
}

static void expect_rule(const lt_validate_ctx_t *ctx, Lienthong__V1__Event *ev,
                        const char *code, const char *text)
{
    lt_validate_result_t r;
    ASSERT_TRUE(ev != NULL);
    if (!ev)
        return;
    lt_validate_event(ctx, ev, &r);
    ASSERT_EQ_STR(lt_rule_code_name(r.code), code);
    ASSERT_CONTAINS(r.text, text);
    protobuf_c_message_free_unpacked(&ev->base, NULL);
}

/* Every step of a history is checked, however long; past the cap the dossier
 * is refused, never checked in part. */
static void test_long_history(void)
{
    char errstr[512];
    lt_units_t *units = lt_units_open(NULL, errstr, sizeof(errstr));
    lt_validate_ctx_t ctx = {units, "01", "00004", "2025-07-01"};
    Lienthong__V1__Event *ev = load_long_dossier(70);

    expect_rule(&ctx, load_long_dossier(70), "ok", "");
    /* step 66 jumps from SUPPLEMENT_REQUESTED to PROCESSED */
    Lienthong__V1__DossierStatusChange *step = ev ? ev->dossier->history[66] : NULL;
    if (step)
        step->status = LIENTHONG__V1__DOSSIER_STATUS__DOSSIER_STATUS_PROCESSED;
    expect_rule(&ctx, ev, "bad_status_transition",
                "history: status history step 66: dossier status cannot change from "
                "SUPPLEMENT_REQUESTED to PROCESSED");
    expect_rule(&ctx, load_long_dossier(LT_DOSSIER_HISTORY_MAX), "ok", "");
    expect_rule(&ctx, load_long_dossier(LT_DOSSIER_HISTORY_MAX + 1), "history_too_long",
                "history: status history has 1001 steps, more than the 1000 allowed");
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
    RUN_TEST(test_long_history);
    RUN_TEST(test_nfc);
    return LT_TEST_EXIT();
}
