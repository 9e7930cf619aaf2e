#include "lt_sink.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "lt_apply.h"
#include "lt_fault.h"
#include "lt_kafka.h"
#include "lt_log.h"
#include "lt_pg.h"
#include "lt_util.h"

#define OPT(sec, name, type, def, field, min, max, doc)                                 \
    {sec, name, type, def, offsetof(lt_sink_conf_t, field), min, max, doc}

const lt_conf_opt_t lt_sink_conf_table[] = {
    OPT("sink", "province", LT_CONF_STR, NULL, province, 0, 0, "2-digit province code (required)"),
    OPT("sink", "postgres", LT_CONF_STR, NULL, postgres, 0, 0,
        "libpq conninfo of the province database (required)"),
    OPT("sink", "group_id", LT_CONF_STR, NULL, group_id, 0, 0,
        "Kafka consumer group; lienthong-sink-<province> if unset"),
    OPT("sink", "log_level", LT_CONF_STR, "info", log_level, 0, 0, "error, warn, info or debug"),
    OPT("sink", "units_file", LT_CONF_STR, NULL, units_file, 0, 0,
        "administrative unit list (JSON); the installed copy if unset"),
    OPT("sink", "round_max_messages", LT_CONF_INT, "200", round_max_messages, 1, 100000,
        "Kafka messages applied per PostgreSQL transaction at most"),
    OPT("sink", "round_max_ms", LT_CONF_INT, "200", round_max_ms, 1, 60000,
        "how long one round collects messages"),
    OPT("sink", "round_max_bytes", LT_CONF_INT, "33554432", round_max_bytes, 1024, 1073741824,
        "message bytes per round at most (bounds the sink's memory)"),
    OPT("sink", "max_message_bytes", LT_CONF_INT, "8388608", max_message_bytes, 1024, 100000000,
        "larger messages are quarantined without being decoded"),
    OPT("sink", "allow_integrity_only", LT_CONF_BOOL, "true", allow_integrity_only, 0, 1,
        "accept \"sha256:\" batches from communes with no registered key"),
    OPT("sink", "stats_interval_s", LT_CONF_INT, "30", stats_interval_s, 0, 86400,
        "seconds between progress lines (0 = off)"),
    OPT("sink", "replication_factor", LT_CONF_INT, "-1", replication_factor, -1, 16,
        "replication factor of provisioned topics (-1 = broker default)"),
    {NULL, NULL, 0, NULL, 0, 0, 0, NULL},
};

typedef struct lt_sink {
    const lt_sink_conf_t *sc;
    rd_kafka_t *rk;
    PGconn *pg;
    lt_units_t *units;
    lt_apply_t apply;
    rd_kafka_message_t **held; /* the round being collected */
    size_t n_held;
    lt_msg_t *msgs;
} lt_sink_t;

static void lt_sink_pg_wait(lt_sink_t *sink, const char *during, const char *errstr,
                            int *backoff)
{
    lt_warn("province database unavailable, retrying", "during=%s error=\"%s\"", during, errstr);
    lt_sleep_ms(lt_backoff_next(backoff, 30000));
    lt_pg_ensure(sink->pg);
}

/* Reload communes and their progress, retrying until it works or a stop. */
static int lt_sink_reload(lt_sink_t *sink)
{
    char errstr[1024];
    int backoff = 200;
    while (!lt_stop_requested) {
        if (lt_apply_load(&sink->apply, sink->pg, errstr, sizeof(errstr)) == LT_PG_OK)
            return 0;
        lt_sink_pg_wait(sink, "load communes", errstr, &backoff);
    }
    return -1;
}

/* Set each partition's start from lt.kafka_offset; unknown ones start at the beginning. */
static int lt_sink_seek_from_pg(lt_sink_t *sink, rd_kafka_topic_partition_list_t *parts)
{
    char errstr[1024];
    int backoff = 200;
    PGresult *res = NULL;
    while (lt_pg_query(sink->pg, "SELECT topic, partition, next_offset FROM lt.kafka_offset", 0,
                       NULL, &res, errstr, sizeof(errstr)) != LT_PG_OK) {
        if (lt_stop_requested)
            return -1;
        lt_sink_pg_wait(sink, "read offsets", errstr, &backoff);
    }
    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *p = &parts->elems[i];
        p->offset = RD_KAFKA_OFFSET_BEGINNING;
        for (int row = 0; row < PQntuples(res); row++)
            if (strcmp(PQgetvalue(res, row, 0), p->topic) == 0 &&
                atoi(PQgetvalue(res, row, 1)) == p->partition)
                p->offset = strtoll(PQgetvalue(res, row, 2), NULL, 10);
        lt_info("partition assigned", "topic=%s partition=%" PRId32 " start_offset=%" PRId64,
                p->topic, p->partition, p->offset);
    }
    PQclear(res);
    return 0;
}

