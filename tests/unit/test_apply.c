/* Planning a poll round: duplicates, overlaps, gaps and every quarantine reason,
 * from real encoded and signed batches — no broker, no database. */
#include <stdlib.h>
#include <string.h>

#include "lt_agent.h"
#include "lt_apply.h"
#include "lt_codec.h"
#include "lt_outbox.h"
#include "lt_sign.h"
#include "lt_test.h"
#include "lt_util.h"

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

static Lienthong__V1__Event *make_event(uint64_t seq, const char *id, uint64_t version,
                                        int is_delete)
{
    char errstr[256];
    Lienthong__V1__Event *ev = lt_outbox_make_event(
        "dossier", id, version, is_delete ? "delete" : "upsert", 1700000000000000,
        1700000000000001, is_delete ? NULL : dossier_json, errstr, sizeof(errstr));
    if (!ev) {
        fprintf(stderr, "make_event: %s\n", errstr);
        abort();
    }
    ev->seq = seq;
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
    out.bytes = lt_batch_seal(&batch, signer, &out.len, hash); /* as the agent does */
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

static void setup(lt_apply_t *apply)
{
    lt_apply_init(apply, "01", LT_BATCH_MAX_BYTES_DEFAULT, 1);
    lt_apply_add_commune(apply, "00004", NULL, NULL, 0);
    lt_apply_add_commune(apply, "00008", NULL, NULL, 0);
}

static void test_fresh_batches_apply_in_order(void)
{
    lt_apply_t apply;
    lt_signer_t *s = integrity_signer();
    setup(&apply);
    encoded_t a = make_batch("00004", 1, 3, s, NULL), b = make_batch("00004", 4, 2, s, NULL);
    lt_msg_t msgs[] = {msg_of(TOPIC_A, 10, "00004", a), msg_of(TOPIC_A, 11, "00004", b)};
    lt_apply_plan(&apply, msgs, 2);
    ASSERT_EQ_INT(apply.plan_rows, 5);
    ASSERT_EQ_INT(apply.plan_batches, 2);
    ASSERT_EQ_INT(apply.plan_quarantined, 0);
    ASSERT_EQ_INT(apply.plan_gaps, 0);
    ASSERT_EQ_INT(apply.communes[0].plan_last_seq, 5);
    ASSERT_CONTAINS(lt_buf_cstr(&apply.offsets), TOPIC_A "\t0\t12\n");
    ASSERT_CONTAINS(lt_buf_cstr(&apply.events), "00004\t1\tdossier\td-1\t1\tupsert\t\\\\x");
    /* seq 1..5 touch d-1, d-2, d-3, d-0 and d-1 again: four entities, d-1 at version 5 */
    ASSERT_EQ_INT(lt_newest_count(&apply.newest), 4);
    lt_buf_t rows = {0};
    lt_newest_write(&apply.newest, &rows);
    ASSERT_CONTAINS(lt_buf_cstr(&rows), "00004\t5\tdossier\td-1\t5\tupsert\t");
    ASSERT_TRUE(strstr(lt_buf_cstr(&rows), "00004\t1\tdossier\td-1\t1\t") == NULL);
    lt_buf_free(&rows);
    free(a.bytes);
    free(b.bytes);
    lt_signer_destroy(s);
    lt_apply_destroy(&apply);
}

static void test_duplicate_and_overlap_are_skipped(void)
{
    lt_apply_t apply;
    lt_signer_t *s = integrity_signer();
    setup(&apply);
    apply.communes[0].last_seq = 3; /* 1..3 applied in an earlier round */
    encoded_t dup = make_batch("00004", 1, 3, s, NULL), overlap = make_batch("00004", 2, 4, s, NULL);
    lt_msg_t msgs[] = {msg_of(TOPIC_A, 0, "00004", dup), msg_of(TOPIC_A, 1, "00004", overlap)};
    lt_apply_plan(&apply, msgs, 2);
    ASSERT_EQ_INT(apply.communes[0].plan_duplicates, 1);
    ASSERT_EQ_INT(apply.plan_rows, 2); /* only seq 4 and 5 of 2..5 */
    ASSERT_EQ_INT(apply.communes[0].plan_last_seq, 5);
    ASSERT_TRUE(strstr(lt_buf_cstr(&apply.events), "00004\t3\t") == NULL);
    ASSERT_CONTAINS(lt_buf_cstr(&apply.events), "00004\t4\t");
    free(dup.bytes);
    free(overlap.bytes);
    lt_signer_destroy(s);
    lt_apply_destroy(&apply);
}

static void test_sequence_jump_is_recorded_as_gap(void)
{
    lt_apply_t apply;
    lt_signer_t *s = integrity_signer();
    setup(&apply);
    encoded_t a = make_batch("00004", 1, 3, s, NULL), b = make_batch("00004", 7, 2, s, NULL);
    lt_msg_t msgs[] = {msg_of(TOPIC_A, 0, "00004", a), msg_of(TOPIC_A, 1, "00004", b)};
    lt_apply_plan(&apply, msgs, 2);
    ASSERT_EQ_INT(apply.plan_gaps, 1);
    ASSERT_EQ_STR(lt_buf_cstr(&apply.gaps), "00004\t4\t6\n");
    ASSERT_EQ_INT(apply.plan_rows, 5);
    ASSERT_EQ_INT(apply.communes[0].plan_last_seq, 8);
    free(a.bytes);
    free(b.bytes);
    lt_signer_destroy(s);
    lt_apply_destroy(&apply);
}

/* Plan one message and return the quarantine COPY text. */
static const char *quarantine_of(lt_apply_t *apply, lt_msg_t msg)
{
    lt_apply_plan(apply, &msg, 1);
    ASSERT_EQ_INT(apply->plan_quarantined, 1);
    ASSERT_EQ_INT(apply->plan_rows, 0);
    ASSERT_EQ_INT(apply->plan_offsets, 1); /* the offset still advances */
    return lt_buf_cstr(&apply->quarantine);
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
    lt_apply_t apply;
    lt_signer_t *s = integrity_signer();
    setup(&apply);
    encoded_t good = make_batch("00004", 1, 2, s, NULL);
    encoded_t garbage = {(uint8_t *)strdup("\xff\xff\xff\xff not protobuf"), 18};
    ASSERT_CONTAINS(quarantine_of(&apply, msg_of(TOPIC_A, 5, "00004", garbage)), "\tmalformed\t");
    ASSERT_CONTAINS(quarantine_of(&apply, msg_of(TOPIC_A, 5, "00008", good)), "\tkey_mismatch\t");
    ASSERT_CONTAINS(quarantine_of(&apply, msg_of("lt.01.00025.events", 5, "00025", good)),
                    "\tunknown_commune\t");
    encoded_t other = make_batch("00004", 1, 2, s, wrong_commune);
    ASSERT_CONTAINS(quarantine_of(&apply, msg_of(TOPIC_A, 5, "00004", other)),
                    "\tcommune_mismatch\t");
    encoded_t counted = make_batch("00004", 1, 2, s, bad_count);
    ASSERT_CONTAINS(quarantine_of(&apply, msg_of(TOPIC_A, 5, "00004", counted)),
                    "\tbad_sequence\t");
    encoded_t hashed = make_batch("00004", 1, 2, s, bad_hash);
    ASSERT_CONTAINS(quarantine_of(&apply, msg_of(TOPIC_A, 5, "00004", hashed)),
                    "\tcontent_hash_mismatch\t");
    encoded_t tampered = make_batch("00004", 1, 2, s, NULL);
    tampered.bytes[10] ^= 0x01; /* inside the signed batch bytes */
    const char *q = quarantine_of(&apply, msg_of(TOPIC_A, 5, "00004", tampered));
    ASSERT_TRUE(strstr(q, "\tbad_signature\t") || strstr(q, "\tmalformed\t"));
    apply.max_message_bytes = 16;
    ASSERT_CONTAINS(quarantine_of(&apply, msg_of(TOPIC_A, 5, "00004", good)), "\ttoo_large\t");
    /* The raw bytes are kept for replay, as bytea hex. */
    ASSERT_CONTAINS(q, "\t\\\\x");
    encoded_t all[] = {good, garbage, other, counted, hashed, tampered};
    for (size_t i = 0; i < sizeof(all) / sizeof(*all); i++)
        free(all[i].bytes);
    lt_signer_destroy(s);
    lt_apply_destroy(&apply);
}

static void test_registered_key_is_required(void)
{
    char dir[] = "/tmp/lt_test_apply_XXXXXX", priv[128], pub[128], errstr[256];
    ASSERT_TRUE(mkdtemp(dir) != NULL);
    snprintf(priv, sizeof(priv), "%s/k.pem", dir);
    snprintf(pub, sizeof(pub), "%s/k.pub.pem", dir);
    ASSERT_EQ_INT(lt_sign_keygen(priv, pub, errstr, sizeof(errstr)), 0);
    lt_signer_t *ed = lt_signer_new(priv, errstr, sizeof(errstr));
    lt_signer_t *weak = integrity_signer();
    char *pem = lt_read_file(pub, NULL, errstr, sizeof(errstr));
    lt_apply_t apply;
    lt_apply_init(&apply, "01", LT_BATCH_MAX_BYTES_DEFAULT, 1);
    lt_apply_add_commune(&apply, "00004", lt_signer_key_id(ed), pem, 0);
    encoded_t unsigned_batch = make_batch("00004", 1, 2, weak, NULL);
    ASSERT_CONTAINS(quarantine_of(&apply, msg_of(TOPIC_A, 0, "00004", unsigned_batch)),
                    "\twrong_signer\t");
    encoded_t signed_batch = make_batch("00004", 1, 2, ed, NULL);
    lt_msg_t msg = msg_of(TOPIC_A, 1, "00004", signed_batch);
    lt_apply_plan(&apply, &msg, 1);
    ASSERT_EQ_INT(apply.plan_quarantined, 0);
    ASSERT_EQ_INT(apply.plan_rows, 2);
    free(unsigned_batch.bytes);
    free(signed_batch.bytes);
    free(pem);
    lt_signer_destroy(ed);
    lt_signer_destroy(weak);
    lt_apply_destroy(&apply);
    remove(priv);
    remove(pub);
    remove(dir);
}

static void test_integrity_only_can_be_refused(void)
{
    lt_apply_t apply;
    lt_signer_t *s = integrity_signer();
    lt_apply_init(&apply, "01", LT_BATCH_MAX_BYTES_DEFAULT, 0);
    lt_apply_add_commune(&apply, "00004", NULL, NULL, 0);
    encoded_t e = make_batch("00004", 1, 1, s, NULL);
    ASSERT_CONTAINS(quarantine_of(&apply, msg_of(TOPIC_A, 0, "00004", e)), "\twrong_signer\t");
    free(e.bytes);
    lt_signer_destroy(s);
    lt_apply_destroy(&apply);
}

static void test_deletes_stage_without_payload(void)
{
    lt_apply_t apply;
    lt_signer_t *s = integrity_signer();
    setup(&apply);
    Lienthong__V1__Event *ev = make_event(1, "gone", 9, 1);
    Lienthong__V1__Batch batch = LIENTHONG__V1__BATCH__INIT;
    Lienthong__V1__Event *events[] = {ev};
    batch.commune_code = (char *)"00008";
    batch.first_seq = batch.last_seq = 1;
    batch.n_events = 1;
    batch.events = events;
    encoded_t e;
    uint8_t hash[LT_SHA256_LEN];
    e.bytes = lt_batch_seal(&batch, s, &e.len, hash);
    lt_msg_t msg = msg_of(TOPIC_B, 0, "00008", e);
    lt_apply_plan(&apply, &msg, 1);
    ASSERT_EQ_INT(apply.plan_rows, 1);
    ASSERT_EQ_STR(lt_buf_cstr(&apply.events),
                  "00008\t1\tdossier\tgone\t9\tdelete\t\\N\t2023-11-14 22:13:20.000000+00"
                  "\t2023-11-14 22:13:20.000001+00\n");
    lt_buf_t rows = {0};
    lt_newest_write(&apply.newest, &rows);
    ASSERT_EQ_STR(lt_buf_cstr(&rows), "00008\t1\tdossier\tgone\t9\tdelete\t\\N\t\\N"
                                      "\t1700000000000000\t1700000000000001\t\t\t\tf\n");
    lt_buf_free(&rows);
    free(e.bytes);
    protobuf_c_message_free_unpacked(&ev->base, NULL);
    lt_signer_destroy(s);
    lt_apply_destroy(&apply);
}

/* The lost-event scenario: seq 7 refused by Kafka, seq 8 delivered, then 7
 * delivered late. 7 lies below the last applied sequence but inside the
 * open gap: it is applied, once; the copies that follow are duplicates. */
static void test_late_event_fills_its_gap_once(void)
{
    lt_apply_t apply;
    lt_signer_t *s = integrity_signer();
    setup(&apply);
    apply.communes[0].last_seq = 6;
    encoded_t b8 = make_batch("00004", 8, 1, s, NULL), b7 = make_batch("00004", 7, 1, s, NULL);
    lt_msg_t msgs[] = {msg_of(TOPIC_A, 5, "00004", b8), msg_of(TOPIC_A, 6, "00004", b7),
                       msg_of(TOPIC_A, 7, "00004", b8), msg_of(TOPIC_A, 8, "00004", b7)};
    lt_apply_plan(&apply, msgs, 4);
    ASSERT_EQ_INT(apply.plan_gaps, 1);
    ASSERT_CONTAINS(lt_buf_cstr(&apply.gaps), "00004\t7\t7\n");
    ASSERT_EQ_INT(apply.plan_rows, 2); /* 8, then 7 into the gap */
    ASSERT_CONTAINS(lt_buf_cstr(&apply.events), "00004\t7\tdossier\t");
    ASSERT_EQ_INT(apply.communes[0].plan_fills, 1);
    ASSERT_EQ_INT(apply.communes[0].plan_duplicates, 2);
    ASSERT_EQ_INT(apply.communes[0].plan_last_seq, 8);
    ASSERT_EQ_INT(lt_ranges_count(&apply.communes[0].plan_missing), 0);
    free(b8.bytes);
    free(b7.bytes);
    lt_signer_destroy(s);
    lt_apply_destroy(&apply);
}

/* A gap known from an earlier round (loaded from lt.seq_gap less the event
 * log): a resent batch overlapping it applies exactly the missing events. */
static void test_resent_batch_applies_only_the_missing(void)
{
    lt_apply_t apply;
    lt_signer_t *s = integrity_signer();
    setup(&apply);
    apply.communes[0].last_seq = 10;
    lt_ranges_append(&apply.communes[0].missing, 5, 6); /* 7 arrived already */
    lt_ranges_append(&apply.communes[0].missing, 8, 8);
    encoded_t resent = make_batch("00004", 4, 7, s, NULL); /* 4..10 */
    lt_msg_t msgs[] = {msg_of(TOPIC_A, 20, "00004", resent)};
    lt_apply_plan(&apply, msgs, 1);
    ASSERT_EQ_INT(apply.plan_rows, 3); /* 5, 6 and 8 */
    ASSERT_EQ_INT(apply.plan_gaps, 0);
    ASSERT_EQ_INT(apply.communes[0].plan_fills, 3);
    ASSERT_EQ_INT(apply.communes[0].plan_duplicates, 0);
    ASSERT_EQ_INT(apply.communes[0].plan_last_seq, 10);
    ASSERT_TRUE(strstr(lt_buf_cstr(&apply.events), "00004\t7\t") == NULL);
    ASSERT_TRUE(strstr(lt_buf_cstr(&apply.events), "00004\t4\t") == NULL);
    ASSERT_CONTAINS(lt_buf_cstr(&apply.events), "00004\t8\t");
    /* The committed state is untouched until the commit succeeds. */
    ASSERT_EQ_INT(lt_ranges_count(&apply.communes[0].missing), 3);
    ASSERT_EQ_INT(lt_ranges_count(&apply.communes[0].plan_missing), 0);
    free(resent.bytes);
    lt_signer_destroy(s);
    lt_apply_destroy(&apply);
}

/* The sequence-range set behind the gaps. */
static void test_ranges_split_and_shrink(void)
{
    lt_ranges_t set = {0};
    lt_ranges_append(&set, 3, 9);
    lt_ranges_append(&set, 20, 20);
    ASSERT_EQ_INT(lt_ranges_count(&set), 8);
    ASSERT_TRUE(lt_ranges_remove(&set, 5)); /* 3-4, 6-9, 20 */
    ASSERT_EQ_INT(set.n, 3);
    ASSERT_TRUE(!lt_ranges_contains(&set, 5));
    ASSERT_TRUE(lt_ranges_contains(&set, 4) && lt_ranges_contains(&set, 6));
    ASSERT_TRUE(lt_ranges_remove(&set, 3) && lt_ranges_remove(&set, 9) && lt_ranges_remove(&set, 20));
    ASSERT_TRUE(!lt_ranges_remove(&set, 20));
    ASSERT_EQ_INT(set.n, 2);
    ASSERT_EQ_INT(set.r[0].from, 4);
    ASSERT_EQ_INT(set.r[0].to, 4);
    ASSERT_EQ_INT(set.r[1].from, 6);
    ASSERT_EQ_INT(set.r[1].to, 8);
    ASSERT_EQ_INT(lt_ranges_count(&set), 4);
    lt_ranges_free(&set);
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
    RUN_TEST(test_ranges_split_and_shrink);
    return LT_TEST_EXIT();
}
