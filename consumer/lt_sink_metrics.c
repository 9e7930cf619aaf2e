#include "lt_sink_metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lt_http.h"
#include "lt_kafka_stats.h"
#include "lt_log.h"
#include "lt_metrics.h"
#include "lt_plan.h"
#include "lt_registry.h"
#include "lt_store.h"
#include "lt_util.h"

/* A round: tens of milliseconds at moderate rates, seconds under load or
 * while the database is slow. */
static const double lt_sink_round_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
                                               1,     2.5,  5,     10,   30,  60};
static const double lt_sink_tx_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                            0.25,  0.5,    1,     2.5,  5,     10,   30};

enum {
    SM_INFO,
    SM_LOOP_AGE,
    SM_DATABASE_UP,
    SM_KAFKA_BROKERS_UP,
    SM_GROUP_ASSIGNED,
    SM_ASSIGNED_PARTITIONS,
    SM_ROUNDS,
    SM_MESSAGES,
    SM_BATCHES,
    SM_EVENTS,
    SM_DUPLICATES,
    SM_GAPS,
    SM_GAP_FILLS,
    SM_QUARANTINED,
    SM_RECORDS_EXPIRED,
    SM_DIGESTS_COMPARED,
    SM_DIGESTS_SKIPPED,
    SM_ROUND_SECONDS,
    SM_TX_SECONDS,
    SM_KAFKA_RX_MESSAGES,
    SM_KAFKA_RX_BYTES,
    SM_KAFKA_REBALANCES,
    SM_KAFKA_RTT,
    /* per commune */
    SM_C_EVENTS,
    SM_C_LAST_SEQ,
    SM_C_LAG_RECORDS,
    SM_C_APPLIED_AGE,
    SM_C_MISSING,
    SM_C_QUARANTINED,
    SM_C_DIGEST_DIVERGED,
    /* per commune, from heartbeats (lt_sink_metrics_heartbeat) */
    SM_C_HEARTBEAT_AGE,
    SM_C_BACKLOG,
    SM_C_OLDEST_UNSENT_AGE,
    SM_C_HEALTH,
    SM_C_LAG_SECONDS,
    SM_COUNT
};

#define G LT_METRIC_GAUGE
#define C LT_METRIC_COUNTER
#define A LT_METRIC_AGE
#define H LT_METRIC_HISTOGRAM