static void lt_sink_drop_held(lt_sink_t *sink)
{
    for (size_t i = 0; i < sink->n_held; i++)
        rd_kafka_message_destroy(sink->held[i]);
    sink->n_held = 0;
}

static void lt_sink_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                                 rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    lt_sink_t *sink = opaque;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        /* PostgreSQL, not Kafka, says where each partition resumes. */
        lt_sink_reload(sink);
        lt_sink_seek_from_pg(sink, parts);
        rd_kafka_assign(rk, parts);
    } else {
        /* Messages held for this round are re-read by the next owner from the
         * offsets in PostgreSQL; dropping them loses nothing. */
        lt_info("partitions revoked", "count=%d held_messages=%zu", parts->cnt, sink->n_held);
        lt_sink_drop_held(sink);
        rd_kafka_assign(rk, NULL);
    }
}

static int lt_sink_kafka_new(lt_sink_t *sink, const lt_conf_t *conf, char *errstr,
                             size_t errstr_size)
{
    rd_kafka_conf_t *kc = lt_kafka_conf_new(&conf->kafka, errstr, errstr_size);
    if (!kc)
        return -1;
    char group[64];
    snprintf(group, sizeof(group), "lienthong-sink-%s", sink->sc->province);
    /* Offsets are stored by the sink in PostgreSQL and only copied to Kafka. */
    const char *must[][2] = {{"enable.auto.commit", "false"},
                             {"enable.auto.offset.store", "false"},
                             {"group.id", sink->sc->group_id ? sink->sc->group_id : group}};
    for (size_t i = 0; i < sizeof(must) / sizeof(*must); i++)
        if (lt_kafka_conf_set(kc, must[i][0], must[i][1], errstr, errstr_size))
            goto fail;
    /* Static membership: a sink restarted on the same host takes its
     * partitions back at once instead of waiting for the dead member's
     * session to time out. */
    char host[64] = "host", instance[128];
    gethostname(host, sizeof(host) - 1);
    snprintf(instance, sizeof(instance), "lienthong-sink-%s-%s", sink->sc->province, host);
    const char *const defaults[][2] = {{"auto.offset.reset", "earliest"},
                                       {"topic.metadata.refresh.interval.ms", "10000"},
                                       {"fetch.message.max.bytes", "10485760"},
                                       /* prefetch at most 32 MB: a round holds the rest */
                                       {"queued.max.messages.kbytes", "32768"},
                                       {"group.instance.id", instance},
                                       {"session.timeout.ms", "15000"}};
    for (size_t i = 0; i < sizeof(defaults) / sizeof(*defaults); i++)
        if (!lt_conf_kafka_get(conf, defaults[i][0]) &&
            lt_kafka_conf_set(kc, defaults[i][0], defaults[i][1], errstr, errstr_size))
            goto fail;
    rd_kafka_conf_set_rebalance_cb(kc, lt_sink_rebalance_cb);
    rd_kafka_conf_set_opaque(kc, sink);
    char rkerr[512];
    sink->rk = rd_kafka_new(RD_KAFKA_CONSUMER, kc, rkerr, sizeof(rkerr));
    if (!sink->rk) {
        lt_err(errstr, errstr_size, "cannot create Kafka consumer: %s", rkerr);
        goto fail;
    }
    rd_kafka_poll_set_consumer(sink->rk);
    return 0;
fail:
    rd_kafka_conf_destroy(kc);
    return -1;
}

