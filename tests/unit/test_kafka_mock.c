/* The agent's producer settings and the sink's planning against librdkafka's
 * mock cluster, with injected broker errors: every batch is delivered once,
 * in order, and applies cleanly. No real broker needed.
 *
 * Both levels meet here on purpose: the agent's producer configuration and
 * acknowledgement tracking (producer/) send, the province plan (province/)
 * reads back; the envelope (proto/) is what they share. */
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "lt_acks.h"
#include "lt_agent.h"
#include "lt_envelope.h"
#include "lt_event.h"
#include "lt_plan.h"
#include "lt_registry.h"
#include "lt_test.h"

#define TOPIC "lt.01.00004.events"
#define BATCHES 20
#define PER_BATCH 25

static int delivered, failed;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    if (msg->err)
        failed++;
    else
        delivered++;
}

/* A birth registration with an empty record, as the agent would send it. */
static Lienthong__V1__Event *birth_event(uint64_t seq, const char *id)
{
    Lienthong__V1__BirthRecord *birth = malloc(sizeof(*birth));
    lienthong__v1__birth_record__init(birth);
    Lienthong__V1__CivilRecord *record = malloc(sizeof(*record));
    lienthong__v1__civil_record__init(record);
    record->kind = LIENTHONG__V1__CIVIL_RECORD_KIND__CIVIL_RECORD_KIND_BIRTH;
    record->record_case = LIENTHONG__V1__CIVIL_RECORD__RECORD_BIRTH;
    record->birth = birth;
    Lienthong__V1__Event *ev = malloc(sizeof(*ev));
    lienthong__v1__event__init(ev);
    ev->seq = seq;
    ev->entity_type = LIENTHONG__V1__ENTITY_TYPE__ENTITY_TYPE_CIVIL_RECORD;
    ev->entity_id = strdup(id);
    ev->version = 1;
    ev->op = LIENTHONG__V1__OP__OP_UPSERT;
    ev->occurred_at_us = 1;
    ev->recorded_at_us = 2;
    lt_event_set_payload(ev, &record->base);
    ev->content_hash.data = malloc(LT_SHA256_LEN);
    ev->content_hash.len = LT_SHA256_LEN;
    lt_event_payload_hash(ev, ev->content_hash.data);
    return ev;
}

static uint8_t *sealed_batch(uint64_t first, lt_signer_t *signer, size_t *len)
{
    Lienthong__V1__Event *events[PER_BATCH];
    for (size_t i = 0; i < PER_BATCH; i++) {
        char id[32];
        snprintf(id, sizeof(id), "b-%llu", (unsigned long long)(first + i));
        events[i] = birth_event(first + i, id);
    }
    Lienthong__V1__Batch batch = LIENTHONG__V1__BATCH__INIT;
    batch.commune_code = (char *)"00004";
    batch.first_seq = first;
    batch.last_seq = first + PER_BATCH - 1;
    batch.n_events = PER_BATCH;
    batch.events = events;
    uint8_t hash[LT_SHA256_LEN];
    uint8_t *out = lt_envelope_seal(&batch, signer, len, hash);
    for (size_t i = 0; i < PER_BATCH; i++)
        protobuf_c_message_free_unpacked(&events[i]->base, NULL);
    return out;
}

static rd_kafka_t *agent_producer(const char *bootstraps)
{
    char errstr[512];
    lt_conf_t conf = {0};
    lt_conf_set(&conf, "kafka", "bootstrap.servers", bootstraps, "test", errstr, sizeof(errstr));
    lt_conf_set(&conf, "kafka", "retry.backoff.ms", "10", "test", errstr, sizeof(errstr));
    rd_kafka_conf_t *kc = lt_agent_kafka_conf(&conf, errstr, sizeof(errstr));
    ASSERT_TRUE(kc != NULL);
    lt_conf_destroy(&conf);
    rd_kafka_conf_set_dr_msg_cb(kc, dr_cb);
    return rd_kafka_new(RD_KAFKA_PRODUCER, kc, errstr, sizeof(errstr));
}

