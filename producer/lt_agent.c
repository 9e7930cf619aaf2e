#include "lt_agent.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "lt_batcher.h"
#include "lt_codec.h"
#include "lt_fault.h"
#include "lt_kafka.h"
#include "lt_log.h"
#include "lt_outbox.h"
#include "lt_pg.h"
#include "lt_sign.h"
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
        "serialized batch size at most"),
    OPT("agent", "linger_ms", LT_CONF_INT, "20", linger_ms, 0, 60000,
        "how long a partial batch waits for more events"),
    OPT("agent", "poll_interval_ms", LT_CONF_INT, "200", poll_interval_ms, 10, 60000,
        "outbox poll interval when idle"),
    OPT("agent", "max_inflight_batches", LT_CONF_INT, "32", max_inflight_batches, 1, 10000,
        "batches produced but not yet acknowledged"),
    OPT("agent", "read_chunk", LT_CONF_INT, "2000", read_chunk, 1, 100000,
        "outbox rows claimed/read per query"),
    OPT("agent", "stats_interval_s", LT_CONF_INT, "30", stats_interval_s, 0, 86400,
        "seconds between progress lines (0 = off)"),
    {NULL, NULL, 0, NULL, 0, 0, 0, NULL},
};

/* A produced batch, carried as the message opaque to its delivery report. */
typedef struct lt_inflight {
    uint64_t first_seq, last_seq;
    uint8_t hash[LT_SHA256_LEN];
    struct lt_inflight *next;
} lt_inflight_t;

typedef struct lt_agent {
    const lt_agent_conf_t *ac;
    rd_kafka_t *rk;
    PGconn *pg;
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
    long inflight;
    lt_inflight_t *acked_head, *acked_tail; /* delivered, not yet marked in PG */
    int rewind;               /* a delivery failed: resend from the first unacked */
    lt_agent_stats_t stats;
} lt_agent_t;

static void lt_agent_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *msg, void *opaque)
{
    lt_agent_t *agent = opaque;
    lt_inflight_t *inf = msg->_private;
    agent->inflight--;
    if (msg->err) {
        agent->stats.delivery_errors++;
        agent->rewind = 1;
        lt_warn("batch delivery failed, will resend",
                "topic=%s first_seq=%" PRIu64 " last_seq=%" PRIu64 " error=\"%s\"%s",
                agent->topic, inf->first_seq, inf->last_seq, rd_kafka_err2str(msg->err),
                msg->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART
                    ? " hint=\"the topic does not exist: the province registers the commune"
                      " with lienthong-sink provision\""
                    : "");
        free(inf);
        return;
    }
    /* Reports of one partition arrive in produce order (idempotent producer). */
    inf->next = NULL;
    if (agent->acked_tail)
        agent->acked_tail->next = inf;
    else
        agent->acked_head = inf;
    agent->acked_tail = inf;
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

static int lt_agent_kafka_new(lt_agent_t *agent, const lt_conf_t *conf, char *errstr,
                              size_t errstr_size)
{
    rd_kafka_conf_t *kc = lt_agent_kafka_conf(conf, errstr, errstr_size);
    if (!kc)
        return -1;
    rd_kafka_conf_set_dr_msg_cb(kc, lt_agent_dr_cb);
    rd_kafka_conf_set_opaque(kc, agent);
    char rkerr[512];
    agent->rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, rkerr, sizeof(rkerr));
    if (!agent->rk) {
        rd_kafka_conf_destroy(kc);
        return lt_err(errstr, errstr_size, "cannot create Kafka producer: %s", rkerr);
    }
    return 0; /* kc now belongs to rk */
}

/* Connect to PostgreSQL, retrying with backoff until it answers or a stop. */
static PGconn *lt_agent_pg_connect(const lt_agent_conf_t *ac)
{
    int backoff = 500;
    while (!lt_stop_requested) {
        char errstr[512];
        PGconn *pg = lt_pg_connect(ac->postgres, "lienthong-agent", errstr, sizeof(errstr));
        if (pg)
            return pg;
        lt_warn("commune database unavailable, retrying", "commune=%s error=\"%s\"",
                ac->commune, errstr);
        lt_sleep_ms(lt_backoff_next(&backoff, 30000));
    }
    return NULL;
}