static int lt_sink_subscribe(lt_sink_t *sink, char *errstr, size_t errstr_size)
{
    char pattern[64];
    snprintf(pattern, sizeof(pattern), "^lt\\.%s\\.[0-9]{5}\\.events$", sink->sc->province);
    rd_kafka_topic_partition_list_t *subs = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(subs, pattern, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(sink->rk, subs);
    rd_kafka_topic_partition_list_destroy(subs);
    if (err)
        return lt_err(errstr, errstr_size, "cannot subscribe to %s: %s", pattern,
                      rd_kafka_err2str(err));
    lt_info("subscribed", "pattern=%s", pattern);
    return 0;
}

/* Collect up to round_max_messages within round_max_ms, or until the queue is
 * quiet. */
static void lt_sink_collect(lt_sink_t *sink)
{
    int64_t deadline = lt_monotonic_ms() + sink->sc->round_max_ms;
    size_t bytes = 0;
    while ((long)sink->n_held < sink->sc->round_max_messages &&
           (long)bytes < sink->sc->round_max_bytes && !lt_stop_requested) {
        int64_t left = deadline - lt_monotonic_ms();
        if (left <= 0)
            break;
        /* Once something is held, a quiet queue ends the round: waiting out
         * round_max_ms would only add latency at moderate rates. */
        int wait = sink->n_held ? (left < 5 ? (int)left : 5) : (int)left;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(sink->rk, wait);
        if (!m && sink->n_held)
            break;
        if (!m)
            continue;
        if (m->err) {
            if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                lt_warn("consumer error", "topic=%s error=\"%s\"",
                        m->rkt ? rd_kafka_topic_name(m->rkt) : "-", rd_kafka_message_errstr(m));
            rd_kafka_message_destroy(m);
            continue;
        }
        bytes += m->len;
        sink->held[sink->n_held++] = m;
    }
}

static int lt_sink_has_unknown_topic(lt_sink_t *sink)
{
    for (size_t i = 0; i < sink->n_held; i++)
        if (!lt_apply_commune_by_topic(&sink->apply, rd_kafka_topic_name(sink->held[i]->rkt)))
            return 1;
    return 0;
}

static void lt_sink_build_msgs(lt_sink_t *sink)
{
    for (size_t i = 0; i < sink->n_held; i++) {
        rd_kafka_message_t *m = sink->held[i];
        sink->msgs[i] = (lt_msg_t){.topic = rd_kafka_topic_name(m->rkt),
                                   .partition = m->partition,
                                   .offset = m->offset,
                                   .key = m->key,
                                   .key_len = m->key_len,
                                   .value = m->payload,
                                   .len = m->len};
    }
}

/* Copy the applied positions to Kafka so standard lag tools see them. */
static void lt_sink_commit_kafka(lt_sink_t *sink)
{
    rd_kafka_topic_partition_list_t *offs = rd_kafka_topic_partition_list_new((int)sink->n_held);
    for (size_t i = 0; i < sink->n_held; i++) {
        rd_kafka_message_t *m = sink->held[i];
        rd_kafka_topic_partition_t *p =
            rd_kafka_topic_partition_list_find(offs, rd_kafka_topic_name(m->rkt), m->partition);
        if (!p)
            p = rd_kafka_topic_partition_list_add(offs, rd_kafka_topic_name(m->rkt), m->partition);
        if (m->offset + 1 > p->offset)
            p->offset = m->offset + 1;
    }
    rd_kafka_resp_err_t err = rd_kafka_commit(sink->rk, offs, 1);
    if (err)
        lt_debug("kafka offset commit not sent", "error=\"%s\"", rd_kafka_err2str(err));
    rd_kafka_topic_partition_list_destroy(offs);
}

/* Apply the held round; PostgreSQL trouble is retried, never quarantined. */
static int lt_sink_apply_round(lt_sink_t *sink)
{
    char errstr[1024];
    int backoff = 200;
    if (lt_sink_has_unknown_topic(sink))
        lt_sink_reload(sink); /* a commune provisioned after start */
    lt_sink_build_msgs(sink);
    for (;;) {
        lt_apply_plan(&sink->apply, sink->msgs, sink->n_held);
        size_t rows = sink->apply.plan_rows, quarantined = sink->apply.plan_quarantined;
        lt_pg_rc_t rc = lt_apply_commit(&sink->apply, sink->pg, errstr, sizeof(errstr));
        if (rc == LT_PG_OK) {
            lt_fault_point("sink.after_commit");
            lt_debug("round applied", "messages=%zu events=%zu quarantined=%zu", sink->n_held,
                     rows, quarantined);
            if (quarantined)
                lt_warn("messages quarantined, see lt.quarantine", "count=%zu", quarantined);
            return 0;
        }
        if (rc == LT_PG_FATAL)
            lt_error("province database refused the round; retrying", "error=\"%s\"", errstr);
        lt_sink_pg_wait(sink, "apply round", errstr, &backoff);
        if (lt_stop_requested || lt_sink_reload(sink) != 0)
            return -1; /* not applied: re-read from the stored offsets next start */
    }
}

static void lt_sink_log_stats(const lt_sink_t *sink)
{
    const lt_apply_stats_t *s = &sink->apply.stats;
    lt_info("progress",
            "rounds=%" PRIu64 " messages=%" PRIu64 " batches=%" PRIu64 " events=%" PRIu64
            " duplicates_skipped=%" PRIu64 " gaps=%" PRIu64 " quarantined=%" PRIu64,
            s->rounds, s->messages, s->batches_applied, s->events_applied,
            s->duplicates_skipped, s->gaps, s->quarantined);
}

static void lt_sink_loop(lt_sink_t *sink)
{
    int64_t next_stats = lt_monotonic_ms() + sink->sc->stats_interval_s * 1000;
    while (!lt_stop_requested) {
        lt_sink_collect(sink);
        if (sink->n_held && lt_sink_apply_round(sink) == 0)
            lt_sink_commit_kafka(sink);
        lt_sink_drop_held(sink);
        if (sink->sc->stats_interval_s && lt_monotonic_ms() >= next_stats) {
            lt_sink_log_stats(sink);
            next_stats = lt_monotonic_ms() + sink->sc->stats_interval_s * 1000;
        }
    }
}

static int lt_sink_open(lt_sink_t *sink, const lt_conf_t *conf, char *errstr,
                        size_t errstr_size)
{
    int backoff = 500;
    while (!(sink->pg = lt_pg_connect(sink->sc->postgres, "lienthong-sink", errstr,
                                      errstr_size))) {
        if (lt_stop_requested)
            return -1;
        lt_warn("province database unavailable, retrying", "error=\"%s\"", errstr);
        lt_sleep_ms(lt_backoff_next(&backoff, 30000));
    }
    lt_apply_init(&sink->apply, sink->sc->province, (size_t)sink->sc->max_message_bytes,
                  sink->sc->allow_integrity_only);
    sink->units = lt_units_open(sink->sc->units_file, errstr, errstr_size);
    if (!sink->units)
        return -1;
    sink->apply.units = sink->units;
    if (lt_sink_reload(sink) != 0)
        return lt_err(errstr, errstr_size, "stopped before the database answered");
    sink->held = calloc((size_t)sink->sc->round_max_messages, sizeof(*sink->held));
    sink->msgs = calloc((size_t)sink->sc->round_max_messages, sizeof(*sink->msgs));
    if (lt_sink_kafka_new(sink, conf, errstr, errstr_size) != 0)
        return -1;
    return lt_sink_subscribe(sink, errstr, errstr_size);
}

int lt_sink_run(const lt_conf_t *conf, const lt_sink_conf_t *sc)
{
    lt_sink_t sink;
    char errstr[1024];
    int rc = 0;
    memset(&sink, 0, sizeof(sink));
    sink.sc = sc;
    if (lt_sink_open(&sink, conf, errstr, sizeof(errstr)) != 0) {
        lt_error("sink cannot start", "province=%s error=\"%s\"", sc->province, errstr);
        rc = 1;
    } else {
        lt_info("sink started", "province=%s communes=%zu", sc->province, sink.apply.n_communes);
        lt_sink_loop(&sink);
        lt_info("stopping: closing the consumer", "province=%s", sc->province);
    }
    lt_sink_drop_held(&sink);
    if (sink.rk) {
        rd_kafka_consumer_close(sink.rk);
        rd_kafka_destroy(sink.rk);
    }
    lt_sink_log_stats(&sink);
    lt_apply_destroy(&sink.apply);
    lt_units_destroy(sink.units);
    free(sink.held);
    free(sink.msgs);
    PQfinish(sink.pg);
    return rc;
}