static void produce_all(rd_kafka_t *rk, lt_signer_t *signer)
{
    for (int b = 0; b < BATCHES; b++) {
        size_t len;
        uint8_t *value = sealed_batch(1 + (uint64_t)b * PER_BATCH, signer, &len);
        rd_kafka_resp_err_t err = rd_kafka_producev(
            rk, RD_KAFKA_V_TOPIC(TOPIC), RD_KAFKA_V_KEY("00004", 5), RD_KAFKA_V_VALUE(value, len),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE), RD_KAFKA_V_END);
        ASSERT_EQ_INT(err, RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    ASSERT_EQ_INT(rd_kafka_flush(rk, 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
}

/* Read the partition back and plan it like the sink does; returns how many
 * messages it held. */
static size_t consume_and_plan_n(const char *bootstraps, lt_plan_t *plan)
{
    char errstr[512];
    rd_kafka_conf_t *kc = rd_kafka_conf_new();
    rd_kafka_conf_set(kc, "bootstrap.servers", bootstraps, errstr, sizeof(errstr));
    rd_kafka_conf_set(kc, "group.id", "test", errstr, sizeof(errstr));
    rd_kafka_conf_set(kc, "enable.partition.eof", "true", errstr, sizeof(errstr));
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, kc, errstr, sizeof(errstr));
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, TOPIC, 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    rd_kafka_message_t *held[BATCHES * 2];
    lt_msg_t msgs[BATCHES * 2];
    size_t n = 0;
    for (int polls = 0; polls < 200 && n < BATCHES * 2; polls++) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m)
            continue;
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            rd_kafka_message_destroy(m);
            break;
        }
        ASSERT_EQ_INT(m->err, 0);
        held[n] = m;
        msgs[n] = (lt_msg_t){TOPIC, m->partition, m->offset, m->key, m->key_len,
                             m->payload, m->len};
        n++;
    }
    lt_plan_messages(plan, msgs, n, LT_PLAN_NORMAL);
    for (size_t i = 0; i < n; i++)
        rd_kafka_message_destroy(held[i]);
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
    return n;
}

static void consume_and_plan(const char *bootstraps, lt_plan_t *plan)
{
    /* exactly once: retries left no duplicate */
    ASSERT_EQ_INT(consume_and_plan_n(bootstraps, plan), BATCHES);
}

/* Province 01 knowing commune 00004 (no key), as a sink would load it. */
static lt_registry_t *province_registry(void)
{
    lt_registry_t *reg = lt_registry_new("01");
    lt_registry_add(reg, "00004", TOPIC, NULL, NULL);
    return reg;
}

/* The commune's share of the plan. */
static lt_plan_commune_t planned(const lt_plan_t *plan)
{
    lt_plan_commune_t share = {0};
    ASSERT_EQ_INT(lt_plan_for_commune(plan, "00004", &share), 0);
    return share;
}

static void test_idempotent_produce_survives_broker_errors(void)
{
    char errstr[512];
    rd_kafka_conf_t *mc = rd_kafka_conf_new();
    rd_kafka_conf_set(mc, "log_level", "3", errstr, sizeof(errstr)); /* no CONFWARN */
    rd_kafka_t *mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, mc, errstr, sizeof(errstr));
    rd_kafka_mock_cluster_t *mcluster = rd_kafka_mock_cluster_new(mock_rk, 3);
    const char *bootstraps = rd_kafka_mock_cluster_bootstraps(mcluster);
    ASSERT_EQ_INT(rd_kafka_mock_topic_create(mcluster, TOPIC, 1, 3), 0);
    /* The first produce requests fail the way a struggling cluster does. */
    rd_kafka_mock_push_request_errors(mcluster, 0 /* ApiKey Produce */, 4,
                                      RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
                                      RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
                                      RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                                      RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND);
    lt_signer_t *signer = lt_signer_new(NULL, errstr, sizeof(errstr));
    rd_kafka_t *producer = agent_producer(bootstraps);
    produce_all(producer, signer);
    ASSERT_EQ_INT(delivered, BATCHES);
    ASSERT_EQ_INT(failed, 0);
    rd_kafka_destroy(producer);

    lt_registry_t *reg = province_registry();
    lt_plan_t *plan = lt_plan_new(reg, LT_BATCH_MAX_BYTES_DEFAULT, 1, NULL);
    consume_and_plan(bootstraps, plan);
    ASSERT_EQ_INT(lt_plan_counts(plan).events, BATCHES * PER_BATCH);
    ASSERT_EQ_INT(lt_plan_counts(plan).quarantined, 0);
    ASSERT_EQ_INT(lt_plan_counts(plan).gaps, 0);
    ASSERT_EQ_INT(planned(plan).duplicates, 0);
    ASSERT_EQ_INT(planned(plan).last_seq, BATCHES * PER_BATCH);
    lt_plan_destroy(plan);
    lt_registry_destroy(reg);
    lt_signer_destroy(signer);
    rd_kafka_mock_cluster_destroy(mcluster);
    rd_kafka_destroy(mock_rk);
}

