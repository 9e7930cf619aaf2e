#include "lt_agent.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "lt_acks.h"
#include "lt_agent_metrics.h"
#include "lt_batcher.h"
#include "lt_control.h"
#include "lt_codec.h"
#include "lt_envelope.h"
#include "lt_event.h"
#include "lt_fault.h"
#include "lt_kafka.h"
#include "lt_kafka_stats.h"
#include "lt_log.h"
#include "lt_outbox.h"
#include "lt_pg.h"
#include "lt_sign.h"
#include "lt_systemd.h"
#include "lt_topic.h"
#include "lt_units.h"
#include "lt_util.h"
#include "lt_validate.h"

#define OPT(sec, name, type, def, field, min, max, doc)                                 \
    {sec, name, type, def, offsetof(lt_agent_conf_t, field), min, max, doc}

const lt_conf_opt_t lt_agent_conf_table[] = {
    OPT("agent", "commune", LT_CONF_STR, NULL, commune, 0, 0, "5-digit commune code (required)"),
    OPT("agent", "province", LT_CONF_STR, NULL, province, 0, 0, "2-digit province code (required)"),
    OPT("agent", "code_list_version", LT_CONF_STR, "2025-07-01", code_list_version, 0, 0,
        "administrative code list the codes belong to"),
    OPT("agent", "postgres", LT_CONF_STR, NULL, postgres, 0, 0,
        "libpq conninfo of the commune database (required)"),
    OPT("agent", "agent_id", LT_CONF_STR, NULL, agent_id, 0, 0, "name in batches; host name if unset"),
    OPT("agent", "signing_key", LT_CONF_STR, NULL, signing_key, 0, 0,
        "Ed25519 private key PEM (lienthong-agent keygen); unset = integrity hash only"),
    OPT("agent", "log_level", LT_CONF_STR, "info", log_level, 0, 0, "error, warn, info or debug"),
    OPT("agent", "units_file", LT_CONF_STR, NULL, units_file, 0, 0,
        "administrative unit list (JSON, merges file beside it); the installed copy if unset"),
    OPT("agent", "batch_max_events", LT_CONF_INT, "500", batch_max_events, 1, 100000,
        "events per batch at most"),
    OPT("agent", "batch_max_bytes", LT_CONF_INT, "524288", batch_max_bytes, 1024, 8000000,
        "serialized batch size at most; always below what the events topic's"
        " max.message.bytes allows (read from Kafka at start)"),
    OPT("agent", "linger_ms", LT_CONF_INT, "20", linger_ms, 0, 60000,
        "how long a partial batch waits for more events"),
    OPT("agent", "poll_interval_ms", LT_CONF_INT, "200", poll_interval_ms, 10, 60000,
        "how often an idle agent looks at the outbox; the schema's trigger wakes it at once on"
        " each committed insert"),
    OPT("agent", "max_inflight_batches", LT_CONF_INT, "32", max_inflight_batches, 1, 10000,
        "batches produced but not yet acknowledged"),
    OPT("agent", "read_chunk", LT_CONF_INT, "2000", read_chunk, 1, 100000,
        "outbox rows claimed/read per query"),
    OPT("agent", "stats_interval_s", LT_CONF_INT, "30", stats_interval_s, 0, 86400,
        "seconds between progress lines (0 = off)"),
    OPT("agent", "heartbeat_interval_s", LT_CONF_INT, "15", heartbeat_interval_s, 1, 3600,
        "seconds between heartbeats (backlog, refused rows, the agent's clock), sent on a"
        " batch or alone when idle"),
    OPT("agent", "resync_max_events_per_s", LT_CONF_INT, "2000", resync_max_events_per_s, 1,
        1000000, "pace of answers to the province's resync requests (live events go first)"),
    OPT("agent", "digest_every_events", LT_CONF_INT, "10000", digest_every_events, 1, 100000000,
        "attach the commune's digest to a batch after this many events"),
    OPT("agent", "digest_every_s", LT_CONF_INT, "300", digest_every_s, 1, 86400,
        "... or after this many seconds, whichever comes first (the province compares"
        " it with its own right after applying the batch)"),
    OPT("agent", "purge_sent_after_s", LT_CONF_INT, "2592000", purge_sent_after_s, 0,
        315360000,
        "purge sent outbox rows this many seconds old once the province confirmed a digest"
        " covering them (each entity's current state is kept); 0 = keep every row"),
    OPT("agent", "http_listen", LT_CONF_STR, NULL, http_listen, 0, 0,
        "HOST:PORT serving /metrics, /healthz and /readyz (e.g. 127.0.0.1:9464); unset = no"
        " HTTP port"),
    {NULL, NULL, 0, NULL, 0, 0, 0, NULL},
};

typedef struct lt_agent {
    const lt_agent_conf_t *ac;
    const lt_conf_t *conf;
    rd_kafka_t *rk;
    PGconn *pg;
    PGconn *mark_pg;          /* marks delivered runs sent while pg claims */
    lt_ack_run_t mark_run;    /* the run being marked, if marking */
    int marking;
    int told_no_trigger;      /* logged once: the outbox cannot wake the agent */
    lt_signer_t *signer;
    lt_units_t *units;
    lt_validate_ctx_t vctx;  /* the rules a row must pass to be numbered */
    char topic[128];
    char agent_id[64];
    lt_outbox_state_t st;
    uint64_t cursor;          /* next sequence to read for sending */
    uint8_t prev_hash[LT_SHA256_LEN];  /* chain head of what was produced */
    uint8_t acked_hash[LT_SHA256_LEN]; /* chain head of what Kafka acknowledged */
    int has_prev, has_acked;           /* false until the commune's first batch */
    lt_batcher_t batcher;     /* events read, not yet produced */
    lt_acks_t *acks;          /* produced batches, in produce order */
    int refused;              /* Kafka refused a batch: produce nothing until the rewind */
    size_t topic_max_bytes;   /* the events topic's max.message.bytes */
    size_t producer_max_bytes; /* the producer's message.max.bytes */
    uint64_t size_refused_seq; /* first seq of the last batch refused as too large */
    uint64_t events_since_digest;
    int backlog_since_digest;  /* a backlog was sent since the last digest */
    int64_t digest_due_ms;     /* when the next digest is due anyway */
    lt_control_t *control;     /* the province's requests */
    int64_t control_due_ms;    /* next look at the control topic */
    lt_resync_work_t work;     /* the resync piece being sent, if has_work */
    int has_work;
    char after_type[32], after_id[160]; /* where the bucket being sent resumes */
    int64_t resync_due_ms;     /* pace of resync parts */
    int64_t heartbeat_due_ms;  /* the next heartbeat */
    int64_t purge_due_ms;      /* the next retention pass */
    int size_refusals;         /* how often in a row */
    lt_agent_stats_t stats;
    lt_agent_metrics_t *metrics;
} lt_agent_t;

static void lt_agent_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    (void)rk;
    lt_agent_t *agent = opaque;
    lt_agent_metrics_delivered(agent->metrics, msg);
    if (!msg->_private) {
        /* A resync part or a digest alone: outside the sequence. A lost one
         * is asked for again by the province. */
        if (msg->err)
            lt_warn("Kafka refused a resync part or digest", "topic=%s error=\"%s\"",
                    agent->topic, rd_kafka_err2str(msg->err));
        return;
    }
    lt_acks_delivered(agent->acks, msg->_private, msg->err);
    if (!msg->err)
        return;
    agent->stats.delivery_errors++;
    if (agent->refused++)
        return; /* the first refusal says it; the rest follow from it */
    lt_warn("Kafka refused a batch: nothing after it counts as sent",
            "topic=%s bytes=%zu error=\"%s\"%s", agent->topic, msg->len,
            rd_kafka_err2str(msg->err),
            msg->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART
                ? " hint=\"the topic does not exist: the province registers the commune"
                  " with lienthong-sink provision\""
                : "");
}

/* librdkafka's statistics, every statistics.interval.ms, on the agent's thread. */
static int lt_agent_stats_cb(rd_kafka_t *rk, char *json, size_t json_len, void *opaque)
{
    (void)rk;
    lt_agent_metrics_kafka_stats(((lt_agent_t *)opaque)->metrics, json, json_len);
    return 0; /* librdkafka frees json */
}

