#include "lt_sink.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "lt_committer.h"
#include "lt_confirm.h"
#include "lt_fault.h"
#include "lt_kafka.h"
#include "lt_kafka_stats.h"
#include "lt_log.h"
#include "lt_pg.h"
#include "lt_plan.h"
#include "lt_registry.h"
#include "lt_sink_metrics.h"
#include "lt_status_page.h"
#include "lt_store.h"
#include "lt_systemd.h"
#include "lt_topic.h"
#include "lt_units.h"
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
    OPT("sink", "round_max_bytes", LT_CONF_INT, "1572864", round_max_bytes, 1024, 1073741824,
        "message bytes per round at most: the sink holds two rounds (one committing, the next"
        " being planned), so this bounds its memory whatever the backlog"),
    OPT("sink", "max_message_bytes", LT_CONF_INT, "4194304", max_message_bytes, 65536, 100000000,
        "the largest Kafka message of a commune: provision sets each events topic's"
        " max.message.bytes to it, agents cut their batches below it, larger messages are"
        " quarantined without being decoded"),
    OPT("sink", "instance_id", LT_CONF_STR, NULL, instance_id, 0, 0,
        "static consumer-group member id (group.instance.id), unique per sink; unset ="
        " dynamic membership"),
    OPT("sink", "allow_integrity_only", LT_CONF_BOOL, "true", allow_integrity_only, 0, 1,
        "accept \"sha256:\" batches from communes with no registered key"),
    OPT("sink", "stats_interval_s", LT_CONF_INT, "30", stats_interval_s, 0, 86400,
        "seconds between progress lines (0 = off)"),
    OPT("sink", "heartbeat_interval_s", LT_CONF_INT, "15", heartbeat_interval_s, 1, 3600,
        "the agents' heartbeat interval: a commune unheard for 6 of them is OFFLINE"),
    OPT("sink", "lag_warn_s", LT_CONF_INT, "600", lag_warn_s, 1, 864000,
        "a commune whose oldest event not yet applied is older than this is LAGGING"),
    OPT("sink", "stalled_after_s", LT_CONF_INT, "120", stalled_after_s, 1, 864000,
        "data waiting and nothing applied for this long: STALLED"),
    OPT("sink", "skew_max_s", LT_CONF_INT, "120", skew_max_s, 1, 864000,
        "an agent clock off by more than this is SKEWED"),
    OPT("sink", "idle_after_s", LT_CONF_INT, "3600", idle_after_s, 1, 864000,
        "heard from, nothing waiting and nothing applied for this long: IDLE"),
    OPT("sink", "confirm_interval_s", LT_CONF_INT, "60", confirm_interval_s, 0, 86400,
        "tell each commune, this often, the newest sequence its digest was found equal with no"
        " gap open (its agent then purges old sent rows); 0 = never"),
    OPT("sink", "retention_days", LT_CONF_INT, "30", retention_days, 0, 36500,
        "how long provisioned topics keep records (retention.ms); records the province has not"
        " read by then become gaps that repair asks for again; 0 = forever"),
    OPT("sink", "replication_factor", LT_CONF_INT, "-1", replication_factor, -1, 16,
        "replication factor of provisioned topics (-1 = broker default)"),
    OPT("sink", "http_listen", LT_CONF_STR, NULL, http_listen, 0, 0,
        "HOST:PORT serving the status page /, /status.json, /metrics, /healthz and /readyz"
        " (e.g. 127.0.0.1:9465); unset = no HTTP port"),
    {NULL, NULL, 0, NULL, 0, 0, 0, NULL},
};

/* A poll round: the Kafka messages it holds and its plan. The sink has two:
 * while the committer commits one, the other is collected and planned. */
typedef struct lt_round {
    rd_kafka_message_t **held;
    size_t n_held;
    lt_msg_t *msgs;
    lt_plan_t *plan;
    int planned;       /* plan holds msgs, ready to commit */
    double started;    /* its collection ended (the round histogram) */
    double tx_started; /* its commit began (the transaction histogram) */
} lt_round_t;

typedef struct lt_sink {
    const lt_sink_conf_t *sc;
    rd_kafka_t *rk;
    PGconn *pg;       /* everything but rounds: communes, offsets, LISTEN, figures */
    PGconn *apply_pg; /* the rounds' transactions, on the committer's thread when pipelined */
    lt_units_t *units;
    lt_registry_t *registry; /* the communes, as the province database knows them */
    lt_round_t rounds[2];
    lt_round_t *filling;   /* the round being collected and planned */
    lt_round_t *in_flight; /* the round the committer commits, or NULL */
    lt_committer_t *committer;
    int fatal; /* a permanent error was logged: the loop ends, the process exits 1 */
    lt_sink_metrics_t *metrics;
    lt_status_page_t *page; /* "/" and /status.json on the metrics' HTTP port */
    lt_confirm_t *confirm;  /* digest confirmations to the communes */
} lt_sink_t;

