/* The generator's activity through the agent's own checks. Every change
 * lt_gen draws — all eight civil-record kinds, every dossier status path
 * (online and at the desk), deletes, versions rising — is written as proto3
 * JSON by lt_pb_write_json, read back into an Event by lt_outbox_make_event
 * (the agent's JSON -> protobuf path, as at claim time) and checked by
 * lt_validate_event: 0 rejects over 20,000 changes of five seeds, four
 * writers each, in a ward and two rural communes of two provinces. */
#include <stdlib.h>
#include <string.h>

#include "gen_activity.h"
#include "gen_dossier.h"
#include "gen_place.h"
#include "lt_buf.h"
#include "lt_event.h"
#include "lt_json_pb.h"
#include "lt_outbox.h"
#include "lt_test.h"
#include "lt_util.h"
#include "lt_validate.h"

#define WRITERS       4
#define PER_WRITER    1000
#define MAX_PATHS     64
#define MAX_PATH_TEXT 160

static lt_units_t *units;

/* What the run saw, over all seeds. */
typedef struct seen {
    long events, rejects, lossy, deletes, upserts, newer_versions, version_jumps;
    long kinds[LIENTHONG__V1__CIVIL_RECORD_KIND__CIVIL_RECORD_KIND_ANNOTATION + 1];
    char paths[MAX_PATHS][MAX_PATH_TEXT]; /* finished dossiers' status histories */
    int n_paths;
} seen_t;

static seen_t seen;

/* "NEW>ACCEPTED>..." of rule statuses. */
static void path_text(const lt_dossier_status_t *st, size_t n, char *out, size_t size)
{
    out[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        strncat(out, i ? ">" : "", size - strlen(out) - 1);
        strncat(out, lt_rule_status_name(st[i]), size - strlen(out) - 1);
    }
}

static void note_path(const char *text)
{
    for (int i = 0; i < seen.n_paths; i++)
        if (strcmp(seen.paths[i], text) == 0)
            return;
    if (seen.n_paths < MAX_PATHS)
        lt_strlcpy(seen.paths[seen.n_paths++], text, MAX_PATH_TEXT);
}

/* A dossier at a final status: the path it took. */
static void note_dossier(const Lienthong__V1__Dossier *d)
{
    lt_dossier_status_t st[GEN_MAX_STEPS + 2];
    char text[MAX_PATH_TEXT];
    size_t n = d->n_history < GEN_MAX_STEPS + 2 ? d->n_history : GEN_MAX_STEPS + 2;
    for (size_t i = 0; i < n; i++) {
        const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
            &lienthong__v1__dossier_status__descriptor, (int)d->history[i]->status);
        st[i] = v ? lt_rule_status_from_name(v->name) : LT_DOSSIER_UNSPECIFIED;
    }
    if (n && lt_rule_status_terminal(st[n - 1])) {
        path_text(st, n, text, sizeof(text));
        note_path(text);
    }
}

/* The payload survives JSON and back byte for byte: nothing the generator
 * sets is lost or changed by the emitter, the parser or NFC. */
static int same_bytes(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
    size_t la = protobuf_c_message_get_packed_size(a);
    size_t lb = protobuf_c_message_get_packed_size(b);
    uint8_t *pa = malloc(la + 1), *pb = malloc(lb + 1);
    int same = la == lb && protobuf_c_message_pack(a, pa) == la &&
               protobuf_c_message_pack(b, pb) == lb && memcmp(pa, pb, la) == 0;
    free(pa);
    free(pb);
    return same;
}

/* One change as the agent sees it at claim time. */
static void check_change(const lt_validate_ctx_t *vctx, const gen_change_t *c,
                         lt_buf_t *json)
{
    char errstr[768];
    lt_validate_result_t r;
    lt_buf_reset(json);
    if (c->payload)
        lt_pb_write_json(c->payload, json);
    Lienthong__V1__Event *ev = lt_outbox_make_event(
        lt_entity_type_name(c->entity_type), c->entity_id, c->version, lt_op_name(c->op),
        c->occurred_at_us, c->occurred_at_us, c->payload ? lt_buf_cstr(json) : NULL,
        errstr, sizeof(errstr));
    seen.events++;
    if (!ev || lt_validate_event(vctx, ev, &r) != LT_RULE_OK) {
        if (seen.rejects++ < 10)
            fprintf(stderr, "  rejected %s v%llu: %s\n  %s\n", c->entity_id,
                    (unsigned long long)c->version, ev ? r.text : errstr,
                    lt_buf_cstr(json));
    } else if (c->payload && !same_bytes(c->payload, lt_event_payload(ev))) {
        if (seen.lossy++ < 3)
            fprintf(stderr, "  %s v%llu changed on the way: %s\n", c->entity_id,
                    (unsigned long long)c->version, lt_buf_cstr(json));
    }
    if (ev && ev->payload_case == LIENTHONG__V1__EVENT__PAYLOAD_CIVIL_RECORD)
        seen.kinds[ev->civil_record->kind]++;
    if (ev && ev->payload_case == LIENTHONG__V1__EVENT__PAYLOAD_DOSSIER)
        note_dossier(ev->dossier);
    if (ev)
        protobuf_c_message_free_unpacked(&ev->base, NULL);
}

