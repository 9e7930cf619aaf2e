/* Planning a poll round: duplicates, overlaps, gaps and every quarantine reason,
 * from real encoded and signed batches — no broker, no database. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lt_codec.h"
#include "lt_digest.h"
#include "lt_envelope.h"
#include "lt_event.h"
#include "lt_json_pb.h"
#include "lt_plan.h"
#include "lt_registry.h"
#include "lt_sign.h"
#include "lt_test.h"
#include "lt_test_key.h"
#include "lt_validate.h"

#define TOPIC_A "lt.01.00004.events"
#define TOPIC_B "lt.01.00008.events"

static const char dossier_json[] =
    "{\"dossierCode\":\"000.00.04.H01-261124-0001\",\"procedureCode\":\"1.001193\","
    "\"status\":\"DOSSIER_STATUS_NEW\",\"applicant\":{\"type\":\"APPLICANT_TYPE_CITIZEN\","
    "\"name\":{\"full\":\"Nguyễn Văn An\"}}}";

typedef struct encoded {
    uint8_t *bytes;
    size_t len;
} encoded_t;

/* The dossier payload above, as the agent sends it: NFC text, hashed. */
static void set_dossier_payload(Lienthong__V1__Event *ev)
{
    char errstr[512];
    json_t *json = json_loads(dossier_json, 0, NULL);
    ProtobufCMessage *payload =
        lt_json_to_pb(lt_entity_payload_desc(ev->entity_type), json, errstr, sizeof(errstr));
    json_decref(json);
    if (!payload || lt_pb_normalize_text(payload, errstr, sizeof(errstr)) != 0) {
        fprintf(stderr, "set_dossier_payload: %s\n", errstr);
        abort();
    }
    lt_event_set_payload(ev, payload);
    ev->content_hash.data = malloc(LT_SHA256_LEN);
    ev->content_hash.len = LT_SHA256_LEN;
    lt_event_payload_hash(ev, ev->content_hash.data);
}

static Lienthong__V1__Event *make_event(uint64_t seq, const char *id, uint64_t version,
                                        int is_delete)
{
    Lienthong__V1__Event *ev = malloc(sizeof(*ev));
    lienthong__v1__event__init(ev);
    ev->seq = seq;
    ev->entity_type = LIENTHONG__V1__ENTITY_TYPE__ENTITY_TYPE_DOSSIER;
    ev->entity_id = strdup(id);
    ev->version = version;
    ev->op = is_delete ? LIENTHONG__V1__OP__OP_DELETE : LIENTHONG__V1__OP__OP_UPSERT;
    ev->occurred_at_us = 1700000000000000;
    ev->recorded_at_us = 1700000000000001;
    if (!is_delete)
        set_dossier_payload(ev);
    return ev;
}

/* Encode a signed batch of events first..first+n-1 for commune. mutate may
 * change the batch before it is packed. */
static encoded_t make_batch(const char *commune, uint64_t first, size_t n, lt_signer_t *signer,
                            void (*mutate)(Lienthong__V1__Batch *))
{
    Lienthong__V1__Event **events = calloc(n, sizeof(*events));
    for (size_t i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof(id), "d-%llu", (unsigned long long)((first + i) % 4));
        events[i] = make_event(first + i, id, first + i, 0);
    }
    Lienthong__V1__Batch batch = LIENTHONG__V1__BATCH__INIT;
    batch.commune_code = (char *)commune;
    batch.code_list_version = (char *)"2025-07-01";
    batch.agent_id = (char *)"test";
    batch.first_seq = first;
    batch.last_seq = first + n - 1;
    batch.n_events = n;
    batch.events = events;
    if (mutate)
        mutate(&batch);
    encoded_t out;
    uint8_t hash[LT_SHA256_LEN];
    out.bytes = lt_envelope_seal(&batch, signer, &out.len, hash); /* as the agent does */
    for (size_t i = 0; i < n; i++)
        protobuf_c_message_free_unpacked(&events[i]->base, NULL);
    free(events);
    return out;
}