/* Before each scrape: the communes' health as status judges it, from the
 * page's document (its own connections, gathered at most every few seconds). */
static void lt_sink_scrape(void *opaque)
{
    lt_sink_t *sink = opaque;
    if (sink->page)
        lt_status_page_each_commune(sink->page, lt_sink_metrics_health, sink->metrics);
}

/* What an operator can do about a permanent database error. */
static const char *lt_sink_pg_hint(const char *errstr)
{
    if (strstr(errstr, "42P01") || strstr(errstr, "42703") || strstr(errstr, "3F000"))
        return "the province schema is missing or older than this sink: run lienthong-sink migrate";
    if (strstr(errstr, "28P01") || strstr(errstr, "28000"))
        return "check the user and password in sink.postgres";
    if (strstr(errstr, "3D000"))
        return "the database named in sink.postgres does not exist";
    if (strstr(errstr, "42501"))
        return "the sink's database user lacks a privilege on the lt schema";
    return "fix the cause and start the sink again; nothing was applied from the failed round";
}

/* A failed statement or connection: wait for the server and reconnect when
 * that can help (returns 0 to try again); otherwise log, mark the sink fatal
 * and return -1. Also -1 on a stop request. */
static int lt_sink_pg_trouble(lt_sink_t *sink, PGconn *pg, lt_pg_rc_t rc, const char *during,
                              const char *errstr, int *backoff)
{
    if (rc != LT_PG_RETRY) {
        lt_error("province database refused the sink: stopping", "during=%s error=\"%s\" hint=\"%s\"",
                 during, errstr, lt_sink_pg_hint(errstr));
        sink->fatal = 1;
        return -1;
    }
    if (*backoff == 200)
        lt_warn("province database unavailable, waiting for it", "during=%s error=\"%s\"", during,
                errstr);
    lt_sink_metrics_database(sink->metrics, 0);
    lt_pg_pause(sink->sc->postgres, backoff);
    lt_systemd_watchdog(); /* waiting out an outage is the loop turning */
    if (lt_stop_requested)
        return -1;
    char again[1024];
    rc = lt_pg_ensure(pg, again, sizeof(again));
    if (rc == LT_PG_FATAL) {
        lt_error("province database refuses the sink: stopping", "error=\"%s\" hint=\"%s\"", again,
                 lt_sink_pg_hint(again));
        sink->fatal = 1;
        return -1;
    }
    if (rc == LT_PG_OK)
        lt_info("province database back", "during=%s", during);
    return 0;
}

static void lt_sink_settle(lt_sink_t *sink, int recover);

/* Forget both rounds' plans (their communes were the registry's before). */
static void lt_sink_void_plans(lt_sink_t *sink)
{
    for (int i = 0; i < 2; i++) {
        lt_plan_reset(sink->rounds[i].plan);
        sink->rounds[i].planned = 0;
    }
}

/* Reload communes, their progress and open gaps, and listen for communes
 * provisioned from now on; waits while the database is away. The registry
 * changes only while no round is in flight. */
static int lt_sink_reload(lt_sink_t *sink)
{
    char errstr[1024];
    int backoff = 200;
    lt_sink_settle(sink, 1);
    for (;;) {
        lt_pg_rc_t rc = lt_store_listen_communes(sink->pg, errstr, sizeof(errstr));
        if (rc == LT_PG_OK)
            rc = lt_store_load_registry(sink->pg, sink->registry, errstr, sizeof(errstr));
        lt_sink_void_plans(sink);
        if (rc == LT_PG_OK)
            return 0;
        if (lt_sink_pg_trouble(sink, sink->pg, rc, "load communes", errstr, &backoff) != 0)
            return -1;
    }
}

/* Set each partition's start from the offsets the province stored; unknown
 * ones start at the beginning. */
/* Records the topic's retention deleted before the province read them
 * (the sink was away longer than the retention): reading resumes at the
 * first one left, the missing sequences become a gap at the next batch, and
 * `lienthong-reconcile repair` asks the commune for them (it keeps every row
 * the province has not confirmed). Said loudly, never skipped in silence. */