static const lt_metric_def_t lt_sink_metric_defs[SM_COUNT] = {
    [SM_INFO] = {"lienthong_sink_info", G, "province", "1, labelled with the sink's province"},
    [SM_LOOP_AGE] = {"lienthong_sink_loop_age_seconds", A, NULL,
                     "seconds since the sink's loop last ran (/healthz fails above 60)"},
    [SM_DATABASE_UP] = {"lienthong_sink_database_up", G, NULL,
                        "1 while the province database answers the sink, 0 while it is away"},
    [SM_KAFKA_BROKERS_UP] = {"lienthong_sink_kafka_brokers_up", G, NULL,
                             "Kafka brokers the consumer is connected to (librdkafka statistics)"},
    [SM_GROUP_ASSIGNED] = {"lienthong_sink_kafka_group_assigned", G, NULL,
                           "1 once the consumer group gave the sink its partitions (maybe none),"
                           " 0 before and during a rebalance"},
    [SM_ASSIGNED_PARTITIONS] = {"lienthong_sink_kafka_assigned_partitions", G, NULL,
                                "commune partitions assigned to this sink"},
    [SM_ROUNDS] = {"lienthong_sink_rounds_total", C, NULL,
                   "rounds committed (one PostgreSQL transaction each)"},
    [SM_MESSAGES] = {"lienthong_sink_messages_total", C, NULL,
                     "Kafka messages whose round committed (applied, skipped or quarantined)"},
    [SM_BATCHES] = {"lienthong_sink_batches_applied_total", C, NULL, "batches applied"},
    [SM_EVENTS] = {"lienthong_sink_events_applied_total", C, NULL, "events applied"},
    [SM_DUPLICATES] = {"lienthong_sink_duplicate_batches_skipped_total", C, NULL,
                       "batches skipped because the province held every event already"},
    [SM_GAPS] = {"lienthong_sink_gaps_opened_total", C, NULL,
                 "sequence jumps recorded as gaps (lt.seq_gap)"},
    [SM_GAP_FILLS] = {"lienthong_sink_gap_fill_events_total", C, NULL,
                      "late events applied into an open gap"},
    [SM_QUARANTINED] = {"lienthong_sink_messages_quarantined_total", C, NULL,
                        "messages put in quarantine (lt.quarantine)"},
    [SM_RECORDS_EXPIRED] = {"lienthong_sink_records_expired_total", C, NULL,
                            "records a topic's retention deleted before the sink read them"
                            " (their events become gaps until repaired)"},
    [SM_DIGESTS_COMPARED] = {"lienthong_sink_digests_compared_total", C, NULL,
                             "commune digests compared with the province's"},
    [SM_DIGESTS_SKIPPED] = {"lienthong_sink_digests_skipped_total", C, NULL,
                            "commune digests not compared (later events in the same round)"},
    [SM_ROUND_SECONDS] = {"lienthong_sink_round_duration_seconds", H, NULL,
                          "time to apply a round once its messages are collected: plan,"
                          " transaction, retries, Kafka offset commit",
                          lt_sink_round_buckets, sizeof(lt_sink_round_buckets) / sizeof(double)},
    [SM_TX_SECONDS] = {"lienthong_sink_transaction_duration_seconds", H, NULL,
                       "time of each committed PostgreSQL transaction, BEGIN to COMMIT",
                       lt_sink_tx_buckets, sizeof(lt_sink_tx_buckets) / sizeof(double)},
    [SM_KAFKA_RX_MESSAGES] = {"lienthong_sink_kafka_rx_messages_total", C, NULL,
                              "messages librdkafka fetched from brokers"},
    [SM_KAFKA_RX_BYTES] = {"lienthong_sink_kafka_rx_bytes_total", C, NULL,
                           "message bytes librdkafka fetched from brokers"},
    [SM_KAFKA_REBALANCES] = {"lienthong_sink_kafka_rebalances_total", C, NULL,
                             "consumer group rebalances this sink took part in"},
    [SM_KAFKA_RTT] = {"lienthong_sink_kafka_rtt_seconds", G, NULL,
                      "brokers' average request round trip over the last statistics interval"},
    [SM_C_EVENTS] = {"lienthong_sink_commune_events_applied_total", C, "commune",
                     "events of the commune applied by this process"},
    [SM_C_LAST_SEQ] = {"lienthong_sink_commune_last_seq", G, "commune",
                       "the commune's last sequence applied at the province"},
    [SM_C_LAG_RECORDS] = {"lienthong_sink_commune_lag_records", G, "commune",
                          "Kafka records of the commune after what the sink applied (high"
                          " watermark - position); only for partitions this sink holds"},
    [SM_C_APPLIED_AGE] = {"lienthong_sink_commune_applied_event_age_seconds", A, "commune",
                          "now - recorded time (commune clock) of the newest event applied;"
                          " grows while the commune is idle; absent before its first round"},
    [SM_C_MISSING] = {"lienthong_sink_commune_missing_events", G, "commune",
                      "sequences below the last one never received (open gaps)"},
    [SM_C_QUARANTINED] = {"lienthong_sink_commune_quarantined_messages", G, "commune",
                          "quarantined messages of the commune not replayed (read every 30 s)"},
    [SM_C_DIGEST_DIVERGED] = {"lienthong_sink_commune_digest_diverged", G, "commune",
                              "1 when the commune's latest digest comparison differed, 0 when"
                              " equal; absent before the first (read every 30 s)"},
    [SM_C_HEARTBEAT_AGE] = {"lienthong_sink_commune_last_heartbeat_age_seconds", A, "commune",
                            "seconds since the commune's agent was last heard from (heartbeat)"},
    [SM_C_BACKLOG] = {"lienthong_sink_commune_backlog_rows", G, "commune",
                      "outbox rows not yet sent at the commune: its last heartbeat's count"
                      " less what the province applied since"},
    [SM_C_OLDEST_UNSENT_AGE] = {"lienthong_sink_commune_oldest_unsent_age_seconds", A, "commune",
                                "age of the commune's oldest unsent row, as its last heartbeat"
                                " said"},
    [SM_C_HEALTH] = {"lienthong_sink_commune_health_state", G, "commune",
                     "the commune's health as lienthong-sink status judges it: 0 OK, 1 IDLE,"
                     " 2 LAGGING, 3 SKEWED, 4 QUARANTINE, 5 DIVERGED, 6 STALLED, 7 OFFLINE,"
                     " 8 UNKNOWN (judged at each scrape, at most every 5 s)"},
    [SM_C_LAG_SECONDS] = {"lienthong_sink_commune_lag_seconds", G, "commune",
                          "age of the commune's oldest event not yet applied, at the commune"
                          " or in Kafka; 0 when none; absent when unknown"},
};