static lt_msg_t msg_of(const char *topic, int64_t offset, const char *key, encoded_t e)
{
    return (lt_msg_t){.topic = topic, .partition = 0, .offset = offset,
                      .key = (const uint8_t *)key, .key_len = strlen(key),
                      .value = e.bytes, .len = e.len};
}

static lt_signer_t *integrity_signer(void)
{
    return lt_signer_new(NULL, NULL, 0);
}

/* Province 01 with communes 00004 and 00008 (no keys), and a plan over it. */
typedef struct fixture {
    lt_registry_t *reg;
    lt_plan_t *plan;
} fixture_t;

static void setup_with(fixture_t *f, int allow_integrity_only)
{
    f->reg = lt_registry_new("01");
    f->plan = lt_plan_new(f->reg, LT_BATCH_MAX_BYTES_DEFAULT, allow_integrity_only, NULL);
}

static void setup(fixture_t *f)
{
    setup_with(f, 1);
    lt_registry_add(f->reg, "00004", TOPIC_A, NULL, NULL);
    lt_registry_add(f->reg, "00008", TOPIC_B, NULL, NULL);
}

static void teardown(fixture_t *f)
{
    lt_plan_destroy(f->plan);
    lt_registry_destroy(f->reg);
}

static lt_commune_t *commune(fixture_t *f, const char *code)
{
    lt_commune_t *c = lt_registry_by_code(f->reg, code);
    ASSERT_TRUE(c != NULL);
    return c;
}

/* The commune's share of the plan. */
static lt_plan_commune_t planned(const lt_plan_t *plan, const char *code)
{
    lt_plan_commune_t share = {0};
    ASSERT_EQ_INT(lt_plan_for_commune(plan, code, &share), 0);
    return share;
}

static void test_fresh_batches_apply_in_order(void)
{
    fixture_t f;
    lt_signer_t *s = integrity_signer();
    setup(&f);
    encoded_t a = make_batch("00004", 1, 3, s, NULL), b = make_batch("00004", 4, 2, s, NULL);
    lt_msg_t msgs[] = {msg_of(TOPIC_A, 10, "00004", a), msg_of(TOPIC_A, 11, "00004", b)};
    lt_plan_messages(f.plan, msgs, 2, LT_PLAN_NORMAL);
    ASSERT_EQ_INT(lt_plan_counts(f.plan).events, 5);
    ASSERT_EQ_INT(lt_plan_counts(f.plan).batches, 2);
    ASSERT_EQ_INT(lt_plan_counts(f.plan).quarantined, 0);
    ASSERT_EQ_INT(lt_plan_counts(f.plan).gaps, 0);
    ASSERT_EQ_INT(planned(f.plan, "00004").last_seq, 5);
    ASSERT_CONTAINS(lt_plan_offset_rows(f.plan, NULL), TOPIC_A "\t0\t12\n");
    ASSERT_CONTAINS(lt_plan_event_rows(f.plan, NULL),
                    "00004\t1\tdossier\td-1\t1\tupsert\t\\\\x");
    /* seq 1..5 touch d-1, d-2, d-3, d-0 and d-1 again: four entities, d-1 at version 5 */
    ASSERT_EQ_INT(lt_newest_count(lt_plan_entity_rows(f.plan)), 4);
    lt_buf_t rows = {0};
    lt_newest_write(lt_plan_entity_rows(f.plan), &rows);
    ASSERT_CONTAINS(lt_buf_cstr(&rows), "00004\t5\tdossier\td-1\t5\tupsert\t");
    ASSERT_TRUE(strstr(lt_buf_cstr(&rows), "00004\t1\tdossier\td-1\t1\t") == NULL);
    lt_buf_free(&rows);
    free(a.bytes);
    free(b.bytes);
    lt_signer_destroy(s);
    teardown(&f);
}