rd_kafka_conf_t *lt_agent_kafka_conf(const lt_conf_t *conf, char *errstr, size_t errstr_size)
{
    rd_kafka_conf_t *kc = lt_kafka_conf_new(&conf->kafka, errstr, errstr_size);
    if (!kc)
        return NULL;
    /* The guarantees, set after the user's pairs so a config file cannot weaken them. */
    static const char *const must[][2] = {
        {"enable.idempotence", "true"}, {"acks", "all"}, {"max.in.flight", "5"}};
    for (size_t i = 0; i < sizeof(must) / sizeof(*must); i++)
        if (lt_kafka_conf_set(kc, must[i][0], must[i][1], errstr, errstr_size))
            goto fail;
    /* Defaults the user may override. message.timeout.ms=0: never give up on
     * a batch; while Kafka is away the outbox simply grows. */
    static const char *const defaults[][2] = {{"compression.codec", "zstd"},
                                              {"linger.ms", "5"},
                                              {"message.timeout.ms", "0"},
                                              {"message.max.bytes", "10000000"}};
    for (size_t i = 0; i < sizeof(defaults) / sizeof(*defaults); i++)
        if (!lt_conf_kafka_get(conf, defaults[i][0]) &&
            lt_kafka_conf_set(kc, defaults[i][0], defaults[i][1], errstr, errstr_size))
            goto fail;
    return kc;
fail:
    rd_kafka_conf_destroy(kc);
    return NULL;
}

/* The most event bytes one batch may hold: the topic's limit (as far as the
 * producer allows), less the envelope and framing. */
static size_t lt_agent_batch_budget(const lt_agent_t *agent)
{
    size_t limit = agent->topic_max_bytes < agent->producer_max_bytes ? agent->topic_max_bytes
                                                                      : agent->producer_max_bytes;
    /* Room for a digest (256 buckets, ~13 KB on the wire) on any batch. */
    return lt_batch_budget(limit) - 16384;
}

static int lt_agent_kafka_new(lt_agent_t *agent, char *errstr, size_t errstr_size)
{
    rd_kafka_conf_t *kc = lt_agent_kafka_conf(agent->conf, errstr, errstr_size);
    if (!kc)
        return -1;
    char value[32];
    size_t value_size = sizeof(value);
    if (rd_kafka_conf_get(kc, "message.max.bytes", value, &value_size) == RD_KAFKA_CONF_OK)
        agent->producer_max_bytes = strtoul(value, NULL, 10);
    /* librdkafka packs several of our messages into one record batch of up
     * to batch.size bytes; the broker's limit applies to that record batch. */
    size_t budget = lt_agent_batch_budget(agent);
    snprintf(value, sizeof(value), "%zu", budget < 1000000 ? budget : 1000000);
    if (!lt_conf_kafka_get(agent->conf, "batch.size") &&
        lt_kafka_conf_set(kc, "batch.size", value, errstr, errstr_size)) {
        rd_kafka_conf_destroy(kc);
        return -1;
    }
    rd_kafka_conf_set_dr_msg_cb(kc, lt_agent_dr_cb);
    rd_kafka_conf_set_stats_cb(kc, lt_agent_stats_cb);
    if (lt_kafka_stats_enable(kc, agent->conf, errstr, errstr_size) != 0) {
        rd_kafka_conf_destroy(kc);
        return -1;
    }
    rd_kafka_conf_set_opaque(kc, agent);
    char rkerr[512];
    agent->rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, rkerr, sizeof(rkerr));
    if (!agent->rk) {
        rd_kafka_conf_destroy(kc);
        return lt_err(errstr, errstr_size, "cannot create Kafka producer: %s", rkerr);
    }
    return 0; /* kc now belongs to rk */
}

/* Ask Kafka for the events topic's max.message.bytes. Returns 1 when it
 * differs from what the agent used so far, 0 when unchanged or unknown. */
static int lt_agent_learn_topic_limit(lt_agent_t *agent)
{
    char value[32], errstr[512];
    if (lt_kafka_topic_config_get(agent->rk, agent->topic, "max.message.bytes", value,
                                  sizeof(value), 5000, errstr, sizeof(errstr)) != 0) {
        lt_warn("cannot read the topic's message size limit; assuming the default",
                "topic=%s max_message_bytes=%zu error=\"%s\"", agent->topic,
                agent->topic_max_bytes, errstr);
        return 0;
    }
    size_t limit = strtoul(value, NULL, 10);
    if (limit < 4096 || limit == agent->topic_max_bytes)
        return 0;
    lt_info("topic message size limit", "topic=%s max_message_bytes=%zu batch_budget=%zu",
            agent->topic, limit, lt_batch_budget(limit));
    agent->topic_max_bytes = limit;
    return 1;
}

/* Batches are cut below the topic's limit; a producer made for another
 * limit is replaced (only while nothing is in flight). */
static int lt_agent_apply_topic_limit(lt_agent_t *agent, char *errstr, size_t errstr_size)
{
    size_t budget = lt_agent_batch_budget(agent);
    agent->batcher.max_bytes =
        (size_t)agent->ac->batch_max_bytes < budget ? (size_t)agent->ac->batch_max_bytes : budget;
    rd_kafka_destroy(agent->rk);
    agent->rk = NULL;
    return lt_agent_kafka_new(agent, errstr, errstr_size);
}

/* Connect to PostgreSQL, waiting while it is away. NULL when it refuses the
 * agent (wrong password, no such database: waiting cannot help) or on a stop. */
static PGconn *lt_agent_pg_connect(const lt_agent_conf_t *ac, char *errstr, size_t errstr_size)
{
    int backoff = 200, waiting = 0;
    while (!lt_stop_requested) {
        lt_pg_rc_t rc;
        PGconn *pg = lt_pg_open(ac->postgres, "lienthong-agent", &rc, errstr, errstr_size);
        if (pg || rc != LT_PG_RETRY)
            return pg;
        if (!waiting++)
            lt_warn("commune database unavailable, waiting for it", "commune=%s error=\"%s\"",
                    ac->commune, errstr);
        lt_pg_pause(ac->postgres, &backoff);
    }
    lt_err(errstr, errstr_size, "stopped before the commune database answered");
    return NULL;
}

/* New outbox rows wake the agent (lt_outbox_listen) on this connection; a
 * reconnected one listens again. Without that, polling finds them. */
static void lt_agent_listen(lt_agent_t *agent)
{
    char errstr[512];
    int has_trigger = 0;
    if (lt_outbox_listen(agent->pg, &has_trigger, errstr, sizeof(errstr)) != LT_PG_OK)
        lt_warn("cannot listen for new outbox rows; polling for them", "commune=%s error=\"%s\"",
                agent->ac->commune, errstr);
    else if (!has_trigger && !agent->told_no_trigger++)
        lt_info("the outbox has no notify trigger (lienthong-agent init adds it): new rows are"
                " found by polling",
                "commune=%s poll_interval_ms=%ld", agent->ac->commune,
                agent->ac->poll_interval_ms);
}

/* PostgreSQL trouble: wait for the server and reconnect when that can help.
 * Returns -1 when the error is permanent (logged). */
static int lt_agent_pg_trouble(lt_agent_t *agent, lt_pg_rc_t rc, const char *what,
                               const char *errstr, int *backoff)
{
    if (rc != LT_PG_RETRY) {
        lt_error("commune database refused a statement", "commune=%s during=%s error=\"%s\"",
                 agent->ac->commune, what, errstr);
        return -1;
    }
    if (*backoff == 200)
        lt_warn("commune database unavailable, waiting for it", "commune=%s during=%s error=\"%s\"",
                agent->ac->commune, what, errstr);
    lt_agent_metrics_database(agent->metrics, 0);
    lt_pg_pause(agent->ac->postgres, backoff);
    lt_systemd_watchdog(); /* waiting out an outage is the loop turning */
    char reconnect[512];
    int lost = PQstatus(agent->pg) != CONNECTION_OK;
    rc = lt_pg_ensure(agent->pg, reconnect, sizeof(reconnect));
    /* The marking connection went through the same outage: renewed with the
     * other one (when idle), not found broken at its next statement. */
    if (rc == LT_PG_OK && agent->mark_pg && lost && !agent->marking)
        PQreset(agent->mark_pg);
    if (rc == LT_PG_OK && agent->mark_pg)
        rc = lt_pg_ensure(agent->mark_pg, reconnect, sizeof(reconnect));
    if (rc == LT_PG_FATAL) {
        lt_error("commune database refuses the agent", "commune=%s error=\"%s\"",
                 agent->ac->commune, reconnect);
        return -1;
    }
    if (rc == LT_PG_OK) {
        lt_info("commune database back", "commune=%s", agent->ac->commune);
        lt_agent_listen(agent);
    }
    return 0;
}