#undef G
#undef C
#undef A
#undef H

/* Where an assigned partition starts, for the lag before the first message. */
typedef struct lt_sink_metrics_start {
    char topic[128];
    int64_t offset;
} lt_sink_metrics_start_t;

struct lt_sink_metrics {
    lt_metrics_t *reg;
    lt_metric_t *f[SM_COUNT];
    lt_series_t *s[SM_COUNT]; /* the series of the families without label */
    lt_http_t *http;
    char kafka_name[64];
    lt_sink_metrics_start_t *starts;
    size_t n_starts;
    int64_t next_refresh_ms, next_report_ms;
};

lt_sink_metrics_t *lt_sink_metrics_new(const char *province)
{
    lt_sink_metrics_t *sm = calloc(1, sizeof(*sm));
    if (!sm)
        abort();
    sm->reg = lt_metrics_new();
    char errstr[256];
    if (lt_metrics_register(sm->reg, lt_sink_metric_defs, SM_COUNT, sm->f, sm->s, errstr,
                            sizeof(errstr)) != 0) {
        lt_error("metric table broken", "error=\"%s\"", errstr);
        abort(); /* a programming error: deploy.metrics_names catches it */
    }
    lt_gauge_set(lt_metric_with(sm->f[SM_INFO], province), 1);
    lt_age_set(sm->s[SM_LOOP_AGE], (double)lt_now_us() / 1e6);
    lt_gauge_set(sm->s[SM_GROUP_ASSIGNED], 0);
    sm->http = lt_http_new("sink");
    lt_http_serve_metrics(sm->http, sm->reg);
    lt_http_serve_health(sm->http, sm->s[SM_LOOP_AGE], LT_SINK_METRICS_STALL_S);
    lt_http_ready_when(sm->http, "database", sm->s[SM_DATABASE_UP]);
    lt_http_ready_when(sm->http, "kafka", sm->s[SM_KAFKA_BROKERS_UP]);
    lt_http_ready_when(sm->http, "group", sm->s[SM_GROUP_ASSIGNED]);
    return sm;
}

void lt_sink_metrics_destroy(lt_sink_metrics_t *sm)
{
    if (!sm)
        return;
    lt_http_destroy(sm->http); /* first: it renders the registry */
    lt_metrics_destroy(sm->reg);
    free(sm->starts);
    free(sm);
}

struct lt_http *lt_sink_metrics_http(lt_sink_metrics_t *sm)
{
    return sm->http;
}

int lt_sink_metrics_listen(lt_sink_metrics_t *sm, const char *listen, char *errstr,
                           size_t errstr_size)
{
    if (!listen || !*listen)
        return 0;
    if (lt_http_start(sm->http, listen, errstr, errstr_size) != 0)
        return -1;
    lt_info("http listening", "address=%s paths=\"/metrics /healthz /readyz\"",
            lt_http_address(sm->http));
    return 0;
}