static void test_duplicate_and_overlap_are_skipped(void)
{
    fixture_t f;
    lt_signer_t *s = integrity_signer();
    setup(&f);
    lt_commune_set_progress(commune(&f, "00004"), 3, NULL); /* 1..3 applied in an earlier round */
    encoded_t dup = make_batch("00004", 1, 3, s, NULL);
    encoded_t overlap = make_batch("00004", 2, 4, s, NULL);
    lt_msg_t msgs[] = {msg_of(TOPIC_A, 0, "00004", dup), msg_of(TOPIC_A, 1, "00004", overlap)};
    lt_plan_messages(f.plan, msgs, 2, LT_PLAN_NORMAL);
    ASSERT_EQ_INT(planned(f.plan, "00004").duplicates, 1);
    ASSERT_EQ_INT(lt_plan_counts(f.plan).events, 2); /* only seq 4 and 5 of 2..5 */
    ASSERT_EQ_INT(planned(f.plan, "00004").last_seq, 5);
    ASSERT_TRUE(strstr(lt_plan_event_rows(f.plan, NULL), "00004\t3\t") == NULL);
    ASSERT_CONTAINS(lt_plan_event_rows(f.plan, NULL), "00004\t4\t");
    free(dup.bytes);
    free(overlap.bytes);
    lt_signer_destroy(s);
    teardown(&f);
}

static void test_sequence_jump_is_recorded_as_gap(void)
{
    fixture_t f;
    lt_signer_t *s = integrity_signer();
    setup(&f);
    encoded_t a = make_batch("00004", 1, 3, s, NULL), b = make_batch("00004", 7, 2, s, NULL);
    lt_msg_t msgs[] = {msg_of(TOPIC_A, 0, "00004", a), msg_of(TOPIC_A, 1, "00004", b)};
    lt_plan_messages(f.plan, msgs, 2, LT_PLAN_NORMAL);
    ASSERT_EQ_INT(lt_plan_counts(f.plan).gaps, 1);
    ASSERT_EQ_STR(lt_plan_gap_rows(f.plan, NULL), "00004\t4\t6\n");
    ASSERT_EQ_INT(lt_plan_counts(f.plan).events, 5);
    ASSERT_EQ_INT(planned(f.plan, "00004").last_seq, 8);
    free(a.bytes);
    free(b.bytes);
    lt_signer_destroy(s);
    teardown(&f);
}

/* Plan one message and return the quarantine COPY text. */
static const char *quarantine_of(lt_plan_t *plan, lt_msg_t msg)
{
    lt_plan_messages(plan, &msg, 1, LT_PLAN_NORMAL);
    ASSERT_EQ_INT(lt_plan_counts(plan).quarantined, 1);
    ASSERT_EQ_INT(lt_plan_counts(plan).events, 0);
    ASSERT_EQ_INT(lt_plan_counts(plan).offsets, 1); /* the offset still advances */
    return lt_plan_quarantine_rows(plan, NULL);
}

static void wrong_commune(Lienthong__V1__Batch *b)
{
    b->commune_code = (char *)"00008";
}

static void bad_count(Lienthong__V1__Batch *b)
{
    b->last_seq += 1;
}

static void bad_hash(Lienthong__V1__Batch *b)
{
    b->events[1]->content_hash.data[0] ^= 1;
}