/* Claim new rows when everything numbered has been read, then read more. */
static lt_pg_rc_t lt_agent_fill(lt_agent_t *agent, char *errstr, size_t errstr_size)
{
    const lt_agent_conf_t *ac = agent->ac;
    if (lt_batcher_waiting(&agent->batcher) >= (size_t)ac->batch_max_events)
        return LT_PG_OK;
    if (agent->cursor >= agent->st.next_seq) {
        int claimed, rejected;
        uint64_t first_seq = agent->st.next_seq;
        Lienthong__V1__Event **fresh;
        lt_claim_rules_t rules = {&agent->vctx, lt_agent_batch_budget(agent)};
        lt_pg_rc_t rc = lt_outbox_claim(agent->pg, ac->commune, &rules, &agent->st,
                                        (int)ac->read_chunk, &claimed, &rejected, &fresh,
                                        errstr, errstr_size);
        if (rc != LT_PG_OK)
            return rc;
        if (claimed >= ac->batch_max_events)
            agent->backlog_since_digest = 1; /* more than one batch waited */
        /* The rows just numbered are the next to send: no second read. */
        if (agent->cursor == first_seq && claimed > 0) {
            agent->cursor += (uint64_t)claimed;
            lt_batcher_append(&agent->batcher, fresh, (size_t)claimed, lt_monotonic_ms());
        } else {
            lt_outbox_events_free(fresh, (size_t)claimed);
        }
        agent->stats.rows_claimed += (uint64_t)claimed;
        agent->stats.rows_rejected += (uint64_t)rejected;
        if (rejected)
            lt_warn("outbox rows refused, see their reasons with lienthong-agent status",
                    "commune=%s rejected=%d", ac->commune, rejected);
        if (claimed)
            lt_debug("outbox rows numbered", "commune=%s claimed=%d next_seq=%" PRIu64,
                     ac->commune, claimed, agent->st.next_seq);
    }
    if (agent->cursor >= agent->st.next_seq)
        return LT_PG_OK;
    Lienthong__V1__Event **events;
    size_t n;
    lt_pg_rc_t rc = lt_outbox_read(agent->pg, agent->cursor, (int)ac->read_chunk, &events, &n,
                                   errstr, errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    agent->cursor += n;
    lt_batcher_append(&agent->batcher, events, n, lt_monotonic_ms());
    return LT_PG_OK;
}

static int lt_agent_produce(lt_agent_t *agent, uint8_t *value, size_t len, lt_ack_t *ack,
                            uint64_t first_seq, uint64_t last_seq)
{
    char ce_id[64], ce_source[64];
    snprintf(ce_id, sizeof(ce_id), "%s-%" PRIu64 "-%" PRIu64, agent->ac->commune, first_seq,
             last_seq);
    snprintf(ce_source, sizeof(ce_source), "lienthong/%s/%s", agent->ac->province,
             agent->ac->commune);
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            agent->rk, RD_KAFKA_V_TOPIC(agent->topic),
            RD_KAFKA_V_KEY(agent->ac->commune, strlen(agent->ac->commune)),
            RD_KAFKA_V_VALUE(value, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
            RD_KAFKA_V_OPAQUE(ack), RD_KAFKA_V_HEADER("ce_specversion", "1.0", -1),
            RD_KAFKA_V_HEADER("ce_type", "vn.lienthong.batch.v1", -1),
            RD_KAFKA_V_HEADER("ce_source", ce_source, -1), RD_KAFKA_V_HEADER("ce_id", ce_id, -1),
            RD_KAFKA_V_HEADER("content-type", "application/x-protobuf", -1), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
            return 0;
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            lt_error("cannot produce batch", "topic=%s first_seq=%" PRIu64 " last_seq=%" PRIu64
                     " bytes=%zu error=\"%s\"", agent->topic, first_seq, last_seq, len,
                     rd_kafka_err2str(err));
            free(value);
            return -1;
        }
        rd_kafka_poll(agent->rk, 100); /* queue full: let deliveries drain it */
    }
}

/* The digest goes on a batch that ends at the last claimed sequence (the
 * digest table then describes exactly seq 1..last_seq), once enough events
 * or time passed since the last one. A digest that cannot be read now is
 * simply sent with a later batch. */
static Lienthong__V1__Digest *lt_agent_digest_due(lt_agent_t *agent,
                                                  const Lienthong__V1__Batch *batch)
{
    char errstr[512];
    int due = agent->events_since_digest >= (uint64_t)agent->ac->digest_every_events ||
              lt_monotonic_ms() >= agent->digest_due_ms;
    if (!due || batch->last_seq + 1 != agent->st.next_seq)
        return NULL;
    lt_digest_t d;
    if (lt_outbox_digest_read(agent->pg, &d, errstr, sizeof(errstr)) != LT_PG_OK) {
        lt_debug("digest not read, sent later", "error=\"%s\"", errstr);
        return NULL;
    }
    return lt_digest_to_pb(&d);
}

static void lt_agent_digest_sent(lt_agent_t *agent, const Lienthong__V1__Batch *batch)
{
    agent->events_since_digest = 0;
    agent->backlog_since_digest = 0;
    agent->digest_due_ms = lt_monotonic_ms() + agent->ac->digest_every_s * 1000;
    agent->stats.digests_sent++;
    lt_debug("digest attached", "commune=%s seq=%" PRIu64, agent->ac->commune, batch->last_seq);
}

/* A heartbeat when one is due: the outbox's backlog as the commune's
 * database says it (one query). NULL when not due or not readable now. */
static Lienthong__V1__Heartbeat *lt_agent_heartbeat_due(lt_agent_t *agent)
{
    char errstr[512];
    if (lt_monotonic_ms() < agent->heartbeat_due_ms)
        return NULL;
    lt_outbox_status_t st;
    if (lt_outbox_status(agent->pg, agent->ac->commune, &st, errstr, sizeof(errstr)) != LT_PG_OK) {
        lt_debug("heartbeat not made, sent later", "error=\"%s\"", errstr);
        return NULL;
    }
    Lienthong__V1__Heartbeat *hb = calloc(1, sizeof(*hb));
    if (!hb)
        abort();
    lienthong__v1__heartbeat__init(hb);
    hb->at_us = lt_now_us();
    hb->outbox_pending = st.numbered_unsent + st.unnumbered;
    hb->oldest_unsent_at_us =
        st.oldest_unsent_age_s >= 0 ? hb->at_us - (int64_t)(st.oldest_unsent_age_s * 1e6) : 0;
    hb->rows_refused = st.refused;
    hb->agent_version = (char *)LT_VERSION;
    hb->acked_seq = st.acked_seq;
    hb->next_seq = st.next_seq;
    return hb;
}

static void lt_agent_heartbeat_sent(lt_agent_t *agent, Lienthong__V1__Heartbeat *hb)
{
    if (!hb)
        return;
    agent->heartbeat_due_ms = lt_monotonic_ms() + agent->ac->heartbeat_interval_s * 1000;
    agent->stats.heartbeats_sent++;
    free(hb);
}