void lt_sink_metrics_kafka_stats(lt_sink_metrics_t *sm, const char *json, size_t len)
{
    lt_kafka_stats_t ks;
    char errstr[256];
    if (lt_kafka_stats_parse(json, len, &ks, errstr, sizeof(errstr)) != 0) {
        lt_debug("librdkafka statistics not read", "error=\"%s\"", errstr);
        return;
    }
    if (strcmp(ks.name, sm->kafka_name) != 0) {
        lt_strlcpy(sm->kafka_name, ks.name, sizeof(sm->kafka_name));
        for (int i = SM_KAFKA_RX_MESSAGES; i <= SM_KAFKA_REBALANCES; i++)
            lt_counter_mirror_restart(sm->s[i]);
    }
    lt_gauge_set(sm->s[SM_KAFKA_BROKERS_UP], ks.brokers_up);
    lt_counter_mirror(sm->s[SM_KAFKA_RX_MESSAGES], ks.rxmsgs);
    lt_counter_mirror(sm->s[SM_KAFKA_RX_BYTES], ks.rxmsg_bytes);
    lt_counter_mirror(sm->s[SM_KAFKA_REBALANCES], ks.rebalance_cnt);
    if (ks.rtt_avg_s >= 0)
        lt_gauge_set(sm->s[SM_KAFKA_RTT], ks.rtt_avg_s);
}

void lt_sink_metrics_expired(lt_sink_metrics_t *sm, const char *topic, int64_t records)
{
    (void)topic;
    lt_counter_add(sm->s[SM_RECORDS_EXPIRED], (double)records);
}

void lt_sink_metrics_assignment(lt_sink_metrics_t *sm,
                                const rd_kafka_topic_partition_list_t *parts)
{
    sm->n_starts = 0;
    lt_gauge_set(sm->s[SM_GROUP_ASSIGNED], parts != NULL);
    lt_gauge_set(sm->s[SM_ASSIGNED_PARTITIONS], parts ? parts->cnt : 0);
    if (!parts)
        return;
    free(sm->starts);
    sm->starts = calloc((size_t)parts->cnt + 1, sizeof(*sm->starts));
    if (!sm->starts)
        abort();
    for (int i = 0; i < parts->cnt; i++) {
        lt_strlcpy(sm->starts[i].topic, parts->elems[i].topic, sizeof(sm->starts[i].topic));
        sm->starts[i].offset = parts->elems[i].offset;
    }
    sm->n_starts = (size_t)parts->cnt;
    sm->next_refresh_ms = 0; /* the lags of the new assignment at the next pass */
}

double lt_sink_metrics_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void lt_sink_metrics_committed(lt_sink_metrics_t *sm, const struct lt_plan *plan,
                               struct lt_registry *reg, double started)
{
    lt_histogram_observe(sm->s[SM_TX_SECONDS], lt_sink_metrics_now() - started);
    size_t n = lt_registry_count(reg);
    for (size_t i = 0; i < n; i++) {
        const char *code = lt_commune_code(lt_registry_at(reg, i));
        lt_plan_commune_t pc;
        if (lt_plan_for_commune(plan, code, &pc) != 0)
            continue;
        if (pc.events)
            lt_counter_add(lt_metric_with(sm->f[SM_C_EVENTS], code), (double)pc.events);
        lt_gauge_set(lt_metric_with(sm->f[SM_C_LAST_SEQ], code), (double)pc.last_seq);
        if (pc.last_recorded_us > 0)
            lt_age_set(lt_metric_with(sm->f[SM_C_APPLIED_AGE], code),
                       (double)pc.last_recorded_us / 1e6);
    }
}

void lt_sink_metrics_round(lt_sink_metrics_t *sm, double started)
{
    lt_histogram_observe(sm->s[SM_ROUND_SECONDS], lt_sink_metrics_now() - started);
}