static void test_quarantine_reasons(void)
{
    fixture_t f;
    lt_signer_t *s = integrity_signer();
    setup(&f);
    encoded_t good = make_batch("00004", 1, 2, s, NULL);
    encoded_t garbage = {(uint8_t *)strdup("\xff\xff\xff\xff not protobuf"), 18};
    ASSERT_CONTAINS(quarantine_of(f.plan, msg_of(TOPIC_A, 5, "00004", garbage)), "\tmalformed\t");
    ASSERT_CONTAINS(quarantine_of(f.plan, msg_of(TOPIC_A, 5, "00008", good)), "\tkey_mismatch\t");
    ASSERT_CONTAINS(quarantine_of(f.plan, msg_of("lt.01.00025.events", 5, "00025", good)),
                    "\tunknown_commune\t");
    encoded_t other = make_batch("00004", 1, 2, s, wrong_commune);
    ASSERT_CONTAINS(quarantine_of(f.plan, msg_of(TOPIC_A, 5, "00004", other)),
                    "\tcommune_mismatch\t");
    encoded_t counted = make_batch("00004", 1, 2, s, bad_count);
    ASSERT_CONTAINS(quarantine_of(f.plan, msg_of(TOPIC_A, 5, "00004", counted)),
                    "\tbad_sequence\t");
    encoded_t hashed = make_batch("00004", 1, 2, s, bad_hash);
    ASSERT_CONTAINS(quarantine_of(f.plan, msg_of(TOPIC_A, 5, "00004", hashed)),
                    "\tcontent_hash_mismatch\t");
    encoded_t tampered = make_batch("00004", 1, 2, s, NULL);
    tampered.bytes[10] ^= 0x01; /* inside the signed batch bytes */
    const char *q = quarantine_of(f.plan, msg_of(TOPIC_A, 5, "00004", tampered));
    ASSERT_TRUE(strstr(q, "\tbad_signature\t") || strstr(q, "\tmalformed\t"));
    /* The raw bytes are kept for replay, as bytea hex. */
    ASSERT_CONTAINS(q, "\t\\\\x");
    lt_plan_t *small = lt_plan_new(f.reg, 16, 1, NULL); /* messages of at most 16 bytes */
    ASSERT_CONTAINS(quarantine_of(small, msg_of(TOPIC_A, 5, "00004", good)), "\ttoo_large\t");
    lt_plan_destroy(small);
    encoded_t all[] = {good, garbage, other, counted, hashed, tampered};
    for (size_t i = 0; i < sizeof(all) / sizeof(*all); i++)
        free(all[i].bytes);
    lt_signer_destroy(s);
    teardown(&f);
}

static void test_registered_key_is_required(void)
{
    lt_test_key_t key;
    lt_test_key_make(&key);
    lt_signer_t *weak = integrity_signer();
    fixture_t f;
    setup_with(&f, 1);
    lt_registry_add(f.reg, "00004", TOPIC_A, lt_signer_key_id(key.signer), key.pem);
    encoded_t unsigned_batch = make_batch("00004", 1, 2, weak, NULL);
    ASSERT_CONTAINS(quarantine_of(f.plan, msg_of(TOPIC_A, 0, "00004", unsigned_batch)),
                    "\twrong_signer\t");
    encoded_t signed_batch = make_batch("00004", 1, 2, key.signer, NULL);
    lt_msg_t msg = msg_of(TOPIC_A, 1, "00004", signed_batch);
    lt_plan_messages(f.plan, &msg, 1, LT_PLAN_NORMAL);
    ASSERT_EQ_INT(lt_plan_counts(f.plan).quarantined, 0);
    ASSERT_EQ_INT(lt_plan_counts(f.plan).events, 2);
    free(unsigned_batch.bytes);
    free(signed_batch.bytes);
    lt_signer_destroy(weak);
    teardown(&f);
    lt_test_key_drop(&key);
}

static void test_integrity_only_can_be_refused(void)
{
    fixture_t f;
    lt_signer_t *s = integrity_signer();
    setup_with(&f, 0);
    lt_registry_add(f.reg, "00004", TOPIC_A, NULL, NULL);
    encoded_t e = make_batch("00004", 1, 1, s, NULL);
    ASSERT_CONTAINS(quarantine_of(f.plan, msg_of(TOPIC_A, 0, "00004", e)), "\twrong_signer\t");
    free(e.bytes);
    lt_signer_destroy(s);
    teardown(&f);
}