/* Build, sign and produce one batch from the front of the buffer. */
static int lt_agent_send_batch(lt_agent_t *agent)
{
    size_t bytes;
    size_t n = lt_batcher_next(&agent->batcher, &bytes);
    Lienthong__V1__Event **events = lt_batcher_front(&agent->batcher);
    Lienthong__V1__Batch batch = LIENTHONG__V1__BATCH__INIT;
    batch.commune_code = agent->ac->commune;
    batch.code_list_version = agent->ac->code_list_version;
    batch.agent_id = agent->agent_id;
    batch.first_seq = events[0]->seq;
    batch.last_seq = events[n - 1]->seq;
    batch.prev_batch_hash.data = agent->prev_hash;
    batch.prev_batch_hash.len = agent->has_prev ? LT_SHA256_LEN : 0;
    batch.created_at_us = lt_now_us();
    batch.n_events = n;
    batch.events = events;
    agent->events_since_digest += n;
    batch.digest = lt_agent_digest_due(agent, &batch);
    batch.heartbeat = lt_agent_heartbeat_due(agent);
    size_t len;
    uint8_t hash[LT_SHA256_LEN];
    uint8_t *value = lt_envelope_seal(&batch, agent->signer, &len, hash);
    if (batch.digest)
        lt_agent_digest_sent(agent, &batch);
    lt_digest_pb_free(batch.digest);
    lt_agent_heartbeat_sent(agent, batch.heartbeat);
    if (!value) {
        lt_error("cannot sign batch", "commune=%s", agent->ac->commune);
        return -1;
    }
    lt_ack_t *ack = lt_acks_produced(agent->acks, batch.first_seq, batch.last_seq, len, hash);
    if (lt_agent_produce(agent, value, len, ack, batch.first_seq, batch.last_seq) != 0) {
        lt_acks_unproduce(agent->acks, ack);
        return -1;
    }
    memcpy(agent->prev_hash, hash, LT_SHA256_LEN);
    agent->has_prev = 1;
    lt_batcher_consume(&agent->batcher, n, lt_monotonic_ms());
    agent->stats.batches_produced++;
    lt_agent_metrics_produced(agent->metrics, n, len);
    lt_fault_point("agent.after_produce");
    lt_debug("batch produced", "topic=%s first_seq=%" PRIu64 " last_seq=%" PRIu64 " bytes=%zu",
             agent->topic, batch.first_seq, batch.last_seq, len);
    return 0;
}

/* The run is recorded in the database: the acknowledged chain moves on. */
static void lt_agent_run_marked(lt_agent_t *agent, const lt_ack_run_t *run)
{
    lt_acks_marked(agent->acks, run);
    memcpy(agent->acked_hash, run->last_hash, LT_SHA256_LEN);
    agent->has_acked = 1;
    agent->st.acked_seq = run->last_seq;
    agent->stats.batches_acked += run->batches;
    agent->stats.events_acked += run->last_seq - run->first_seq + 1;
}

/* Record delivered batches in PostgreSQL, one statement per contiguous run
 * that continues acked_seq: a refused batch stops the run (lt_acks.h). The
 * statement runs on a connection of its own while the loop claims and sends
 * on the other (it rewrites every row of the run: a third of a backlog's
 * database time); wait = 1 waits until every run ready is marked. A run
 * that fails stays, and is marked again next time. */
static lt_pg_rc_t lt_agent_mark_acked(lt_agent_t *agent, int wait, char *errstr,
                                      size_t errstr_size)
{
    for (;;) {
        if (agent->marking) {
            int done;
            lt_pg_rc_t rc = lt_outbox_mark_sent_end(agent->mark_pg, wait, &done, errstr,
                                                    errstr_size);
            if (!done)
                return LT_PG_OK;
            agent->marking = 0;
            if (rc != LT_PG_OK)
                return rc;
            lt_agent_run_marked(agent, &agent->mark_run);
        }
        if (!lt_acks_ready(agent->acks, &agent->mark_run))
            return LT_PG_OK;
        lt_pg_rc_t rc = lt_outbox_mark_sent_begin(
            agent->mark_pg, agent->ac->commune, agent->mark_run.first_seq,
            agent->mark_run.last_seq, agent->mark_run.last_hash, errstr, errstr_size);
        if (rc != LT_PG_OK)
            return rc;
        agent->marking = 1;
        if (!wait)
            return LT_PG_OK;
    }
}

/* Resend from the first unacknowledged sequence (acked_seq + 1): everything
 * produced after it is forgotten; the sink skips what arrives twice. */
static void lt_agent_rewind(lt_agent_t *agent)
{
    lt_info("resending unacknowledged events", "commune=%s from_seq=%" PRIu64,
            agent->ac->commune, agent->st.acked_seq + 1);
    lt_acks_reset(agent->acks);
    lt_batcher_clear(&agent->batcher);
    agent->cursor = agent->st.acked_seq + 1;
    memcpy(agent->prev_hash, agent->acked_hash, LT_SHA256_LEN);
    agent->has_prev = agent->has_acked;
    agent->refused = 0;
    agent->stats.rewinds++;
}

/* Refusals that heal by themselves: the topic appears once the province
 * provisions it, a partition gets its leader and replicas back. */
static int lt_agent_refusal_heals(rd_kafka_resp_err_t err)
{
    switch (err) {
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR__MSG_TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT:
    case RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE:
    case RD_KAFKA_RESP_ERR__TRANSPORT:
    case RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN:
    case RD_KAFKA_RESP_ERR__PURGE_QUEUE:
    case RD_KAFKA_RESP_ERR__PURGE_INFLIGHT:
    case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE:
    case RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS:
    case RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
    case RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION:
    case RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR:
        return 1;
    default:
        return 0;
    }
}

static int lt_agent_refusal_is_size(rd_kafka_resp_err_t err)
{
    return err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE ||
           err == RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE;
}

/* A message too large for the topic: cut smaller batches, unless it held a
 * single event, which no batch can carry. Returns 0 to resend, -1 to stop. */
static int lt_agent_refused_size(lt_agent_t *agent, const lt_ack_failure_t *f)
{
    char errstr[512];
    lt_agent_learn_topic_limit(agent);
    /* librdkafka may have packed it with others into one record batch; on
     * its own it may fit. Refused alone twice, it does not. */
    agent->size_refusals = agent->size_refused_seq == f->first_seq ? agent->size_refusals + 1 : 1;
    agent->size_refused_seq = f->first_seq;
    int alone_fits = f->bytes + 4096 <= agent->topic_max_bytes && agent->size_refusals < 2;
    if (f->first_seq == f->last_seq && !alone_fits) {
        lt_error("an event is too large for the commune's topic: sending stops at its sequence",
                 "commune=%s topic=%s seq=%" PRIu64 " message_bytes=%zu"
                 " topic_max_message_bytes=%zu hint=\"the province raises the topic's limit"
                 " (lienthong-sink provision sets it to sink.max_message_bytes); the events from"
                 " this sequence on stay in the outbox and are sent when the agent starts again\"",
                 agent->ac->commune, agent->topic, f->first_seq, f->bytes,
                 agent->topic_max_bytes);
        return -1;
    }
    /* Whatever the topic says, the next try cuts this batch at least in two. */
    if (lt_agent_apply_topic_limit(agent, errstr, sizeof(errstr)) != 0) {
        lt_error("cannot recreate the Kafka producer", "error=\"%s\"", errstr);
        return -1;
    }
    if (f->first_seq != f->last_seq && agent->batcher.max_bytes > f->bytes / 2)
        agent->batcher.max_bytes = f->bytes / 2;
    lt_warn("batch too large for the topic: resending in smaller batches",
            "topic=%s first_seq=%" PRIu64 " last_seq=%" PRIu64 " message_bytes=%zu"
            " batch_max_bytes=%zu",
            agent->topic, f->first_seq, f->last_seq, f->bytes, agent->batcher.max_bytes);
    return 0;
}

/* Kafka refused the batch at the head; nothing is in flight any more.
 * Returns 0 after a rewind, -1 when the refusal cannot heal. */