/* Versions of each entity (by its number, the id's last part) rise by one. */
static void check_version(uint32_t *last, size_t size, const gen_change_t *c)
{
    size_t n = strtoul(strrchr(c->entity_id, '-') + 1, NULL, 10);
    if (n >= size)
        return;
    if (c->version != (uint64_t)last[n] + 1)
        seen.version_jumps++;
    last[n] = (uint32_t)c->version;
    if (c->version > 1)
        seen.newer_versions++;
    if (c->op == LIENTHONG__V1__OP__OP_DELETE)
        seen.deletes++;
    else
        seen.upserts++;
}

static void run_commune(const char *commune, unsigned seed)
{
    gen_place_t place;
    lt_buf_t json = {0};
    gen_place_init(&place, commune, units);
    lt_validate_ctx_t vctx = {units, place.province, commune, LT_UNITS_REFORM_VERSION};
    for (int w = 0; w < WRITERS; w++) {
        gen_activity_t *a = gen_activity_new(&place, seed, w, WRITERS);
        uint32_t *last = calloc(PER_WRITER + 1, sizeof(*last));
        gen_change_t c;
        ASSERT_TRUE(a != NULL && last != NULL);
        for (int i = 0; a && last && i < PER_WRITER; i++) {
            gen_activity_next(a, &c);
            check_version(last, PER_WRITER + 1, &c);
            check_change(&vctx, &c, &json);
        }
        free(last);
        gen_activity_destroy(a);
    }
    lt_buf_free(&json);
    gen_place_free(&place);
}

static void test_paths_follow_rules(void)
{
    char errstr[256] = "";
    ASSERT_EQ_INT(gen_dossier_check_paths(errstr, sizeof(errstr)), 0);
    if (errstr[0])
        fprintf(stderr, "  %s\n", errstr);
}

static void test_changes_pass_agent_checks(void)
{
    static const struct {
        const char *commune;
        unsigned seed;
    } runs[] = {{"00004", 1},
                {"00376", 2},
                {"01290", 7},
                {"00004", 1000},
                {"00376", 4000000000u}};
    for (size_t i = 0; i < sizeof(runs) / sizeof(*runs); i++)
        run_commune(runs[i].commune, runs[i].seed);
    fprintf(stderr, "  %ld events: %ld upserts, %ld deletes, %ld later versions\n",
            seen.events, seen.upserts, seen.deletes, seen.newer_versions);
    ASSERT_EQ_INT(seen.events, 20000);
    ASSERT_EQ_INT(seen.rejects, 0);
    ASSERT_EQ_INT(seen.lossy, 0);
    ASSERT_EQ_INT(seen.version_jumps, 0);
    ASSERT_TRUE(seen.deletes > 0);
    ASSERT_TRUE(seen.newer_versions > 0);
}

/* Every kind was drawn; run after test_changes_pass_agent_checks. */
static void test_every_civil_kind(void)
{
    for (int k = 1; k <= LIENTHONG__V1__CIVIL_RECORD_KIND__CIVIL_RECORD_KIND_ANNOTATION;
         k++) {
        const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
            &lienthong__v1__civil_record_kind__descriptor, k);
        fprintf(stderr, "  %-34s %ld\n", v ? v->name : "?", seen.kinds[k]);
        ASSERT_TRUE(seen.kinds[k] > 0);
    }
}

/* Every path of the generator's table ended at least once, online and (when
 * it passes ACCEPTED) at the desk; run after test_changes_pass_agent_checks. */
static void test_every_dossier_path(void)
{
    for (size_t i = 0; i < gen_dossier_path_count(); i++) {
        lt_dossier_status_t st[GEN_MAX_STEPS];
        char text[MAX_PATH_TEXT];
        size_t n = gen_dossier_path(i, st);
        for (int desk = 0; desk <= lt_rule_status_received(st[1]); desk++) {
            int found = 0;
            path_text(st + desk, n - (size_t)desk, text, sizeof(text));
            for (int p = 0; p < seen.n_paths; p++)
                found |= strcmp(seen.paths[p], text) == 0;
            if (!found)
                LT_FAIL_("dossier path never finished: %s", text);
            lt_test_checks++;
        }
    }
    fprintf(stderr, "  %d distinct finished paths\n", seen.n_paths);
}

int main(void)
{
    char errstr[256] = "";
    units = lt_units_open(NULL, errstr, sizeof(errstr));
    if (!units) {
        fprintf(stderr, "cannot load the unit lists: %s\n", errstr);
        return EXIT_FAILURE;
    }
    RUN_TEST(test_paths_follow_rules);
    RUN_TEST(test_changes_pass_agent_checks);
    RUN_TEST(test_every_civil_kind);
    RUN_TEST(test_every_dossier_path);
    lt_units_destroy(units);
    return LT_TEST_EXIT();
}