static void test_deletes_stage_without_payload(void)
{
    fixture_t f;
    lt_signer_t *s = integrity_signer();
    setup(&f);
    Lienthong__V1__Event *ev = make_event(1, "gone", 9, 1);
    Lienthong__V1__Batch batch = LIENTHONG__V1__BATCH__INIT;
    Lienthong__V1__Event *events[] = {ev};
    batch.commune_code = (char *)"00008";
    batch.first_seq = batch.last_seq = 1;
    batch.n_events = 1;
    batch.events = events;
    encoded_t e;
    uint8_t hash[LT_SHA256_LEN];
    e.bytes = lt_envelope_seal(&batch, s, &e.len, hash);
    lt_msg_t msg = msg_of(TOPIC_B, 0, "00008", e);
    lt_plan_messages(f.plan, &msg, 1, LT_PLAN_NORMAL);
    ASSERT_EQ_INT(lt_plan_counts(f.plan).events, 1);
    ASSERT_EQ_STR(lt_plan_event_rows(f.plan, NULL),
                  "00008\t1\tdossier\tgone\t9\tdelete\t\\N\t2023-11-14 22:13:20.000000+00"
                  "\t2023-11-14 22:13:20.000001+00\n");
    lt_buf_t rows = {0};
    lt_newest_write(lt_plan_entity_rows(f.plan), &rows);
    /* The staging row ends with the tombstone's digest member. */
    lt_digest_member_t m;
    lt_digest_member("dossier", "gone", 9, 1, NULL, 0, &m);
    char expect[512];
    snprintf(expect, sizeof(expect),
             "00008\t1\tdossier\tgone\t9\tdelete\t\\N\t\\N\t1700000000000000"
             "\t1700000000000001\t\t\t\tf\t%u\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\t%" PRId64 "\tf\n",
             m.bucket, m.h[0], m.h[1], m.h[2], m.h[3]);
    ASSERT_EQ_STR(lt_buf_cstr(&rows), expect);
    lt_buf_free(&rows);
    free(e.bytes);
    protobuf_c_message_free_unpacked(&ev->base, NULL);
    lt_signer_destroy(s);
    teardown(&f);
}

/* The lost-event scenario: seq 7 refused by Kafka, seq 8 delivered, then 7
 * delivered late. 7 lies below the last applied sequence but inside the
 * open gap: it is applied, once; the copies that follow are duplicates. */
static void test_late_event_fills_its_gap_once(void)
{
    fixture_t f;
    lt_signer_t *s = integrity_signer();
    setup(&f);
    lt_commune_set_progress(commune(&f, "00004"), 6, NULL);
    encoded_t b8 = make_batch("00004", 8, 1, s, NULL), b7 = make_batch("00004", 7, 1, s, NULL);
    lt_msg_t msgs[] = {msg_of(TOPIC_A, 5, "00004", b8), msg_of(TOPIC_A, 6, "00004", b7),
                       msg_of(TOPIC_A, 7, "00004", b8), msg_of(TOPIC_A, 8, "00004", b7)};
    lt_plan_messages(f.plan, msgs, 4, LT_PLAN_NORMAL);
    ASSERT_EQ_INT(lt_plan_counts(f.plan).gaps, 1);
    ASSERT_CONTAINS(lt_plan_gap_rows(f.plan, NULL), "00004\t7\t7\n");
    ASSERT_EQ_INT(lt_plan_counts(f.plan).events, 2); /* 8, then 7 into the gap */
    ASSERT_CONTAINS(lt_plan_event_rows(f.plan, NULL), "00004\t7\tdossier\t");
    ASSERT_EQ_INT(planned(f.plan, "00004").fills, 1);
    ASSERT_EQ_INT(planned(f.plan, "00004").duplicates, 2);
    ASSERT_EQ_INT(planned(f.plan, "00004").last_seq, 8);
    ASSERT_EQ_INT(planned(f.plan, "00004").missing, 0);
    free(b8.bytes);
    free(b7.bytes);
    lt_signer_destroy(s);
    teardown(&f);
}

/* A gap known from an earlier round (loaded from lt.seq_gap less the event
 * log): a resent batch overlapping it applies exactly the missing events. */