static int lt_agent_recover(lt_agent_t *agent, const lt_ack_failure_t *f)
{
    rd_kafka_resp_err_t err = (rd_kafka_resp_err_t)f->err;
    if (lt_agent_refusal_is_size(err)) {
        if (lt_agent_refused_size(agent, f) != 0)
            return -1;
    } else if (err && !lt_agent_refusal_heals(err)) {
        lt_error("Kafka refused a batch for good: sending stops at its sequence",
                 "commune=%s topic=%s first_seq=%" PRIu64 " last_seq=%" PRIu64
                 " error=\"%s\" hint=\"events from this sequence on stay in the outbox;"
                 " fix the cause, then start the agent again\"",
                 agent->ac->commune, agent->topic, f->first_seq, f->last_seq,
                 rd_kafka_err2str(err));
        return -1;
    } else if (err) {
        lt_sleep_ms(1000); /* heals, but not this instant */
    }
    lt_agent_rewind(agent);
    return 0;
}

static void lt_agent_log_stats(const lt_agent_t *agent)
{
    const lt_agent_stats_t *s = &agent->stats;
    lt_info("progress",
            "commune=%s claimed=%" PRIu64 " rejected=%" PRIu64 " batches=%" PRIu64
            " acked_batches=%" PRIu64 " acked_events=%" PRIu64 " acked_seq=%" PRIu64
            " next_seq=%" PRIu64 " inflight=%zu delivery_errors=%" PRIu64,
            agent->ac->commune, s->rows_claimed, s->rows_rejected, s->batches_produced,
            s->batches_acked, s->events_acked, agent->st.acked_seq, agent->st.next_seq,
            lt_acks_inflight(agent->acks), s->delivery_errors);
}

/* ---------------------------------------------------------------- resync */

/* Seal and produce a batch outside the sequence: a resync part or a digest
 * alone. It takes no sequence (first_seq = last_seq + 1, last_seq the last
 * claimed), is not tracked by lt_acks, and a lost one is asked for again. */
static int lt_agent_send_unsequenced(lt_agent_t *agent, Lienthong__V1__Batch *batch)
{
    batch->commune_code = agent->ac->commune;
    batch->code_list_version = agent->ac->code_list_version;
    batch->agent_id = agent->agent_id;
    batch->last_seq = agent->st.next_seq - 1;
    batch->first_seq = agent->st.next_seq;
    batch->created_at_us = lt_now_us();
    size_t len;
    uint8_t hash[LT_SHA256_LEN];
    uint8_t *value = lt_envelope_seal(batch, agent->signer, &len, hash);
    if (!value) {
        lt_error("cannot sign batch", "commune=%s", agent->ac->commune);
        return -1;
    }
    return lt_agent_produce(agent, value, len, NULL, batch->first_seq, batch->last_seq);
}

/* How many of events[0..n) fit in one message with room bytes to spare. */
static size_t lt_agent_events_fitting(const lt_agent_t *agent, Lienthong__V1__Event **events,
                                      size_t n, size_t room)
{
    size_t budget = lt_agent_batch_budget(agent), total = room, take = 0;
    while (take < n && (take == 0 || total + lt_batch_event_bytes(events[take]) <= budget))
        total += lt_batch_event_bytes(events[take++]);
    return take;
}

/* The manifest of a bucket: every entity the commune holds there. NULL
 * entries array when the bucket is empty. */
typedef struct lt_agent_manifest {
    PGresult *res;
    Lienthong__V1__ManifestEntry *cells, **entries;
    size_t n, bytes;
} lt_agent_manifest_t;