/* PostgreSQL trouble: reconnect and wait. Returns -1 if the error is permanent. */
static int lt_agent_pg_trouble(lt_agent_t *agent, lt_pg_rc_t rc, const char *what,
                               const char *errstr, int *backoff)
{
    if (rc == LT_PG_FATAL) {
        lt_error("commune database refused a statement", "commune=%s during=%s error=\"%s\"",
                 agent->ac->commune, what, errstr);
        return -1;
    }
    lt_warn("commune database unavailable, retrying", "commune=%s during=%s error=\"%s\"",
            agent->ac->commune, what, errstr);
    lt_sleep_ms(lt_backoff_next(backoff, 30000));
    lt_pg_ensure(agent->pg);
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
        lt_pg_rc_t rc = lt_outbox_claim(agent->pg, ac->commune, &agent->vctx, &agent->st,
                                        (int)ac->read_chunk, &claimed, &rejected, errstr,
                                        errstr_size);
        if (rc != LT_PG_OK)
            return rc;
        agent->stats.rows_claimed += (uint64_t)claimed;
        agent->stats.rows_rejected += (uint64_t)rejected;
        if (rejected)
            lt_warn("outbox rows refused, see lt.outbox.reject_reason",
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

uint8_t *lt_batch_seal(const Lienthong__V1__Batch *batch, lt_signer_t *signer, size_t *len,
                       uint8_t hash[LT_SHA256_LEN])
{
    size_t batch_len;
    uint8_t *batch_bytes = lt_pb_pack(&batch->base, &batch_len);
    uint8_t sig[LT_SIGNATURE_MAX];
    size_t sig_len = 0;
    if (!batch_bytes)
        return NULL;
    lt_sha256(batch_bytes, batch_len, hash);
    if (lt_signer_sign(signer, batch_bytes, batch_len, sig, &sig_len) != 0) {
        free(batch_bytes);
        return NULL;
    }
    Lienthong__V1__SignedBatch sb = LIENTHONG__V1__SIGNED_BATCH__INIT;
    char key_id[LT_KEY_ID_MAX];
    lt_strlcpy(key_id, lt_signer_key_id(signer), sizeof(key_id));
    sb.batch.data = batch_bytes;
    sb.batch.len = batch_len;
    sb.signature.data = sig;
    sb.signature.len = sig_len;
    sb.key_id = key_id;
    uint8_t *out = lt_pb_pack(&sb.base, len);
    free(batch_bytes);
    return out;
}

static int lt_agent_produce(lt_agent_t *agent, uint8_t *value, size_t len,
                            lt_inflight_t *inf)
{
    char ce_id[64], ce_source[64];
    snprintf(ce_id, sizeof(ce_id), "%s-%" PRIu64 "-%" PRIu64, agent->ac->commune,
             inf->first_seq, inf->last_seq);
    snprintf(ce_source, sizeof(ce_source), "lienthong/%s/%s", agent->ac->province,
             agent->ac->commune);
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            agent->rk, RD_KAFKA_V_TOPIC(agent->topic),
            RD_KAFKA_V_KEY(agent->ac->commune, strlen(agent->ac->commune)),
            RD_KAFKA_V_VALUE(value, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE),
            RD_KAFKA_V_OPAQUE(inf), RD_KAFKA_V_HEADER("ce_specversion", "1.0", -1),
            RD_KAFKA_V_HEADER("ce_type", "vn.lienthong.batch.v1", -1),
            RD_KAFKA_V_HEADER("ce_source", ce_source, -1), RD_KAFKA_V_HEADER("ce_id", ce_id, -1),
            RD_KAFKA_V_HEADER("content-type", "application/x-protobuf", -1), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
            return 0;
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            lt_error("cannot produce batch", "topic=%s error=\"%s\"", agent->topic,
                     rd_kafka_err2str(err));
            free(value);
            free(inf);
            return -1;
        }
        rd_kafka_poll(agent->rk, 100); /* queue full: let deliveries drain it */
    }
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
    lt_inflight_t *inf = calloc(1, sizeof(*inf));
    inf->first_seq = batch.first_seq;
    inf->last_seq = batch.last_seq;
    size_t len;
    uint8_t *value = lt_batch_seal(&batch, agent->signer, &len, inf->hash);
    if (!value) {
        lt_error("cannot sign batch", "commune=%s", agent->ac->commune);
        free(inf);
        return -1;
    }
    if (lt_agent_produce(agent, value, len, inf) != 0)
        return -1;
    memcpy(agent->prev_hash, inf->hash, LT_SHA256_LEN);
    agent->has_prev = 1;
    lt_batcher_consume(&agent->batcher, n, lt_monotonic_ms());
    agent->inflight++;
    agent->stats.batches_produced++;
    lt_fault_point("agent.after_produce");
    lt_debug("batch produced", "topic=%s first_seq=%" PRIu64 " last_seq=%" PRIu64 " bytes=%zu",
             agent->topic, inf->first_seq, inf->last_seq, len);
    return 0;
}

/* The acked batches from the head that continue each other's sequences. */
static lt_inflight_t *lt_agent_acked_run(lt_agent_t *agent)
{
    lt_inflight_t *last = agent->acked_head;
    while (last->next && last->next->first_seq == last->last_seq + 1)
        last = last->next;
    return last;
}