static void lt_sink_check_expired(lt_sink_t *sink, const rd_kafka_topic_partition_t *p)
{
    int64_t low, high;
    if (p->offset < 0 || rd_kafka_query_watermark_offsets(sink->rk, p->topic, p->partition, &low,
                                                          &high, 5000) != 0 ||
        low <= p->offset)
        return;
    lt_error("records deleted by the topic's retention before the province read them: their"
             " events show as a gap; lienthong-reconcile repair asks the commune again",
             "topic=%s partition=%" PRId32 " stored_offset=%" PRId64 " first_offset=%" PRId64
             " records_lost=%" PRId64, p->topic, p->partition, p->offset, low, low - p->offset);
    lt_sink_metrics_expired(sink->metrics, p->topic, low - p->offset);
}

static int lt_sink_seek_from_pg(lt_sink_t *sink, rd_kafka_topic_partition_list_t *parts)
{
    char errstr[1024];
    int backoff = 200;
    lt_store_offsets_t *offsets = NULL;
    lt_pg_rc_t rc;
    while ((rc = lt_store_read_offsets(sink->pg, &offsets, errstr, sizeof(errstr))) != LT_PG_OK)
        if (lt_sink_pg_trouble(sink, sink->pg, rc, "read offsets", errstr, &backoff) != 0)
            return -1;
    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *p = &parts->elems[i];
        p->offset = lt_store_offset_of(offsets, p->topic, p->partition, RD_KAFKA_OFFSET_BEGINNING);
        lt_info("partition assigned", "topic=%s partition=%" PRId32 " start_offset=%" PRId64,
                p->topic, p->partition, p->offset);
        lt_sink_check_expired(sink, p);
    }
    lt_store_offsets_destroy(offsets);
    return 0;
}

static void lt_sink_drop_held(lt_round_t *r)
{
    for (size_t i = 0; i < r->n_held; i++)
        rd_kafka_message_destroy(r->held[i]);
    r->n_held = 0;
    r->planned = 0;
}

static void lt_sink_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                                 rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    lt_sink_t *sink = opaque;
    /* A round in flight ends first: committed, its offsets go to Kafka; failed,
     * it is dropped (the offsets in PostgreSQL did not move). */
    lt_sink_settle(sink, 0);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        /* PostgreSQL, not Kafka, says where each partition resumes. */
        if (lt_sink_reload(sink) != 0 || lt_sink_seek_from_pg(sink, parts) != 0) {
            rd_kafka_assign(rk, NULL); /* stopping: read nothing */
            return;
        }
        rd_kafka_assign(rk, parts);
        lt_info("partitions assigned", "count=%d", parts->cnt); /* 0: the others hold them all */
        lt_sink_metrics_assignment(sink->metrics, parts);
    } else {
        /* Messages held for this round are re-read by the next owner from the
         * offsets in PostgreSQL; dropping them loses nothing. */
        lt_info("partitions revoked", "count=%d held_messages=%zu", parts->cnt,
                sink->filling->n_held);
        lt_sink_drop_held(sink->filling);
        rd_kafka_assign(rk, NULL);
        lt_sink_metrics_assignment(sink->metrics, NULL);
    }
}