static void test_guarantees_cannot_be_configured_away(void)
{
    char errstr[512], value[64];
    size_t size = sizeof(value);
    lt_conf_t conf = {0};
    lt_conf_set(&conf, "kafka", "enable.idempotence", "false", "test", errstr, sizeof(errstr));
    lt_conf_set(&conf, "kafka", "acks", "1", "test", errstr, sizeof(errstr));
    rd_kafka_conf_t *kc = lt_agent_kafka_conf(&conf, errstr, sizeof(errstr));
    ASSERT_TRUE(kc != NULL);
    rd_kafka_conf_get(kc, "enable.idempotence", value, &size);
    ASSERT_EQ_STR(value, "true");
    size = sizeof(value);
    rd_kafka_conf_get(kc, "acks", value, &size);
    ASSERT_EQ_STR(value, "-1");
    rd_kafka_conf_destroy(kc);
    lt_conf_set(&conf, "kafka", "no.such.property", "1", "test", errstr, sizeof(errstr));
    ASSERT_TRUE(lt_agent_kafka_conf(&conf, errstr, sizeof(errstr)) == NULL);
    ASSERT_CONTAINS(errstr, "kafka.no.such.property=1");
    lt_conf_destroy(&conf);
}

/* ------------------------------------------------------------------------
 * A permanent refusal of one produce request while the next succeeds: the
 * run of batches the agent may mark sent stops before the refused one, even
 * though Kafka holds the batches behind it; after the resend the sink plans
 * every event exactly once (the late batch fills its gap). */

static lt_acks_t *acks_under_test;

static void acks_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    (void)rk;
    (void)opaque;
    lt_acks_delivered(acks_under_test, msg->_private, msg->err);
}

static rd_kafka_t *one_request_per_batch_producer(const char *bootstraps)
{
    char errstr[512];
    lt_conf_t conf = {0};
    lt_conf_set(&conf, "kafka", "bootstrap.servers", bootstraps, "test", errstr, sizeof(errstr));
    lt_conf_set(&conf, "kafka", "linger.ms", "0", "test", errstr, sizeof(errstr));
    lt_conf_set(&conf, "kafka", "batch.num.messages", "1", "test", errstr, sizeof(errstr));
    lt_conf_set(&conf, "kafka", "retry.backoff.ms", "10", "test", errstr, sizeof(errstr));
    rd_kafka_conf_t *kc = lt_agent_kafka_conf(&conf, errstr, sizeof(errstr));
    ASSERT_TRUE(kc != NULL);
    lt_conf_destroy(&conf);
    rd_kafka_conf_set_dr_msg_cb(kc, acks_dr_cb);
    return rd_kafka_new(RD_KAFKA_PRODUCER, kc, errstr, sizeof(errstr));
}

/* Produce batch number b (1-based) recorded in acks_under_test. */
static void produce_tracked(rd_kafka_t *rk, lt_signer_t *signer, int b)
{
    uint64_t first = 1 + (uint64_t)(b - 1) * PER_BATCH;
    uint8_t hash[LT_SHA256_LEN] = {(uint8_t)b};
    size_t len;
    uint8_t *value = sealed_batch(first, signer, &len);
    lt_ack_t *ack = lt_acks_produced(acks_under_test, first, first + PER_BATCH - 1, len, hash);
    ASSERT_EQ_INT(rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(TOPIC), RD_KAFKA_V_KEY("00004", 5),
                                    RD_KAFKA_V_VALUE(value, len),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
                                    RD_KAFKA_V_OPAQUE(ack), RD_KAFKA_V_END),
                  RD_KAFKA_RESP_ERR_NO_ERROR);
}