void lt_sink_metrics_database(lt_sink_metrics_t *sm, int up)
{
    lt_gauge_set(sm->s[SM_DATABASE_UP], up);
    lt_age_set(sm->s[SM_LOOP_AGE], (double)lt_now_us() / 1e6);
}

void lt_sink_metrics_heartbeat(lt_sink_metrics_t *sm, const char *commune, double heard_at,
                               double backlog_rows, double oldest_unsent_age_s)
{
    lt_age_set(lt_metric_with(sm->f[SM_C_HEARTBEAT_AGE], commune), heard_at);
    lt_gauge_set(lt_metric_with(sm->f[SM_C_BACKLOG], commune), backlog_rows);
    lt_series_t *s = lt_metric_with(sm->f[SM_C_OLDEST_UNSENT_AGE], commune);
    if (oldest_unsent_age_s >= 0)
        lt_age_set(s, heard_at - oldest_unsent_age_s);
    else
        lt_series_clear(s);
}

void lt_sink_metrics_health(void *opaque, const char *commune, int state, double lag_s)
{
    lt_sink_metrics_t *sm = opaque;
    lt_gauge_set(lt_metric_with(sm->f[SM_C_HEALTH], commune), state);
    lt_series_t *lag = lt_metric_with(sm->f[SM_C_LAG_SECONDS], commune);
    if (lag_s >= 0)
        lt_gauge_set(lag, lag_s);
    else
        lt_series_clear(lag);
}

void lt_sink_metrics_on_scrape(lt_sink_metrics_t *sm, void (*fn)(void *opaque), void *opaque)
{
    lt_metrics_on_render(sm->reg, fn, opaque);
}

/* ---------------------------------------------------------------- refresh */

static int64_t lt_sink_metrics_start_of(const lt_sink_metrics_t *sm, const char *topic)
{
    for (size_t i = 0; i < sm->n_starts; i++)
        if (strcmp(sm->starts[i].topic, topic) == 0)
            return sm->starts[i].offset;
    return RD_KAFKA_OFFSET_INVALID;
}

/* Each assigned commune's lag in records: the high watermark librdkafka
 * learnt from its last fetch less the consumer's position (or, before the
 * first message, where the partition started). Communes not assigned here
 * lose their lag series. */
static void lt_sink_metrics_lag(lt_sink_metrics_t *sm, rd_kafka_t *rk, lt_registry_t *reg)
{
    size_t n = lt_registry_count(reg);
    char *seen = calloc(n + 1, 1);
    rd_kafka_topic_partition_list_t *parts = NULL;
    if (!seen)
        abort();
    if (rk && rd_kafka_assignment(rk, &parts) == RD_KAFKA_RESP_ERR_NO_ERROR &&
        rd_kafka_position(rk, parts) == RD_KAFKA_RESP_ERR_NO_ERROR) {
        for (int i = 0; i < parts->cnt; i++) {
            const rd_kafka_topic_partition_t *p = &parts->elems[i];
            lt_commune_t *c = lt_registry_by_topic(reg, p->topic);
            int64_t lo, hi, pos = p->offset;
            if (!c || rd_kafka_get_watermark_offsets(rk, p->topic, p->partition, &lo, &hi) ||
                hi < 0)
                continue;
            if (pos < 0)
                pos = lt_sink_metrics_start_of(sm, p->topic);
            if (pos < 0)
                pos = lo;
            if (pos < 0)
                continue;
            lt_gauge_set(lt_metric_with(sm->f[SM_C_LAG_RECORDS], lt_commune_code(c)),
                         (double)(hi > pos ? hi - pos : 0));
            seen[lt_commune_index(c)] = 1;
        }
    }
    if (parts)
        rd_kafka_topic_partition_list_destroy(parts);
    for (size_t i = 0; i < n; i++)
        if (!seen[i])
            lt_series_clear(
                lt_metric_with(sm->f[SM_C_LAG_RECORDS], lt_commune_code(lt_registry_at(reg, i))));
    free(seen);
}