/* librdkafka's statistics, every statistics.interval.ms, on the sink's thread. */
static int lt_sink_stats_cb(rd_kafka_t *rk, char *json, size_t json_len, void *opaque)
{
    (void)rk;
    lt_sink_metrics_kafka_stats(((lt_sink_t *)opaque)->metrics, json, json_len);
    return 0; /* librdkafka frees json */
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
    /* Memory bounded whatever the backlog (bench/README.md, "Memory"): a
     * fetch brings at most 2 MB (the broker still returns a partition's first
     * batch whole, however large, so a message up to max_message_bytes
     * always comes through), at most 4 MB wait prefetched, and the two rounds
     * hold the rest (round_max_bytes each). */
    /* Dynamic membership by default: a sink that stops leaves the group, so
     * the next one (or the same, restarted) gets a fresh assignment that
     * covers every commune topic, new ones included. A static member id
     * (sink.instance_id) resumes at once after a crash, but a member coming
     * back with it gets its old assignment, without communes provisioned
     * meanwhile, until the next rebalance. */
    const char *const defaults[][2] = {{"auto.offset.reset", "earliest"},
                                       {"topic.metadata.refresh.interval.ms", "10000"},
                                       {"fetch.max.bytes", "2097152"},
                                       {"fetch.message.max.bytes", "1048576"},
                                       {"queued.max.messages.kbytes", "4096"},
                                       {"session.timeout.ms", "10000"},
                                       /* Every commune topic has one partition: the
                                        * default range assignor gives each to the
                                        * first member, so a second sink would idle. */
                                       {"partition.assignment.strategy", "roundrobin"},
                                       {"group.instance.id", sink->sc->instance_id}};
    for (size_t i = 0; i < sizeof(defaults) / sizeof(*defaults); i++)
        if (defaults[i][1] && !lt_conf_kafka_get(conf, defaults[i][0]) &&
            lt_kafka_conf_set(kc, defaults[i][0], defaults[i][1], errstr, errstr_size))
            goto fail;
    rd_kafka_conf_set_rebalance_cb(kc, lt_sink_rebalance_cb);
    rd_kafka_conf_set_stats_cb(kc, lt_sink_stats_cb);
    if (lt_kafka_stats_enable(kc, conf, errstr, errstr_size) != 0)
        goto fail;
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
    char pattern[LT_TOPIC_NAME_MAX];
    if (lt_topic_pattern(pattern, sizeof(pattern), sink->sc->province, LT_TOPIC_EVENTS) != 0)
        return lt_err(errstr, errstr_size, "province code \"%s\" is too long", sink->sc->province);
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

/* Kafka errors that no waiting heals end the sink (the supervisor restarts
 * it): a fenced static member, a refused authorization, a fatal client. */
static int lt_sink_kafka_fatal(lt_sink_t *sink, rd_kafka_resp_err_t err, const char *what)
{
    char reason[512];
    if (rd_kafka_fatal_error(sink->rk, reason, sizeof(reason))) {
        lt_error("Kafka consumer failed for good: stopping", "error=\"%s\"%s", reason,
                 strstr(reason, "enced") ? " hint=\"another sink uses the same group.instance.id"
                                           " (sink.instance_id): give each sink its own\""
                                         : "");
        return sink->fatal = 1;
    }
    if (err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
        err == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED ||
        err == RD_KAFKA_RESP_ERR__AUTHENTICATION || err == RD_KAFKA_RESP_ERR__SSL) {
        lt_error("Kafka refused the sink: stopping", "error=\"%s\"", what);
        return sink->fatal = 1;
    }
    return 0;
}

static void lt_sink_consumer_error(lt_sink_t *sink, const rd_kafka_message_t *m)
{
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF)
        return;
    if (lt_sink_kafka_fatal(sink, m->err, rd_kafka_message_errstr(m)))
        return;
    lt_warn("consumer error", "topic=%s error=\"%s\"", m->rkt ? rd_kafka_topic_name(m->rkt) : "-",
            rd_kafka_message_errstr(m));
}

/* Collect up to round_max_messages within round_max_ms, or until the queue is
 * quiet. */
static void lt_sink_collect(lt_sink_t *sink, lt_round_t *r)
{
    int64_t deadline = lt_monotonic_ms() + sink->sc->round_max_ms;
    size_t bytes = 0;
    while ((long)r->n_held < sink->sc->round_max_messages &&
           (long)bytes < sink->sc->round_max_bytes && !lt_stop_requested && !sink->fatal) {
        int64_t left = deadline - lt_monotonic_ms();
        if (left <= 0)
            break;
        /* Once something is held, a quiet queue ends the round: waiting out
         * round_max_ms would only add latency at moderate rates. While the
         * round before still commits, the queue refills (it holds little, to
         * bound memory): keep collecting until that commit ends. */
        int wait = r->n_held ? (left < 5 ? (int)left : 5) : (int)left;
        rd_kafka_message_t *m = rd_kafka_consumer_poll(sink->rk, wait);
        if (!m && r->n_held && (!sink->in_flight || lt_committer_finished(sink->committer)))
            break;
        if (!m)
            continue;
        if (m->err) {
            lt_sink_consumer_error(sink, m);
            rd_kafka_message_destroy(m);
            continue;
        }
        bytes += m->len;
        r->held[r->n_held++] = m;
    }
    r->started = lt_sink_metrics_now();
}

static int lt_sink_has_unknown_topic(const lt_sink_t *sink, const lt_round_t *r)
{
    for (size_t i = 0; i < r->n_held; i++)
        if (!lt_registry_by_topic(sink->registry, rd_kafka_topic_name(r->held[i]->rkt)))
            return 1;
    return 0;
}