static void mark_ready(uint64_t expect_last)
{
    lt_ack_run_t run;
    ASSERT_TRUE(lt_acks_ready(acks_under_test, &run));
    ASSERT_EQ_INT(run.last_seq, expect_last);
    lt_acks_marked(acks_under_test, &run);
}

static void test_refused_batch_stops_the_acked_run(void)
{
    char errstr[512];
    rd_kafka_conf_t *mc = rd_kafka_conf_new();
    rd_kafka_conf_set(mc, "log_level", "3", errstr, sizeof(errstr));
    rd_kafka_t *mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, mc, errstr, sizeof(errstr));
    rd_kafka_mock_cluster_t *mcluster = rd_kafka_mock_cluster_new(mock_rk, 1);
    const char *bootstraps = rd_kafka_mock_cluster_bootstraps(mcluster);
    ASSERT_EQ_INT(rd_kafka_mock_topic_create(mcluster, TOPIC, 1, 1), 0);
    lt_signer_t *signer = lt_signer_new(NULL, errstr, sizeof(errstr));
    acks_under_test = lt_acks_new(0);
    rd_kafka_t *producer = one_request_per_batch_producer(bootstraps);

    produce_tracked(producer, signer, 1);
    produce_tracked(producer, signer, 2);
    ASSERT_EQ_INT(rd_kafka_flush(producer, 10000), 0);
    mark_ready(2 * PER_BATCH);
    /* Batch 3's request is refused for good; 4 and 5 go through. */
    rd_kafka_mock_push_request_errors(mcluster, 0 /* Produce */, 1,
                                      RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);
    produce_tracked(producer, signer, 3);
    produce_tracked(producer, signer, 4);
    produce_tracked(producer, signer, 5);
    ASSERT_EQ_INT(rd_kafka_flush(producer, 10000), 0);
    ASSERT_EQ_INT(lt_acks_inflight(acks_under_test), 0);
    lt_ack_run_t run;
    ASSERT_TRUE(!lt_acks_ready(acks_under_test, &run)); /* nothing past the refusal */
    ASSERT_EQ_INT(lt_acks_acked_seq(acks_under_test), 2 * PER_BATCH);
    lt_ack_failure_t f;
    ASSERT_TRUE(lt_acks_failed(acks_under_test, &f));
    ASSERT_EQ_INT(f.first_seq, 2 * PER_BATCH + 1);
    ASSERT_EQ_INT(f.err, RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE);

    /* The agent's rewind: resend from acked_seq + 1. */
    lt_acks_reset(acks_under_test);
    for (int b = 3; b <= 5; b++)
        produce_tracked(producer, signer, b);
    ASSERT_EQ_INT(rd_kafka_flush(producer, 10000), 0);
    ASSERT_TRUE(!lt_acks_failed(acks_under_test, &f));
    mark_ready(5 * PER_BATCH);
    rd_kafka_destroy(producer);

    /* The topic holds 1, 2, 4, 5, 3, 4, 5 (those 4 and 5 Kafka took are
     * there twice): the sink applies each event once, 3 into its gap. */
    lt_registry_t *reg = province_registry();
    lt_plan_t *plan = lt_plan_new(reg, LT_BATCH_MAX_BYTES_DEFAULT, 1, NULL);
    size_t n = consume_and_plan_n(bootstraps, plan);
    ASSERT_EQ_INT(n, 7);
    ASSERT_EQ_INT(lt_plan_counts(plan).events, 5 * PER_BATCH);
    ASSERT_EQ_INT(lt_plan_counts(plan).gaps, 1);
    ASSERT_EQ_INT(planned(plan).fills, PER_BATCH);
    ASSERT_EQ_INT(planned(plan).duplicates, 2);
    ASSERT_EQ_INT(planned(plan).missing, 0);
    lt_plan_destroy(plan);
    lt_registry_destroy(reg);
    lt_acks_destroy(acks_under_test);
    lt_signer_destroy(signer);
    rd_kafka_mock_cluster_destroy(mcluster);
    rd_kafka_destroy(mock_rk);
}

int main(void)
{
    RUN_TEST(test_idempotent_produce_survives_broker_errors);
    RUN_TEST(test_guarantees_cannot_be_configured_away);
    RUN_TEST(test_refused_batch_stops_the_acked_run);
    return LT_TEST_EXIT();
}