static void test_resent_batch_applies_only_the_missing(void)
{
    fixture_t f;
    lt_signer_t *s = integrity_signer();
    setup(&f);
    lt_commune_t *c = commune(&f, "00004");
    lt_commune_set_progress(c, 10, NULL);
    lt_ranges_append(lt_commune_missing(c), 5, 6); /* 7 arrived already */
    lt_ranges_append(lt_commune_missing(c), 8, 8);
    encoded_t resent = make_batch("00004", 4, 7, s, NULL); /* 4..10 */
    lt_msg_t msgs[] = {msg_of(TOPIC_A, 20, "00004", resent)};
    lt_plan_messages(f.plan, msgs, 1, LT_PLAN_NORMAL);
    ASSERT_EQ_INT(lt_plan_counts(f.plan).events, 3); /* 5, 6 and 8 */
    ASSERT_EQ_INT(lt_plan_counts(f.plan).gaps, 0);
    ASSERT_EQ_INT(planned(f.plan, "00004").fills, 3);
    ASSERT_EQ_INT(planned(f.plan, "00004").duplicates, 0);
    ASSERT_EQ_INT(planned(f.plan, "00004").last_seq, 10);
    ASSERT_TRUE(strstr(lt_plan_event_rows(f.plan, NULL), "00004\t7\t") == NULL);
    ASSERT_TRUE(strstr(lt_plan_event_rows(f.plan, NULL), "00004\t4\t") == NULL);
    ASSERT_CONTAINS(lt_plan_event_rows(f.plan, NULL), "00004\t8\t");
    /* The committed state is untouched until the commit succeeds. */
    ASSERT_EQ_INT(lt_ranges_count(lt_commune_missing(c)), 3);
    ASSERT_EQ_INT(planned(f.plan, "00004").missing, 0);
    free(resent.bytes);
    lt_signer_destroy(s);
    teardown(&f);
}

/* The sink plans round 2 while round 1 commits: round 2 starts from round
 * 1's planned progress (duplicates, gaps and fills as if round 1 were
 * committed); a commune round 1 did not touch starts from the registry; the
 * counters of both plans are one. */
static void test_round_planned_on_top_of_one_in_flight(void)
{
    fixture_t f;
    lt_signer_t *s = integrity_signer();
    setup(&f);
    lt_commune_set_progress(commune(&f, "00008"), 20, NULL);
    lt_plan_t *second = lt_plan_new_twin(f.plan);
    encoded_t a1 = make_batch("00004", 1, 3, s, NULL), a4 = make_batch("00004", 4, 3, s, NULL),
              a9 = make_batch("00004", 9, 2, s, NULL), a7 = make_batch("00004", 7, 2, s, NULL),
              b21 = make_batch("00008", 21, 2, s, NULL);
    lt_msg_t round1[] = {msg_of(TOPIC_A, 0, "00004", a1), msg_of(TOPIC_A, 1, "00004", a4),
                         msg_of(TOPIC_A, 2, "00004", a9)};
    lt_msg_t round2[] = {msg_of(TOPIC_A, 3, "00004", a4), msg_of(TOPIC_A, 4, "00004", a7),
                         msg_of(TOPIC_B, 0, "00008", b21)};
    lt_plan_messages(f.plan, round1, 3, LT_PLAN_NORMAL);
    ASSERT_EQ_INT(planned(f.plan, "00004").missing, 2); /* 7..8 */
    lt_plan_messages_after(second, f.plan, round2, 3);
    ASSERT_EQ_INT(planned(second, "00004").duplicates, 1); /* 4..6, held by round 1 */
    ASSERT_EQ_INT(planned(second, "00004").fills, 2);      /* 7 and 8 */
    ASSERT_EQ_INT(planned(second, "00004").missing, 0);
    ASSERT_EQ_INT(planned(second, "00004").last_seq, 10);
    ASSERT_EQ_INT(planned(second, "00008").last_seq, 22); /* from the registry's 20 */
    ASSERT_EQ_INT(lt_plan_counts(second).events, 4);
    ASSERT_EQ_INT(lt_plan_counts(second).gaps, 0);
    ASSERT_CONTAINS(lt_plan_event_rows(second, NULL),
                    "00004\t7\tdossier\td-3\t7\tupsert\t\\\\x");
    ASSERT_CONTAINS(lt_plan_event_rows(second, NULL),
                    "\t2023-11-14 22:13:20.000000+00\t2023-11-14 22:13:20.000001+00\n");
    /* Nothing reaches the registry before the commits, in order. */
    ASSERT_EQ_INT(lt_commune_last_seq(commune(&f, "00004")), 0);
    lt_plan_committed(f.plan);
    lt_plan_committed(second);
    ASSERT_EQ_INT(lt_commune_last_seq(commune(&f, "00004")), 10);
    ASSERT_EQ_INT(lt_ranges_count(lt_commune_missing(commune(&f, "00004"))), 0);
    ASSERT_EQ_INT(lt_commune_last_seq(commune(&f, "00008")), 22);
    ASSERT_EQ_INT(lt_plan_stats(f.plan).rounds, 2);
    ASSERT_EQ_INT(lt_plan_stats(second).events_applied, 8 + 4);
    ASSERT_EQ_INT(lt_plan_stats(f.plan).gap_fills, 2);
    /* Round 1 failed instead: round 2, planned again from a registry that
     * holds nothing, is a round of its own (4..6 new after a gap 1..3). */
    lt_registry_t *reg = lt_registry_new("01");
    lt_registry_add(reg, "00004", TOPIC_A, NULL, NULL);
    lt_registry_add(reg, "00008", TOPIC_B, NULL, NULL);
    lt_plan_t *alone = lt_plan_new(reg, LT_BATCH_MAX_BYTES_DEFAULT, 1, NULL);
    lt_plan_messages(alone, round2, 3, LT_PLAN_NORMAL);
    ASSERT_EQ_INT(planned(alone, "00004").duplicates, 0);
    ASSERT_EQ_INT(planned(alone, "00004").missing, 3);
    ASSERT_CONTAINS(lt_plan_gap_rows(alone, NULL), "00004\t1\t3\n");
    lt_plan_destroy(alone);
    lt_registry_destroy(reg);
    encoded_t all[] = {a1, a4, a9, a7, b21};
    for (size_t i = 0; i < sizeof(all) / sizeof(*all); i++)
        free(all[i].bytes);
    lt_plan_destroy(second);
    lt_signer_destroy(s);
    teardown(&f);
}