static void lt_sink_build_msgs(lt_round_t *r)
{
    for (size_t i = 0; i < r->n_held; i++) {
        rd_kafka_message_t *m = r->held[i];
        r->msgs[i] = (lt_msg_t){.topic = rd_kafka_topic_name(m->rkt),
                                   .partition = m->partition,
                                   .offset = m->offset,
                                   .key = m->key,
                                   .key_len = m->key_len,
                                   .value = m->payload,
                                   .len = m->len};
    }
}

/* Copy the applied positions to Kafka so standard lag tools see them. */
static void lt_sink_commit_kafka(lt_sink_t *sink, const lt_round_t *r)
{
    rd_kafka_topic_partition_list_t *offs = rd_kafka_topic_partition_list_new((int)r->n_held);
    for (size_t i = 0; i < r->n_held; i++) {
        rd_kafka_message_t *m = r->held[i];
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

static void lt_sink_log_round(const lt_sink_t *sink, size_t messages, size_t events,
                              size_t quarantined)
{
    lt_debug("round applied", "messages=%zu events=%zu quarantined=%zu", messages, events,
             quarantined);
    if (quarantined)
        lt_warn("messages quarantined, see lienthong-reconcile quarantine list",
                "count=%zu", quarantined);
    (void)sink;
}

/* The round's plan is committed: its progress becomes the registry's. */
static void lt_sink_plan_committed(lt_sink_t *sink, lt_round_t *r)
{
    lt_plan_counts_t planned = lt_plan_counts(r->plan);
    lt_sink_metrics_committed(sink->metrics, r->plan, sink->registry, r->tx_started);
    lt_plan_committed(r->plan);
    lt_fault_point("sink.after_commit");
    lt_sink_log_round(sink, planned.offsets, planned.events, planned.quarantined);
}

/* Commit the round's plan in one transaction, on this thread. The plan is
 * reset either way. */
static lt_pg_rc_t lt_sink_store_plan(lt_sink_t *sink, lt_round_t *r, char *errstr,
                                     size_t errstr_size)
{
    r->tx_started = lt_sink_metrics_now();
    lt_pg_rc_t rc = lt_store_commit(sink->apply_pg, r->plan, errstr, errstr_size);
    if (rc == LT_PG_OK)
        lt_sink_plan_committed(sink, r);
    else
        lt_plan_reset(r->plan);
    return rc;
}

/* Plan and commit msgs[0..n) of the round as one transaction. */
static lt_pg_rc_t lt_sink_commit_msgs(lt_sink_t *sink, lt_round_t *r, const lt_msg_t *msgs,
                                      size_t n, char *errstr, size_t errstr_size)
{
    lt_plan_messages(r->plan, msgs, n, LT_PLAN_NORMAL);
    return lt_sink_store_plan(sink, r, errstr, errstr_size);
}

/* One message whose data PostgreSQL refuses goes to quarantine with the
 * database's reason, so it never blocks the messages behind it. */
static lt_pg_rc_t lt_sink_quarantine_refused(lt_sink_t *sink, lt_round_t *r, const lt_msg_t *msg,
                                             const char *reason, char *errstr,
                                             size_t errstr_size)
{
    lt_error("province database refused a message's data: quarantined",
             "topic=%s offset=%" PRId64 " error=\"%s\"", msg->topic, msg->offset, reason);
    lt_plan_reset(r->plan);
    lt_plan_refused(r->plan, msg, "refused_by_database", reason);
    return lt_sink_store_plan(sink, r, errstr, errstr_size);
}

/* PostgreSQL refused the data of a round (class 22 or 23): apply its
 * messages one at a time; the one it still refuses is quarantined. */
static int lt_sink_isolate(lt_sink_t *sink, lt_round_t *r)
{
    char errstr[1024];
    lt_warn("province database refused a round's data: applying its messages one by one",
            "messages=%zu", r->n_held);
    for (size_t i = 0; i < r->n_held; i++) {
        int backoff = 200;
        for (;;) {
            lt_pg_rc_t rc = lt_sink_commit_msgs(sink, r, &r->msgs[i], 1, errstr, sizeof(errstr));
            if (rc == LT_PG_DATA) {
                char reason[1024];
                lt_strlcpy(reason, errstr, sizeof(reason));
                rc = lt_sink_quarantine_refused(sink, r, &r->msgs[i], reason, errstr,
                                                sizeof(errstr));
            }
            if (rc == LT_PG_OK)
                break;
            if (lt_sink_pg_trouble(sink, sink->apply_pg, rc, "apply one message", errstr,
                                   &backoff) != 0 ||
                lt_sink_reload(sink) != 0)
                return -1;
        }
    }
    return 0;
}

/* The round's commit failed with rc. Database outages are waited out, never
 * quarantined; refused data is isolated to its message; anything else stops
 * the sink. Returns 0 once the round is applied. */
static int lt_sink_retry_round(lt_sink_t *sink, lt_round_t *r, lt_pg_rc_t rc, char *errstr,
                               size_t errstr_size)
{
    int backoff = 200, data_refusals = 0;
    for (;;) {
        if (rc == LT_PG_DATA && data_refusals++ == 0) {
            /* The known progress may be stale (a replay by another process):
             * plan once more from the database before blaming a message. */
            lt_warn("province database refused the round's data; reloading and trying again",
                    "error=\"%s\"", errstr);
        } else if (rc == LT_PG_DATA) {
            return lt_sink_reload(sink) != 0 ? -1 : lt_sink_isolate(sink, r);
        } else if (lt_sink_pg_trouble(sink, sink->apply_pg, rc, "apply round", errstr,
                                      &backoff) != 0) {
            return -1; /* not applied: re-read from the stored offsets next start */
        }
        if (lt_sink_reload(sink) != 0)
            return -1;
        lt_sink_build_msgs(r);
        rc = lt_sink_commit_msgs(sink, r, r->msgs, r->n_held, errstr, errstr_size);
        if (rc == LT_PG_OK)
            return 0;
    }
}

/* The round is applied: its offsets go to Kafka, its messages are let go. */
static void lt_sink_round_applied(lt_sink_t *sink, lt_round_t *r)
{
    lt_sink_commit_kafka(sink, r);
    lt_sink_metrics_round(sink->metrics, r->started);
    lt_sink_drop_held(r);
}

/* Wait for the round in flight. Committed: its progress becomes the
 * registry's. Failed: the round planned on top of it is void, and the round
 * is retried here (recover) or dropped (its partitions are being revoked;
 * the offsets in PostgreSQL did not move, so nothing is lost). */
static void lt_sink_settle(lt_sink_t *sink, int recover)
{
    lt_round_t *r = sink->in_flight;
    if (!r)
        return;
    sink->in_flight = NULL;
    char errstr[1024];
    lt_pg_rc_t rc = lt_committer_wait(sink->committer, errstr, sizeof(errstr));
    if (rc == LT_PG_OK) {
        lt_sink_plan_committed(sink, r);
        lt_sink_round_applied(sink, r);
        return;
    }
    lt_plan_reset(r->plan);
    lt_plan_reset(sink->filling->plan);
    sink->filling->planned = 0;
    if (recover && lt_sink_retry_round(sink, r, rc, errstr, sizeof(errstr)) == 0) {
        lt_sink_round_applied(sink, r);
        return;
    }
    if (!recover)
        lt_warn("round not applied: its partitions are revoked; the next owner reads it again",
                "messages=%zu error=\"%s\"", r->n_held, errstr);
    lt_sink_drop_held(r);
}

/* Plan the round just collected on top of the one in flight, while that one
 * commits. A message of a commune provisioned meanwhile waits for launch. */
static void lt_sink_plan_ahead(lt_sink_t *sink, lt_round_t *r)
{
    if (lt_sink_has_unknown_topic(sink, r))
        return;
    lt_sink_build_msgs(r);
    lt_plan_messages_after(r->plan, sink->in_flight ? sink->in_flight->plan : NULL, r->msgs,
                           r->n_held);
    r->planned = 1;
}

/* Hand the round to the committer (nothing is in flight); the next round is
 * collected into the other one meanwhile. */
static void lt_sink_launch(lt_sink_t *sink, lt_round_t *r)
{
    if (!r->planned) {
        if (lt_sink_has_unknown_topic(sink, r) && lt_sink_reload(sink) != 0) {
            lt_sink_drop_held(r); /* stopping */
            return;
        }
        lt_sink_build_msgs(r);
        lt_plan_messages(r->plan, r->msgs, r->n_held, LT_PLAN_NORMAL);
    }
    r->planned = 0;
    r->tx_started = lt_sink_metrics_now();
    lt_committer_start(sink->committer, sink->apply_pg, r->plan);
    sink->in_flight = r;
    sink->filling = r == &sink->rounds[0] ? &sink->rounds[1] : &sink->rounds[0];
}

/* `lienthong-sink provision` and `lienthong-reconcile merge` notify
 * lt_commune: pick up the commune's key, progress or retirement, and ask
 * Kafka for its topic now rather than at the next metadata refresh. */
static void lt_sink_check_new_communes(lt_sink_t *sink)
{
    int notified = 0;
    char code[64];
    while (lt_store_next_registered(sink->pg, code, sizeof(code))) {
        lt_info("commune provisioned", "commune=%s", code);
        notified = 1;
    }
    if (!notified || lt_sink_reload(sink) != 0)
        return;
    const struct rd_kafka_metadata *md;
    if (rd_kafka_metadata(sink->rk, 1, NULL, &md, 5000) == RD_KAFKA_RESP_ERR_NO_ERROR)
        rd_kafka_metadata_destroy(md);
}

static void lt_sink_log_stats(const lt_sink_t *sink)
{
    const lt_plan_t *plan = sink->rounds[0].plan;
    lt_plan_stats_t s = plan ? lt_plan_stats(plan) : (lt_plan_stats_t){0};
    lt_info("progress",
            "rounds=%" PRIu64 " messages=%" PRIu64 " batches=%" PRIu64 " events=%" PRIu64
            " duplicates_skipped=%" PRIu64 " gaps=%" PRIu64 " gap_fills=%" PRIu64
            " quarantined=%" PRIu64,
            s.rounds, s.messages, s.batches_applied, s.events_applied,
            s.duplicates_skipped, s.gaps, s.gap_fills, s.quarantined);
}

static void lt_sink_reload_conf(const lt_conf_t *conf)
{
    char errstr[1024];
    lt_reload_requested = 0;
    if (lt_conf_reload_log_level(conf, errstr, sizeof(errstr)) != 0)
        lt_error("SIGHUP: configuration not reloaded, the running one stays", "error=\"%s\"",
                 errstr);
    else
        lt_info("SIGHUP: log level reloaded; other options take effect at the next start",
                "file=%s", conf->path ? conf->path : "-");
}

/* The connection broke while no round needed it (an idle sink sees it only
 * through its metrics): reconnect now, so readiness, LISTEN and the
 * figures come back with the server rather than with the next message. */
static void lt_sink_reconnect_idle(lt_sink_t *sink)
{
    char errstr[1024];
    if (lt_pg_ensure(sink->pg, errstr, sizeof(errstr)) != LT_PG_OK)
        return; /* still away; a round that needs it waits for it */
    lt_info("province database back", "during=idle");
    lt_sink_reload(sink);
}

static void lt_sink_loop(lt_sink_t *sink, const lt_conf_t *conf)
{
    int64_t next_stats = lt_monotonic_ms() + sink->sc->stats_interval_s * 1000;
    while (!lt_stop_requested && !sink->fatal) {
        lt_systemd_watchdog();
        if (lt_reload_requested)
            lt_sink_reload_conf(conf);
        lt_round_t *r = sink->filling;
        lt_sink_collect(sink, r);
        if (r->n_held && !sink->fatal)
            lt_sink_plan_ahead(sink, r);
        lt_sink_settle(sink, 1);
        if (r->n_held && !sink->fatal)
            lt_sink_launch(sink, r);
        else
            lt_sink_drop_held(r);
        if (!sink->fatal)
            lt_sink_check_new_communes(sink);
        if (!sink->fatal)
            lt_confirm_tick(sink->confirm, sink->pg);
        if (!sink->fatal)
            lt_sink_kafka_fatal(sink, RD_KAFKA_RESP_ERR_NO_ERROR, "");
        if (!sink->fatal && lt_sink_metrics_tick(sink->metrics, sink->rounds[0].plan, sink->rk,
                                                 sink->pg, sink->registry))
            lt_sink_reconnect_idle(sink);
        if (sink->sc->stats_interval_s && lt_monotonic_ms() >= next_stats) {
            lt_sink_log_stats(sink);
            next_stats = lt_monotonic_ms() + sink->sc->stats_interval_s * 1000;
        }
    }
    lt_sink_settle(sink, 0); /* the last round commits or is read again next start */
}

static int lt_sink_connect(lt_sink_t *sink, PGconn **pg, char *errstr, size_t errstr_size)
{
    int backoff = 200, waiting = 0;
    lt_pg_rc_t rc;
    while (!(*pg = lt_pg_open(sink->sc->postgres, "lienthong-sink", &rc, errstr,
                              errstr_size))) {
        if (rc != LT_PG_RETRY)
            return -1;
        if (!waiting++)
            lt_warn("province database unavailable, waiting for it", "error=\"%s\"", errstr);
        lt_pg_pause(sink->sc->postgres, &backoff);
        if (lt_stop_requested)
            return lt_err(errstr, errstr_size, "stopped before the database answered");
    }
    return 0;
}

static int lt_sink_open(lt_sink_t *sink, const lt_conf_t *conf, char *errstr,
                        size_t errstr_size)
{
    if (lt_sink_connect(sink, &sink->pg, errstr, errstr_size) != 0 ||
        lt_sink_connect(sink, &sink->apply_pg, errstr, errstr_size) != 0)
        return -1;
    sink->units = lt_units_open(sink->sc->units_file, errstr, errstr_size);
    if (!sink->units)
        return -1;
    sink->registry = lt_registry_new(sink->sc->province);
    sink->rounds[0].plan = lt_plan_new(sink->registry, (size_t)sink->sc->max_message_bytes,
                                       sink->sc->allow_integrity_only, sink->units);
    sink->rounds[1].plan = lt_plan_new_twin(sink->rounds[0].plan);
    sink->filling = &sink->rounds[0];
    if (!(sink->committer = lt_committer_new()))
        return lt_err(errstr, errstr_size, "cannot start the committer thread");
    if (lt_sink_reload(sink) != 0)
        return lt_err(errstr, errstr_size, "%s", sink->fatal ? "the province database refused"
                                                              " the sink (see above)"
                                                            : "stopped before the database answered");
    for (int i = 0; i < 2; i++) {
        lt_round_t *r = &sink->rounds[i];
        r->held = calloc((size_t)sink->sc->round_max_messages, sizeof(*r->held));
        r->msgs = calloc((size_t)sink->sc->round_max_messages, sizeof(*r->msgs));
        if (!r->held || !r->msgs)
            abort();
    }
    if (lt_sink_kafka_new(sink, conf, errstr, errstr_size) != 0)
        return -1;
    sink->confirm = lt_confirm_new(&conf->kafka, sink->sc->province,
                                   sink->sc->confirm_interval_s, errstr, errstr_size);
    if (!sink->confirm && sink->sc->confirm_interval_s)
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
    sink.metrics = lt_sink_metrics_new(sc->province);
    sink.page = lt_status_page_new(lt_sink_metrics_http(sink.metrics), conf, sc);
    lt_sink_metrics_on_scrape(sink.metrics, lt_sink_scrape, &sink);
    if (lt_sink_metrics_listen(sink.metrics, sc->http_listen, errstr, sizeof(errstr)) != 0) {
        lt_error("sink cannot start: sink.http_listen", "province=%s error=\"%s\"", sc->province,
                 errstr);
        rc = 2; /* a configuration error */
    } else if (lt_sink_open(&sink, conf, errstr, sizeof(errstr)) != 0) {
        lt_error("sink cannot start", "province=%s error=\"%s\" hint=\"%s\"", sc->province,
                 errstr, lt_sink_pg_hint(errstr));
        rc = 1;
    } else {
        lt_info("sink started", "province=%s communes=%zu instance_id=%s", sc->province,
                lt_registry_count(sink.registry), sc->instance_id ? sc->instance_id : "-");
        lt_systemd_ready("province %s: subscribed, %zu communes", sc->province,
                         lt_registry_count(sink.registry));
        lt_sink_loop(&sink, conf);
        rc = sink.fatal ? 1 : 0;
        lt_systemd_stopping("province %s: stopping, closing the consumer", sc->province);
        lt_info("stopping: closing the consumer", "province=%s", sc->province);
    }
    lt_sink_settle(&sink, 0);
    lt_committer_destroy(sink.committer);
    for (int i = 0; i < 2; i++)
        lt_sink_drop_held(&sink.rounds[i]);
    if (sink.rk) {
        rd_kafka_consumer_close(sink.rk);
        rd_kafka_destroy(sink.rk);
    }
    lt_sink_log_stats(&sink);
    lt_confirm_destroy(sink.confirm);
    lt_plan_destroy(sink.rounds[1].plan); /* the twin first */
    lt_plan_destroy(sink.rounds[0].plan);
    lt_registry_destroy(sink.registry);
    lt_units_destroy(sink.units);
    for (int i = 0; i < 2; i++) {
        free(sink.rounds[i].held);
        free(sink.rounds[i].msgs);
    }
    PQfinish(sink.apply_pg);
    PQfinish(sink.pg);
    lt_sink_metrics_destroy(sink.metrics); /* stops the HTTP server first */
    lt_status_page_destroy(sink.page);
    return rc;
}