static lt_pg_rc_t lt_agent_manifest_read(lt_agent_t *agent, int bucket, lt_agent_manifest_t *m,
                                         char *errstr, size_t errstr_size)
{
    memset(m, 0, sizeof(*m));
    lt_pg_rc_t rc = lt_outbox_resync_manifest(agent->pg, bucket, &m->res, errstr, errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    m->n = (size_t)PQntuples(m->res);
    m->cells = calloc(m->n + 1, sizeof(*m->cells));
    m->entries = calloc(m->n + 1, sizeof(*m->entries));
    if (!m->cells || !m->entries)
        abort();
    for (size_t i = 0; i < m->n; i++) {
        Lienthong__V1__ManifestEntry *e = &m->cells[i];
        lienthong__v1__manifest_entry__init(e);
        e->entity_type = lt_entity_type_parse(PQgetvalue(m->res, (int)i, 0));
        e->entity_id = PQgetvalue(m->res, (int)i, 1);
        e->version = strtoull(PQgetvalue(m->res, (int)i, 2), NULL, 10);
        m->entries[i] = e;
        m->bytes += strlen(e->entity_id) + 24;
    }
    return LT_PG_OK;
}

static void lt_agent_manifest_free(lt_agent_manifest_t *m)
{
    free(m->cells);
    free(m->entries);
    PQclear(m->res);
}

/* Produce one part of the current request; pace the next by its size. */
static int lt_agent_resync_send(lt_agent_t *agent, Lienthong__V1__Event **events, size_t n,
                                Lienthong__V1__ResyncPart *part)
{
    Lienthong__V1__Batch batch = LIENTHONG__V1__BATCH__INIT;
    batch.events = events;
    batch.n_events = n;
    batch.resync = part;
    if (lt_agent_send_unsequenced(agent, &batch) != 0)
        return -1;
    agent->stats.resync_parts++;
    agent->stats.resync_events += n;
    agent->resync_due_ms =
        lt_monotonic_ms() + (int64_t)(n * 1000 / (size_t)agent->ac->resync_max_events_per_s);
    lt_debug("resync part produced", "commune=%s request_id=%s events=%zu buckets=%zu done=%d",
             agent->ac->commune, part->request_id, n, part->n_buckets, part->done);
    return 0;
}

/* The request's piece is sent: record it, then look for the next piece. */
/* A piece recorded: look for the next one; a request answered in full is
 * said, and the province checks the result with a digest at once. */
static void lt_agent_resync_piece_sent(lt_agent_t *agent, int done)
{
    agent->has_work = 0;
    if (done) {
        lt_info("resync request answered", "commune=%s request_id=%s", agent->ac->commune,
                agent->work.request_id);
        agent->digest_due_ms = 0;
    }
}

static lt_pg_rc_t lt_agent_resync_advance(lt_agent_t *agent, uint64_t next_first_seq,
                                          int done, char *errstr, size_t errstr_size)
{
    lt_pg_rc_t rc = lt_outbox_resync_advance(agent->pg, &agent->work, next_first_seq, errstr,
                                             errstr_size);
    if (rc == LT_PG_OK)
        lt_agent_resync_piece_sent(agent, done);
    return rc;
}

/* Send the next states of the bucket; with the last of them, the manifest. */
static lt_pg_rc_t lt_agent_resync_bucket(lt_agent_t *agent, char *errstr, size_t errstr_size)
{
    lt_resync_work_t *w = &agent->work;
    Lienthong__V1__Event **events;
    size_t n, page = 500;
    lt_pg_rc_t rc = lt_outbox_resync_states(agent->pg, w->bucket, agent->after_type,
                                            agent->after_id, (int)page, &events, &n, errstr,
                                            errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    size_t take = lt_agent_events_fitting(agent, events, n, 0);
    lt_agent_manifest_t m = {0};
    int last = n < page && take == n;
    if (last && (rc = lt_agent_manifest_read(agent, w->bucket, &m, errstr, errstr_size)) != LT_PG_OK)
        goto done;
    if (last && take && lt_agent_events_fitting(agent, events, n, m.bytes) < take)
        last = 0; /* no room for the manifest: it goes alone next */
    Lienthong__V1__ResyncPart part = LIENTHONG__V1__RESYNC_PART__INIT;
    uint32_t bucket = (uint32_t)w->bucket;
    part.request_id = w->request_id;
    if (last) {
        part.n_buckets = 1;
        part.buckets = &bucket;
        part.n_manifest = m.n;
        part.manifest = m.entries;
        part.done = w->buckets_left == 1 && w->first_seq == 0;
    }
    if (lt_agent_resync_send(agent, events, take, &part) != 0) {
        rc = LT_PG_FATAL;
        lt_err(errstr, errstr_size, "cannot produce a resync part");
        goto done;
    }
    if (last) {
        rc = lt_agent_resync_advance(agent, w->first_seq, part.done, errstr, errstr_size);
    } else if (take) {
        lt_strlcpy(agent->after_type, lt_entity_type_name(events[take - 1]->entity_type),
                   sizeof(agent->after_type));
        lt_strlcpy(agent->after_id, events[take - 1]->entity_id, sizeof(agent->after_id));
    }
done:
    lt_agent_manifest_free(&m);
    lt_outbox_events_free(events, n);
    return rc;
}

/* The entities a request names, as read: held ones as events (with the
 * row each came from), the others as absent entries. */
typedef struct lt_agent_named {
    PGresult *res;
    Lienthong__V1__Event **events;
    int *event_row;
    Lienthong__V1__ManifestEntry *cells, **absent;
    int *absent_row;
    size_t n_events, n_absent, absent_bytes;
} lt_agent_named_t;

static void lt_agent_named_free(lt_agent_named_t *nm)
{
    lt_outbox_events_free(nm->events, nm->n_events);
    free(nm->event_row);
    free(nm->cells);
    free(nm->absent);
    free(nm->absent_row);
    PQclear(nm->res);
}

static lt_pg_rc_t lt_agent_named_read(lt_agent_t *agent, lt_agent_named_t *nm, char *errstr,
                                      size_t errstr_size)
{
    const lt_resync_work_t *w = &agent->work;
    memset(nm, 0, sizeof(*nm));
    lt_pg_rc_t rc = lt_outbox_resync_entities(agent->pg, w->request_id, w->entities_done, 256,
                                              &nm->res, errstr, errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    size_t rows = (size_t)PQntuples(nm->res);
    nm->events = calloc(rows + 1, sizeof(*nm->events));
    nm->event_row = calloc(rows + 1, sizeof(*nm->event_row));
    nm->cells = calloc(rows + 1, sizeof(*nm->cells));
    nm->absent = calloc(rows + 1, sizeof(*nm->absent));
    nm->absent_row = calloc(rows + 1, sizeof(*nm->absent_row));
    if (!nm->events || !nm->event_row || !nm->cells || !nm->absent || !nm->absent_row)
        abort();
    for (int row = 0; row < (int)rows; row++) {
        if (PQgetisnull(nm->res, row, 3)) {
            Lienthong__V1__ManifestEntry *e = &nm->cells[nm->n_absent];
            lienthong__v1__manifest_entry__init(e);
            e->entity_type = lt_entity_type_parse(PQgetvalue(nm->res, row, 1));
            e->entity_id = PQgetvalue(nm->res, row, 2);
            nm->absent_bytes += strlen(e->entity_id) + 24;
            nm->absent_row[nm->n_absent] = row;
            nm->absent[nm->n_absent++] = e;
            continue;
        }
        Lienthong__V1__Event *ev = lt_outbox_resync_entity_event(nm->res, row, errstr,
                                                                 errstr_size);
        if (!ev)
            return LT_PG_FATAL;
        nm->event_row[nm->n_events] = row;
        nm->events[nm->n_events++] = ev;
    }
    return LT_PG_OK;
}

/* Send the current states of the entities a request names, as many as fit
 * a batch, with the named ones the commune no longer holds among them. */
static lt_pg_rc_t lt_agent_resync_entities(lt_agent_t *agent, char *errstr, size_t errstr_size)
{
    lt_resync_work_t *w = &agent->work;
    lt_agent_named_t nm;
    lt_pg_rc_t rc = lt_agent_named_read(agent, &nm, errstr, errstr_size);
    if (rc != LT_PG_OK) {
        lt_agent_named_free(&nm);
        return rc;
    }
    size_t take = lt_agent_events_fitting(agent, nm.events, nm.n_events, nm.absent_bytes);
    /* Rows up to the first event left out are answered by this part. */
    int rows = take < nm.n_events ? nm.event_row[take] : PQntuples(nm.res);
    size_t absent = 0;
    while (absent < nm.n_absent && nm.absent_row[absent] < rows)
        absent++;
    Lienthong__V1__ResyncPart part = LIENTHONG__V1__RESYNC_PART__INIT;
    part.request_id = w->request_id;
    part.n_absent = absent;
    part.absent = nm.absent;
    part.done = take == nm.n_events; /* a request names at most 256: all were read */
    if (lt_agent_resync_send(agent, nm.events, take, &part) != 0) {
        lt_err(errstr, errstr_size, "cannot produce a resync part");
        rc = LT_PG_FATAL;
    } else {
        rc = lt_outbox_resync_entities_advance(agent->pg, w->request_id, rows, errstr,
                                               errstr_size);
    }
    if (rc == LT_PG_OK)
        lt_agent_resync_piece_sent(agent, part.done);
    lt_agent_named_free(&nm);
    return rc;
}

/* Send the next events of the requested sequence range, as they were sent. */
static lt_pg_rc_t lt_agent_resync_range(lt_agent_t *agent, char *errstr, size_t errstr_size)
{
    lt_resync_work_t *w = &agent->work;
    uint64_t last = w->last_seq < agent->st.next_seq ? w->last_seq : agent->st.next_seq - 1;
    Lienthong__V1__Event **events = NULL;
    size_t n = 0;
    lt_pg_rc_t rc = LT_PG_OK;
    if (w->first_seq <= last)
        rc = lt_outbox_read(agent->pg, w->first_seq,
                            (int)(last - w->first_seq + 1 < 500 ? last - w->first_seq + 1 : 500),
                            &events, &n, errstr, errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    size_t take = lt_agent_events_fitting(agent, events, n, 0);
    uint64_t next = w->first_seq + take;
    Lienthong__V1__ResyncPart part = LIENTHONG__V1__RESYNC_PART__INIT;
    part.request_id = w->request_id;
    part.done = next > last;
    part.history = 1;
    if (lt_agent_resync_send(agent, events, take, &part) != 0) {
        lt_outbox_events_free(events, n);
        lt_err(errstr, errstr_size, "cannot produce a resync part");
        return LT_PG_FATAL;
    }
    lt_outbox_events_free(events, n);
    return lt_agent_resync_advance(agent, part.done ? w->last_seq + 1 : next, part.done, errstr,
                                   errstr_size);
}

/* Answer the province's requests between live batches, at a set pace. */
static lt_pg_rc_t lt_agent_resync_step(lt_agent_t *agent, char *errstr, size_t errstr_size)
{
    int64_t now = lt_monotonic_ms();
    if (agent->control && now >= agent->control_due_ms) {
        int taken;
        lt_pg_rc_t rc = lt_control_poll(agent->control, agent->pg, &taken, errstr, errstr_size);
        if (rc != LT_PG_OK)
            return rc;
        agent->control_due_ms = now + 1000;
    }
    if (agent->refused || lt_batcher_waiting(&agent->batcher) || now < agent->resync_due_ms ||
        (long)lt_acks_inflight(agent->acks) >= agent->ac->max_inflight_batches / 2 + 1)
        return LT_PG_OK;
    if (!agent->has_work) {
        int found;
        lt_pg_rc_t rc = lt_outbox_resync_next(agent->pg, &agent->work, &found, errstr,
                                              errstr_size);
        if (rc != LT_PG_OK || !found)
            return rc;
        agent->has_work = 1;
        agent->after_type[0] = agent->after_id[0] = '\0';
    }
    if (agent->work.entities)
        return lt_agent_resync_entities(agent, errstr, errstr_size);
    return agent->work.bucket >= 0 ? lt_agent_resync_bucket(agent, errstr, errstr_size)
                                   : lt_agent_resync_range(agent, errstr, errstr_size);
}

/* Idle: a heartbeat goes alone when it is due (even with a backlog Kafka
 * cannot take: it says so), and the digest when it is due and everything
 * claimed is acknowledged, so the province can compare with no traffic. */
static lt_pg_rc_t lt_agent_idle_send(lt_agent_t *agent, char *errstr, size_t errstr_size)
{
    if (agent->refused || lt_batcher_waiting(&agent->batcher) ||
        agent->cursor < agent->st.next_seq)
        return LT_PG_OK;
    int settled = !lt_acks_inflight(agent->acks) && agent->st.next_seq > 1 &&
                  agent->st.acked_seq + 1 == agent->st.next_seq;
    Lienthong__V1__Batch batch = LIENTHONG__V1__BATCH__INIT;
    lt_digest_t d;
    /* Caught up after a backlog: say where the commune stands now. Its
     * batches shared rounds at the province, which compares only a digest
     * at the last sequence of a round, so those sent on the way may all
     * have been skipped. */
    int caught_up = agent->backlog_since_digest && agent->events_since_digest > 0;
    if (settled && (caught_up || lt_monotonic_ms() >= agent->digest_due_ms)) {
        lt_pg_rc_t rc = lt_outbox_digest_read(agent->pg, &d, errstr, errstr_size);
        if (rc != LT_PG_OK)
            return rc;
        batch.digest = lt_digest_to_pb(&d);
    }
    batch.heartbeat = lt_agent_heartbeat_due(agent);
    if (!batch.digest && !batch.heartbeat)
        return LT_PG_OK;
    int sent = lt_agent_send_unsequenced(agent, &batch);
    if (sent == 0 && batch.digest)
        lt_agent_digest_sent(agent, &batch);
    lt_digest_pb_free(batch.digest);
    if (sent == 0)
        lt_agent_heartbeat_sent(agent, batch.heartbeat);
    else
        free(batch.heartbeat);
    if (sent != 0) {
        lt_err(errstr, errstr_size, "cannot produce a digest or heartbeat");
        return LT_PG_FATAL;
    }
    return LT_PG_OK;
}

/* Retention, when idle: one bounded chunk of sent rows the province
 * confirmed, then again soon while there are more, else in a while. */
#define LT_AGENT_PURGE_CHUNK 5000
static lt_pg_rc_t lt_agent_purge_step(lt_agent_t *agent, char *errstr, size_t errstr_size)
{
    int64_t now = lt_monotonic_ms();
    if (!agent->ac->purge_sent_after_s || now < agent->purge_due_ms)
        return LT_PG_OK;
    uint64_t purged = 0;
    lt_pg_rc_t rc = lt_outbox_purge(agent->pg, agent->ac->commune, agent->ac->purge_sent_after_s,
                                    LT_AGENT_PURGE_CHUNK, &purged, errstr, errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    if (purged)
        lt_info("sent outbox rows purged (confirmed by the province)", "commune=%s rows=%" PRIu64,
                agent->ac->commune, purged);
    int64_t pause_ms = agent->ac->purge_sent_after_s < 600 ? agent->ac->purge_sent_after_s * 1000
                                                          : 600000;
    agent->purge_due_ms = now + (purged == LT_AGENT_PURGE_CHUNK ? 1000 : pause_ms);
    return LT_PG_OK;
}

/* One pass of the loop. Returns 1 if it did work or waited out database
 * trouble (the pass is tried again at once), 0 if idle, -1 on fatal error. */
static int lt_agent_step(lt_agent_t *agent, int *backoff)
{
    char errstr[1024];
    lt_ack_failure_t failure;
    long max_inflight = agent->ac->max_inflight_batches;
    lt_pg_rc_t rc = lt_agent_mark_acked(agent, 0, errstr, sizeof(errstr));
    if (rc == LT_PG_OK && lt_acks_inflight(agent->acks) == 0 &&
        lt_acks_failed(agent->acks, &failure) && lt_agent_recover(agent, &failure) != 0)
        return -1;
    if (rc == LT_PG_OK && !agent->refused && (long)lt_acks_inflight(agent->acks) < max_inflight)
        rc = lt_agent_fill(agent, errstr, sizeof(errstr));
    if (rc != LT_PG_OK)
        return lt_agent_pg_trouble(agent, rc, "outbox", errstr, backoff) ? -1 : 1;
    *backoff = 200;
    int worked = 0;
    while (!agent->refused && (long)lt_acks_inflight(agent->acks) < max_inflight &&
           lt_batcher_ready(&agent->batcher, lt_monotonic_ms())) {
        if (lt_agent_send_batch(agent) != 0)
            return -1;
        worked = 1;
    }
    if (!worked) {
        rc = lt_agent_resync_step(agent, errstr, sizeof(errstr));
        if (rc == LT_PG_OK)
            rc = lt_agent_idle_send(agent, errstr, sizeof(errstr));
        if (rc == LT_PG_OK)
            rc = lt_agent_purge_step(agent, errstr, sizeof(errstr));
        if (rc != LT_PG_OK)
            return lt_agent_pg_trouble(agent, rc, "resync", errstr, backoff) ? -1 : 1;
    }
    return worked;
}

/* SIGHUP: the log level is read again from the configuration file (a bad
 * file keeps the running configuration); everything else needs a restart. */
static void lt_agent_reload(lt_agent_t *agent)
{
    char errstr[1024];
    lt_reload_requested = 0;
    if (lt_conf_reload_log_level(agent->conf, errstr, sizeof(errstr)) != 0)
        lt_error("SIGHUP: configuration not reloaded, the running one stays", "error=\"%s\"",
                 errstr);
    else
        lt_info("SIGHUP: log level reloaded; other options take effect at the next start",
                "commune=%s file=%s", agent->ac->commune,
                agent->conf->path ? agent->conf->path : "-");
}

/* The marking statement in flight has its answer (or its connection broke). */
static int lt_agent_mark_answered(lt_agent_t *agent)
{
    return agent->marking && (!PQconsumeInput(agent->mark_pg) || !PQisBusy(agent->mark_pg));
}

/* Idle: wait up to ms for a delivery report (served at once), a committed
 * outbox insert or the answer to a marking, whichever comes first. Kafka's
 * queue and the database's sockets are looked at in turn, LT_AGENT_WAKE_MS
 * at a time. */
#define LT_AGENT_WAKE_MS 10
static void lt_agent_wait(lt_agent_t *agent, int ms)
{
    int64_t until = lt_monotonic_ms() + ms;
    for (;;) {
        int64_t left = until - lt_monotonic_ms();
        int slice = left <= 0 ? 0 : left < LT_AGENT_WAKE_MS ? (int)left : LT_AGENT_WAKE_MS;
        if (rd_kafka_poll(agent->rk, slice) > 0 || lt_outbox_notified(agent->pg) ||
            lt_agent_mark_answered(agent) || left <= slice || lt_stop_requested)
            return;
    }
}

static int lt_agent_loop(lt_agent_t *agent)
{
    int backoff = 200, rc = 0;
    int64_t next_stats = lt_monotonic_ms() + agent->ac->stats_interval_s * 1000;
    while (!lt_stop_requested) {
        lt_systemd_watchdog();
        if (lt_reload_requested)
            lt_agent_reload(agent);
        int worked = lt_agent_step(agent, &backoff);
        if (worked < 0) {
            rc = 1;
            break;
        }
        size_t buffered = lt_batcher_waiting(&agent->batcher);
        int wait = worked ? 0 : buffered ? (int)agent->ac->linger_ms / 2 + 1
                                         : (int)agent->ac->poll_interval_ms;
        lt_agent_wait(agent, wait);
        lt_agent_metrics_tick(agent->metrics, &agent->stats, agent->pg, agent->st.acked_seq,
                              agent->st.next_seq, lt_acks_inflight(agent->acks));
        if (agent->ac->stats_interval_s && lt_monotonic_ms() >= next_stats) {
            lt_agent_log_stats(agent);
            lt_systemd_status("commune %s: acked_seq %" PRIu64 ", next_seq %" PRIu64,
                              agent->ac->commune, agent->st.acked_seq, agent->st.next_seq);
            next_stats = lt_monotonic_ms() + agent->ac->stats_interval_s * 1000;
        }
    }
    return rc;
}

/* Stop (SIGTERM, or a fatal error): deliver what was produced, record what
 * Kafka acknowledged, leave the rest in the outbox for the next start. */
static void lt_agent_shutdown(lt_agent_t *agent)
{
    char errstr[1024];
    lt_systemd_stopping("commune %s: stopping, flushing produced batches", agent->ac->commune);
    lt_info("stopping: flushing produced batches", "commune=%s inflight=%zu",
            agent->ac->commune, lt_acks_inflight(agent->acks));
    rd_kafka_resp_err_t err = rd_kafka_flush(agent->rk, 30000);
    if (err)
        lt_warn("flush incomplete; unacknowledged events are resent at next start",
                "commune=%s inflight=%zu", agent->ac->commune, lt_acks_inflight(agent->acks));
    lt_ack_run_t run;
    for (int tries = 0; tries < 5 && (agent->marking || lt_acks_ready(agent->acks, &run));
         tries++)
        if (lt_agent_mark_acked(agent, 1, errstr, sizeof(errstr)) != LT_PG_OK)
            lt_sleep_ms(200);
    lt_agent_log_stats(agent);
}

/* Where sending resumes: the first unacknowledged sequence. Everything up
 * to acked_seq is in Kafka, so that is acked_seq + 1; a database written by
 * an older agent may say otherwise, and the outbox rows are the truth. */
static lt_pg_rc_t lt_agent_find_resume(lt_agent_t *agent, char *errstr, size_t errstr_size)
{
    lt_pg_rc_t rc = lt_outbox_first_unsent(agent->pg, &agent->st, &agent->cursor, errstr,
                                           errstr_size);
    if (rc == LT_PG_OK && agent->cursor <= agent->st.acked_seq) {
        lt_warn("unsent events at or below acked_seq: resending from the first of them",
                "commune=%s acked_seq=%" PRIu64 " first_unsent=%" PRIu64, agent->ac->commune,
                agent->st.acked_seq, agent->cursor);
        agent->st.acked_seq = agent->cursor - 1;
    }
    return rc;
}

/* States written before digests existed get their members now; a schema
 * older than this agent is the administrator's to upgrade. */
static int lt_agent_digest_ready(lt_agent_t *agent, char *errstr, size_t errstr_size)
{
    int needed;
    uint64_t filled;
    if (lt_outbox_digest_needs_rebuild(agent->pg, &needed, errstr, errstr_size) != LT_PG_OK) {
        size_t len = strlen(errstr);
        snprintf(errstr + len, errstr_size - len,
                 " (the commune schema is older than this agent: run lienthong-agent init)");
        return -1;
    }
    if (needed) {
        if (lt_outbox_digest_rebuild(agent->pg, &filled, errstr, errstr_size) != LT_PG_OK)
            return -1;
        lt_info("digest rebuilt from the entity states", "commune=%s states_filled=%" PRIu64,
                agent->ac->commune, filled);
    }
    uint64_t differing;
    if (lt_outbox_digest_check(agent->pg, &differing, errstr, errstr_size) != LT_PG_OK)
        return -1;
    if (differing)
        lt_warn("the digest did not match the entity states (changed by hand?): rebuilt from them;"
                " the province will see the difference and can ask for the buckets again",
                "commune=%s buckets=%" PRIu64, agent->ac->commune, differing);
    return 0;
}

static int lt_agent_open_outbox(lt_agent_t *agent, char *errstr, size_t errstr_size)
{
    const lt_agent_conf_t *ac = agent->ac;
    agent->pg = lt_agent_pg_connect(ac, errstr, errstr_size);
    if (!agent->pg || !(agent->mark_pg = lt_agent_pg_connect(ac, errstr, errstr_size)))
        return -1;
    lt_pg_rc_t rc;
    int backoff = 200;
    while ((rc = lt_outbox_load_state(agent->pg, ac->commune, &agent->st, errstr,
                                      errstr_size)) == LT_PG_RETRY && !lt_stop_requested)
        if (lt_agent_pg_trouble(agent, rc, "load state", errstr, &backoff) != 0)
            return -1;
    if (rc != LT_PG_OK)
        return -1;
    if (agent->st.has_last_batch_hash)
        memcpy(agent->acked_hash, agent->st.last_batch_hash, LT_SHA256_LEN);
    memcpy(agent->prev_hash, agent->acked_hash, LT_SHA256_LEN);
    agent->has_prev = agent->has_acked = agent->st.has_last_batch_hash;
    while ((rc = lt_agent_find_resume(agent, errstr, errstr_size)) == LT_PG_RETRY &&
           !lt_stop_requested)
        if (lt_agent_pg_trouble(agent, rc, "find unsent", errstr, &backoff) != 0)
            return -1;
    if (rc != LT_PG_OK)
        return -1;
    if (lt_agent_digest_ready(agent, errstr, errstr_size) != 0)
        return -1;
    lt_agent_listen(agent);
    agent->acks = lt_acks_new(agent->st.acked_seq);
    /* A backlog may have piled up while the agent was away: fresh statistics
     * keep the claim query on its index. */
    lt_outbox_analyze(agent->pg);
    return 0;
}

static int lt_agent_open(lt_agent_t *agent, char *errstr, size_t errstr_size)
{
    const lt_agent_conf_t *ac = agent->ac;
    if (lt_agent_open_outbox(agent, errstr, errstr_size) != 0)
        return -1;
    agent->signer = lt_signer_new(ac->signing_key, errstr, errstr_size);
    if (!agent->signer)
        return -1;
    agent->units = lt_units_open(ac->units_file, errstr, errstr_size);
    if (!agent->units)
        return -1;
    agent->vctx = (lt_validate_ctx_t){agent->units, ac->province, ac->commune,
                                      ac->code_list_version};
    lt_topic_name(agent->topic, sizeof(agent->topic), ac->province, ac->commune,
                  LT_TOPIC_EVENTS);
    agent->topic_max_bytes = LT_MAX_MESSAGE_BYTES_DEFAULT;
    if (lt_agent_kafka_new(agent, errstr, errstr_size) != 0)
        return -1;
    int64_t control_offset;
    if (lt_outbox_control_offset(agent->pg, ac->commune, &control_offset, errstr, errstr_size) !=
            LT_PG_OK ||
        !(agent->control = lt_control_new(agent->conf, ac->province, ac->commune, control_offset,
                                          errstr, errstr_size)))
        return -1;
    /* Without Kafka at start the default stands; the topic's own limit is
     * asked for again if Kafka refuses a batch as too large. */
    if (lt_agent_learn_topic_limit(agent) || agent->batcher.max_bytes > lt_agent_batch_budget(agent))
        return lt_agent_apply_topic_limit(agent, errstr, errstr_size);
    return 0;
}

int lt_agent_run(const lt_conf_t *conf, const lt_agent_conf_t *ac)
{
    lt_agent_t agent;
    char errstr[1024];
    int rc = 1;
    memset(&agent, 0, sizeof(agent));
    agent.ac = ac;
    agent.conf = conf;
    lt_batcher_init(&agent.batcher, (size_t)ac->batch_max_events, (size_t)ac->batch_max_bytes,
                    ac->linger_ms);
    lt_strlcpy(agent.agent_id, ac->agent_id ? ac->agent_id : "agent", sizeof(agent.agent_id));
    agent.metrics = lt_agent_metrics_new(ac->commune);
    if (lt_agent_metrics_listen(agent.metrics, ac->http_listen, errstr, sizeof(errstr)) != 0) {
        lt_error("agent cannot start: agent.http_listen", "commune=%s error=\"%s\"", ac->commune,
                 errstr);
        rc = 2; /* a configuration error */
        goto done;
    }
    if (lt_agent_open(&agent, errstr, sizeof(errstr)) != 0) {
        lt_error("agent cannot start", "commune=%s error=\"%s\"", ac->commune, errstr);
        goto done;
    }
    lt_info("agent started",
            "commune=%s topic=%s next_seq=%" PRIu64 " resend_from=%" PRIu64 " key_id=%s"
            " batch_max_bytes=%zu",
            ac->commune, agent.topic, agent.st.next_seq, agent.cursor,
            lt_signer_key_id(agent.signer), agent.batcher.max_bytes);
    lt_systemd_ready("commune %s: sending to %s from seq %" PRIu64, ac->commune, agent.topic,
                     agent.cursor);
    rc = lt_agent_loop(&agent);
    lt_agent_shutdown(&agent);
done:
    lt_batcher_clear(&agent.batcher);
    if (agent.rk)
        rd_kafka_destroy(agent.rk);
    lt_acks_destroy(agent.acks);
    lt_control_destroy(agent.control);
    lt_signer_destroy(agent.signer);
    lt_units_destroy(agent.units);
    PQfinish(agent.pg);
    PQfinish(agent.mark_pg);
    lt_agent_metrics_destroy(agent.metrics);
    return rc;
}