/* Record delivered batches in PostgreSQL, one statement per contiguous run
 * (a failed batch in between must stay unsent). */
static lt_pg_rc_t lt_agent_mark_acked(lt_agent_t *agent, char *errstr, size_t errstr_size)
{
    while (agent->acked_head) {
        lt_inflight_t *head = agent->acked_head, *last = lt_agent_acked_run(agent);
        lt_pg_rc_t rc = lt_outbox_mark_sent(agent->pg, agent->ac->commune, head->first_seq,
                                            last->last_seq, last->hash, errstr, errstr_size);
        if (rc != LT_PG_OK)
            return rc; /* kept in the list; tried again next round */
        memcpy(agent->acked_hash, last->hash, LT_SHA256_LEN);
        agent->has_acked = 1;
        if (last->last_seq > agent->st.acked_seq)
            agent->st.acked_seq = last->last_seq;
        agent->acked_head = last->next;
        if (!agent->acked_head)
            agent->acked_tail = NULL;
        for (lt_inflight_t *inf = head, *next; inf != agent->acked_head; inf = next) {
            next = inf->next;
            agent->stats.batches_acked++;
            agent->stats.events_acked += inf->last_seq - inf->first_seq + 1;
            free(inf);
        }
    }
    return LT_PG_OK;
}

/* After a failed delivery: once nothing is in flight, resend from the first
 * unacknowledged sequence. The sink skips whatever arrives twice. */