/* Progress and open gaps, as the registry holds them. */
static void lt_sink_metrics_registry(lt_sink_metrics_t *sm, lt_registry_t *reg)
{
    size_t n = lt_registry_count(reg);
    for (size_t i = 0; i < n; i++) {
        lt_commune_t *c = lt_registry_at(reg, i);
        const char *code = lt_commune_code(c);
        lt_gauge_set(lt_metric_with(sm->f[SM_C_LAST_SEQ], code), (double)lt_commune_last_seq(c));
        lt_gauge_set(lt_metric_with(sm->f[SM_C_MISSING], code),
                     (double)lt_ranges_count(lt_commune_missing(c)));
    }
}

/* Quarantine and digests, as the province database says. */
static void lt_sink_metrics_report(lt_sink_metrics_t *sm, PGconn *pg)
{
    lt_store_report_t *rows;
    size_t n;
    char errstr[512];
    if (lt_store_report(pg, NULL, &rows, &n, errstr, sizeof(errstr)) != LT_PG_OK) {
        lt_debug("quarantine and digest figures not read", "error=\"%s\"", errstr);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        lt_gauge_set(lt_metric_with(sm->f[SM_C_QUARANTINED], rows[i].code),
                     (double)rows[i].quarantined);
        if (rows[i].digest_equal >= 0)
            lt_gauge_set(lt_metric_with(sm->f[SM_C_DIGEST_DIVERGED], rows[i].code),
                         !rows[i].digest_equal);
        if (rows[i].heartbeat_at >= 0)
            lt_sink_metrics_heartbeat(sm, rows[i].code, rows[i].heartbeat_at,
                                      (double)rows[i].backlog_rows,
                                      rows[i].oldest_unsent_age_at_heartbeat_s);
    }
    lt_store_report_free(rows, n);
}

int lt_sink_metrics_tick(lt_sink_metrics_t *sm, const struct lt_plan *plan, rd_kafka_t *rk,
                         PGconn *pg, struct lt_registry *reg)
{
    lt_age_set(sm->s[SM_LOOP_AGE], (double)lt_now_us() / 1e6);
    lt_plan_stats_t st = lt_plan_stats(plan);
    lt_counter_mirror(sm->s[SM_ROUNDS], (double)st.rounds);
    lt_counter_mirror(sm->s[SM_MESSAGES], (double)st.messages);
    lt_counter_mirror(sm->s[SM_BATCHES], (double)st.batches_applied);
    lt_counter_mirror(sm->s[SM_EVENTS], (double)st.events_applied);
    lt_counter_mirror(sm->s[SM_DUPLICATES], (double)st.duplicates_skipped);
    lt_counter_mirror(sm->s[SM_GAPS], (double)st.gaps);
    lt_counter_mirror(sm->s[SM_GAP_FILLS], (double)st.gap_fills);
    lt_counter_mirror(sm->s[SM_QUARANTINED], (double)st.quarantined);
    lt_counter_mirror(sm->s[SM_DIGESTS_COMPARED], (double)st.digests_compared);
    lt_counter_mirror(sm->s[SM_DIGESTS_SKIPPED], (double)st.digests_skipped);
    int up = PQstatus(pg) == CONNECTION_OK;
    lt_gauge_set(sm->s[SM_DATABASE_UP], up);
    int64_t now = lt_monotonic_ms();
    if (now < sm->next_refresh_ms)
        return 0;
    sm->next_refresh_ms = now + LT_SINK_METRICS_REFRESH_MS;
    lt_sink_metrics_registry(sm, reg);
    lt_sink_metrics_lag(sm, rk, reg);
    if (up && now >= sm->next_report_ms) {
        sm->next_report_ms = now + LT_SINK_METRICS_REPORT_MS;
        lt_sink_metrics_report(sm, pg);
    }
    return !up;
}

void lt_sink_metrics_describe(lt_buf_t *out)
{
    lt_metrics_describe(lt_sink_metric_defs, SM_COUNT, out);
}