/* The sequence-range set behind the gaps. */
static void test_ranges_split_and_shrink(void)
{
    lt_ranges_t *set = lt_ranges_new();
    lt_ranges_append(set, 3, 9);
    lt_ranges_append(set, 20, 20);
    ASSERT_EQ_INT(lt_ranges_count(set), 8);
    ASSERT_TRUE(lt_ranges_remove(set, 5)); /* 3-4, 6-9, 20 */
    ASSERT_EQ_INT(lt_ranges_spans(set), 3);
    ASSERT_TRUE(!lt_ranges_contains(set, 5));
    ASSERT_TRUE(lt_ranges_contains(set, 4) && lt_ranges_contains(set, 6));
    ASSERT_TRUE(lt_ranges_remove(set, 3) && lt_ranges_remove(set, 9) && lt_ranges_remove(set, 20));
    ASSERT_TRUE(!lt_ranges_remove(set, 20));
    ASSERT_EQ_INT(lt_ranges_spans(set), 2);
    ASSERT_EQ_INT(lt_ranges_span(set, 0).from, 4);
    ASSERT_EQ_INT(lt_ranges_span(set, 0).to, 4);
    ASSERT_EQ_INT(lt_ranges_span(set, 1).from, 6);
    ASSERT_EQ_INT(lt_ranges_span(set, 1).to, 8);
    ASSERT_EQ_INT(lt_ranges_count(set), 4);
    lt_ranges_destroy(set);
}

int main(void)
{
    RUN_TEST(test_fresh_batches_apply_in_order);
    RUN_TEST(test_duplicate_and_overlap_are_skipped);
    RUN_TEST(test_sequence_jump_is_recorded_as_gap);
    RUN_TEST(test_quarantine_reasons);
    RUN_TEST(test_registered_key_is_required);
    RUN_TEST(test_integrity_only_can_be_refused);
    RUN_TEST(test_deletes_stage_without_payload);
    RUN_TEST(test_late_event_fills_its_gap_once);
    RUN_TEST(test_resent_batch_applies_only_the_missing);
    RUN_TEST(test_round_planned_on_top_of_one_in_flight);
    RUN_TEST(test_ranges_split_and_shrink);
    return LT_TEST_EXIT();
}