static lt_pg_rc_t lt_agent_rewind(lt_agent_t *agent, char *errstr, size_t errstr_size)
{
    uint64_t first;
    lt_pg_rc_t rc = lt_outbox_first_unsent(agent->pg, &agent->st, &first, errstr, errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    lt_info("resending unacknowledged events", "commune=%s from_seq=%" PRIu64, agent->ac->commune,
            first);
    lt_batcher_clear(&agent->batcher);
    agent->cursor = first;
    memcpy(agent->prev_hash, agent->acked_hash, LT_SHA256_LEN);
    agent->has_prev = agent->has_acked;
    agent->rewind = 0;
    agent->stats.rewinds++;
    return LT_PG_OK;
}

static void lt_agent_log_stats(const lt_agent_t *agent)
{
    const lt_agent_stats_t *s = &agent->stats;
    lt_info("progress",
            "commune=%s claimed=%" PRIu64 " rejected=%" PRIu64 " batches=%" PRIu64
            " acked_batches=%" PRIu64 " acked_events=%" PRIu64 " acked_seq=%" PRIu64
            " next_seq=%" PRIu64 " inflight=%ld delivery_errors=%" PRIu64,
            agent->ac->commune, s->rows_claimed, s->rows_rejected, s->batches_produced,
            s->batches_acked, s->events_acked, agent->st.acked_seq, agent->st.next_seq,
            agent->inflight, s->delivery_errors);
}

/* One pass of the loop. Returns 1 if it did work, 0 if idle, -1 on fatal error. */
static int lt_agent_step(lt_agent_t *agent, int *backoff)
{
    char errstr[1024];
    lt_pg_rc_t rc = lt_agent_mark_acked(agent, errstr, sizeof(errstr));
    if (rc == LT_PG_OK && agent->rewind && agent->inflight == 0)
        rc = lt_agent_rewind(agent, errstr, sizeof(errstr));
    if (rc == LT_PG_OK && !agent->rewind && agent->inflight < agent->ac->max_inflight_batches)
        rc = lt_agent_fill(agent, errstr, sizeof(errstr));
    if (rc != LT_PG_OK)
        return lt_agent_pg_trouble(agent, rc, "outbox", errstr, backoff) ? -1 : 0;
    *backoff = 200;
    int worked = 0;
    while (!agent->rewind && agent->inflight < agent->ac->max_inflight_batches &&
           lt_batcher_ready(&agent->batcher, lt_monotonic_ms())) {
        if (lt_agent_send_batch(agent) != 0)
            return -1;
        worked = 1;
    }
    return worked;
}

static int lt_agent_loop(lt_agent_t *agent)
{
    int backoff = 200, rc = 0;
    int64_t next_stats = lt_monotonic_ms() + agent->ac->stats_interval_s * 1000;
    while (!lt_stop_requested) {
        int worked = lt_agent_step(agent, &backoff);
        if (worked < 0) {
            rc = 1;
            break;
        }
        size_t buffered = lt_batcher_waiting(&agent->batcher);
        /* Idle: wait on the delivery queue so reports are served promptly. */
        int wait = worked ? 0 : buffered ? (int)agent->ac->linger_ms / 2 + 1
                                         : (int)agent->ac->poll_interval_ms;
        rd_kafka_poll(agent->rk, wait);
        if (agent->ac->stats_interval_s && lt_monotonic_ms() >= next_stats) {
            lt_agent_log_stats(agent);
            next_stats = lt_monotonic_ms() + agent->ac->stats_interval_s * 1000;
        }
    }
    return rc;
}

/* SIGTERM: deliver what was produced, record it, leave the rest in the outbox. */
static void lt_agent_shutdown(lt_agent_t *agent)
{
    char errstr[1024];
    lt_info("stopping: flushing produced batches", "commune=%s inflight=%ld",
            agent->ac->commune, agent->inflight);
    rd_kafka_resp_err_t err = rd_kafka_flush(agent->rk, 30000);
    if (err)
        lt_warn("flush incomplete; unacknowledged events are resent at next start",
                "commune=%s inflight=%ld", agent->ac->commune, agent->inflight);
    for (int tries = 0; tries < 5 && agent->acked_head; tries++)
        if (lt_agent_mark_acked(agent, errstr, sizeof(errstr)) != LT_PG_OK)
            lt_sleep_ms(200);
    lt_agent_log_stats(agent);
}

static int lt_agent_open(lt_agent_t *agent, const lt_conf_t *conf, char *errstr,
                         size_t errstr_size)
{
    const lt_agent_conf_t *ac = agent->ac;
    agent->pg = lt_agent_pg_connect(ac);
    if (!agent->pg)
        return lt_err(errstr, errstr_size, "stopped before the database answered");
    lt_pg_rc_t rc;
    int backoff = 500;
    while ((rc = lt_outbox_load_state(agent->pg, ac->commune, &agent->st, errstr,
                                      errstr_size)) == LT_PG_RETRY && !lt_stop_requested)
        lt_agent_pg_trouble(agent, rc, "load state", errstr, &backoff);
    if (rc != LT_PG_OK)
        return -1;
    if (agent->st.has_last_batch_hash)
        memcpy(agent->acked_hash, agent->st.last_batch_hash, LT_SHA256_LEN);
    memcpy(agent->prev_hash, agent->acked_hash, LT_SHA256_LEN);
    agent->has_prev = agent->has_acked = agent->st.has_last_batch_hash;
    while ((rc = lt_outbox_first_unsent(agent->pg, &agent->st, &agent->cursor, errstr,
                                        errstr_size)) == LT_PG_RETRY && !lt_stop_requested)
        lt_agent_pg_trouble(agent, rc, "find unsent", errstr, &backoff);
    if (rc != LT_PG_OK)
        return -1;
    agent->signer = lt_signer_new(ac->signing_key, errstr, errstr_size);
    if (!agent->signer)
        return -1;
    /* A backlog may have piled up while the agent was away: fresh statistics
     * keep the claim query on its index. */
    lt_pg_exec(agent->pg, "ANALYZE lt.outbox", 0, NULL, NULL, 0);
    agent->units = lt_units_open(ac->units_file, errstr, errstr_size);
    if (!agent->units)
        return -1;
    agent->vctx = (lt_validate_ctx_t){agent->units, ac->province, ac->commune,
                                      ac->code_list_version};
    lt_kafka_topic_name(agent->topic, sizeof(agent->topic), ac->province, ac->commune,
                        "events");
    return lt_agent_kafka_new(agent, conf, errstr, errstr_size);
}

int lt_agent_run(const lt_conf_t *conf, const lt_agent_conf_t *ac)
{
    lt_agent_t agent;
    char errstr[1024];
    int rc = 1;
    memset(&agent, 0, sizeof(agent));
    agent.ac = ac;
    lt_batcher_init(&agent.batcher, (size_t)ac->batch_max_events, (size_t)ac->batch_max_bytes,
                    ac->linger_ms);
    lt_strlcpy(agent.agent_id, ac->agent_id ? ac->agent_id : "agent", sizeof(agent.agent_id));
    if (lt_agent_open(&agent, conf, errstr, sizeof(errstr)) != 0) {
        lt_error("agent cannot start", "commune=%s error=\"%s\"", ac->commune, errstr);
        goto done;
    }
    lt_info("agent started",
            "commune=%s topic=%s next_seq=%" PRIu64 " resend_from=%" PRIu64 " key_id=%s",
            ac->commune, agent.topic, agent.st.next_seq, agent.cursor,
            lt_signer_key_id(agent.signer));
    rc = lt_agent_loop(&agent);
    lt_agent_shutdown(&agent);
done:
    lt_batcher_clear(&agent.batcher);
    if (agent.rk)
        rd_kafka_destroy(agent.rk);
    for (lt_inflight_t *inf = agent.acked_head, *next; inf; inf = next) {
        next = inf->next;
        free(inf);
    }
    lt_signer_destroy(agent.signer);
    lt_units_destroy(agent.units);
    PQfinish(agent.pg);
    return rc;
}
