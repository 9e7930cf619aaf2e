#include "lt_agent_metrics.h"

#include <stdlib.h>
#include <string.h>

#include "lt_http.h"
#include "lt_kafka_stats.h"
#include "lt_log.h"
#include "lt_metrics.h"
#include "lt_outbox.h"
#include "lt_util.h"

/* Delivery latency: a healthy broker answers in milliseconds; while Kafka
 * is away a batch waits (message.timeout.ms=0) for minutes. */
static const double lt_agent_latency_buckets[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                  0.1,   0.25,   0.5,   1,    2.5,   5,
                                                  10,    30,     60,    300};

enum {
    AM_INFO,
    AM_LOOP_AGE,
    AM_DATABASE_UP,
    AM_BACKLOG_ROWS,
    AM_UNNUMBERED_ROWS,
    AM_REFUSED_ROWS,
    AM_OLDEST_UNSENT_AGE,
    AM_NEXT_SEQ,
    AM_ACKED_SEQ,
    AM_INFLIGHT,
    AM_ROWS_CLAIMED,
    AM_ROWS_REFUSED,
    AM_BATCHES_PRODUCED,
    AM_EVENTS_PRODUCED,
    AM_BYTES_PRODUCED,
    AM_BATCHES_ACKED,
    AM_EVENTS_ACKED,
    AM_BYTES_ACKED,
    AM_DELIVERY_ERRORS,
    AM_REWINDS,
    AM_DIGESTS_SENT,
    AM_DELIVERY_LATENCY,
    AM_KAFKA_BROKERS_UP,
    AM_KAFKA_TX_MESSAGES,
    AM_KAFKA_TX_BYTES,
    AM_KAFKA_TX_ERRORS,
    AM_KAFKA_TX_RETRIES,
    AM_KAFKA_REQ_TIMEOUTS,
    AM_KAFKA_QUEUE_MESSAGES,
    AM_KAFKA_QUEUE_BYTES,
    AM_KAFKA_OUTBUF_MESSAGES,
    AM_KAFKA_WAITRESP_MESSAGES,
    AM_KAFKA_RTT,
    AM_COUNT
};

#define G LT_METRIC_GAUGE
#define C LT_METRIC_COUNTER
#define A LT_METRIC_AGE

static const lt_metric_def_t lt_agent_metric_defs[AM_COUNT] = {
    [AM_INFO] = {"lienthong_agent_info", G, "commune", "1, labelled with the commune the agent"
                 " sends for"},
    [AM_LOOP_AGE] = {"lienthong_agent_loop_age_seconds", A, NULL,
                     "seconds since the agent's loop last ran (/healthz fails above 60)"},
    [AM_DATABASE_UP] = {"lienthong_agent_database_up", G, NULL,
                        "1 while the commune database answers the agent, 0 while it is away"},
    [AM_BACKLOG_ROWS] = {"lienthong_agent_outbox_backlog_rows", G, NULL,
                         "outbox rows not yet acknowledged by Kafka, numbered or not (refused"
                         " rows aside)"},
    [AM_UNNUMBERED_ROWS] = {"lienthong_agent_outbox_unnumbered_rows", G, NULL,
                            "outbox rows committed but not yet given a sequence"},
    [AM_REFUSED_ROWS] = {"lienthong_agent_outbox_refused_rows", G, NULL,
                         "outbox rows the agent refused (never sent; see lienthong-agent status)"},
    [AM_OLDEST_UNSENT_AGE] = {"lienthong_agent_outbox_oldest_unsent_age_seconds", A, NULL,
                              "age of the row first in line to be sent (absent when none waits)"},
    [AM_NEXT_SEQ] = {"lienthong_agent_next_seq", G, NULL, "the next sequence the agent assigns"},
    [AM_ACKED_SEQ] = {"lienthong_agent_acked_seq", G, NULL,
                      "every sequence up to this one is acknowledged by Kafka"},
    [AM_INFLIGHT] = {"lienthong_agent_inflight_batches", G, NULL,
                     "batches produced and not yet acknowledged"},
    [AM_ROWS_CLAIMED] = {"lienthong_agent_rows_claimed_total", C, NULL,
                         "outbox rows numbered (claimed) by this process"},
    [AM_ROWS_REFUSED] = {"lienthong_agent_rows_refused_total", C, NULL,
                         "outbox rows refused at claim by this process"},
    [AM_BATCHES_PRODUCED] = {"lienthong_agent_batches_produced_total", C, NULL,
                             "batches handed to the Kafka producer (resends included)"},
    [AM_EVENTS_PRODUCED] = {"lienthong_agent_events_produced_total", C, NULL,
                            "events in the batches produced (resends included)"},
    [AM_BYTES_PRODUCED] = {"lienthong_agent_produced_bytes_total", C, NULL,
                           "bytes of the signed batches produced"},
    [AM_BATCHES_ACKED] = {"lienthong_agent_batches_acked_total", C, NULL,
                          "batches acknowledged by Kafka and marked sent in the outbox"},
    [AM_EVENTS_ACKED] = {"lienthong_agent_events_acked_total", C, NULL,
                         "events acknowledged by Kafka and marked sent in the outbox"},
    [AM_BYTES_ACKED] = {"lienthong_agent_acked_bytes_total", C, NULL,
                        "bytes of the batches Kafka acknowledged"},
    [AM_DELIVERY_ERRORS] = {"lienthong_agent_delivery_errors_total", C, NULL,
                            "delivery reports in error (Kafka refused a batch)"},
    [AM_REWINDS] = {"lienthong_agent_rewinds_total", C, NULL,
                    "times sending started over from the first unacknowledged sequence"},
    [AM_DIGESTS_SENT] = {"lienthong_agent_digests_sent_total", C, NULL,
                         "commune digests attached to batches"},
    [AM_DELIVERY_LATENCY] = {"lienthong_agent_delivery_latency_seconds", LT_METRIC_HISTOGRAM,
                             NULL, "time from produce to Kafka's acknowledgement, per batch",
                             lt_agent_latency_buckets,
                             sizeof(lt_agent_latency_buckets) / sizeof(double)},
    [AM_KAFKA_BROKERS_UP] = {"lienthong_agent_kafka_brokers_up", G, NULL,
                             "Kafka brokers the producer is connected to (librdkafka statistics)"},
    [AM_KAFKA_TX_MESSAGES] = {"lienthong_agent_kafka_tx_messages_total", C, NULL,
                              "messages librdkafka sent to brokers (retries included)"},
    [AM_KAFKA_TX_BYTES] = {"lienthong_agent_kafka_tx_bytes_total", C, NULL,
                           "message bytes librdkafka sent to brokers"},
    [AM_KAFKA_TX_ERRORS] = {"lienthong_agent_kafka_tx_errors_total", C, NULL,
                            "requests to brokers that failed"},
    [AM_KAFKA_TX_RETRIES] = {"lienthong_agent_kafka_tx_retries_total", C, NULL,
                             "requests to brokers retried"},
    [AM_KAFKA_REQ_TIMEOUTS] = {"lienthong_agent_kafka_request_timeouts_total", C, NULL,
                               "requests to brokers that timed out"},
    [AM_KAFKA_QUEUE_MESSAGES] = {"lienthong_agent_kafka_queue_messages", G, NULL,
                                 "messages in librdkafka's producer queue"},
    [AM_KAFKA_QUEUE_BYTES] = {"lienthong_agent_kafka_queue_bytes", G, NULL,
                              "bytes in librdkafka's producer queue"},
    [AM_KAFKA_OUTBUF_MESSAGES] = {"lienthong_agent_kafka_outbuf_messages", G, NULL,
                                  "messages waiting to be sent to a broker"},
    [AM_KAFKA_WAITRESP_MESSAGES] = {"lienthong_agent_kafka_waitresp_messages", G, NULL,
                                    "messages sent, waiting for the broker's response"},
    [AM_KAFKA_RTT] = {"lienthong_agent_kafka_rtt_seconds", G, NULL,
                      "brokers' average request round trip over the last statistics interval"},
};

#undef G
#undef C
#undef A

struct lt_agent_metrics {
    lt_metrics_t *reg;
    lt_metric_t *f[AM_COUNT];
    lt_series_t *s[AM_COUNT]; /* the series of the families without label */
    lt_http_t *http;
    char kafka_name[64];      /* the producer instance the statistics came from */
    char commune[16];
    int64_t next_refresh_ms;
};

lt_agent_metrics_t *lt_agent_metrics_new(const char *commune)
{
    lt_agent_metrics_t *am = calloc(1, sizeof(*am));
    if (!am)
        abort();
    am->reg = lt_metrics_new();
    lt_strlcpy(am->commune, commune, sizeof(am->commune));
    char errstr[256];
    if (lt_metrics_register(am->reg, lt_agent_metric_defs, AM_COUNT, am->f, am->s, errstr,
                            sizeof(errstr)) != 0) {
        lt_error("metric table broken", "error=\"%s\"", errstr);
        abort(); /* a programming error: deploy.metrics_names catches it */
    }
    lt_gauge_set(lt_metric_with(am->f[AM_INFO], commune), 1);
    lt_age_set(am->s[AM_LOOP_AGE], (double)lt_now_us() / 1e6);
    return am;
}

void lt_agent_metrics_destroy(lt_agent_metrics_t *am)
{
    if (!am)
        return;
    lt_http_destroy(am->http); /* first: it renders the registry */
    lt_metrics_destroy(am->reg);
    free(am);
}

int lt_agent_metrics_listen(lt_agent_metrics_t *am, const char *listen, char *errstr,
                            size_t errstr_size)
{
    if (!listen || !*listen)
        return 0;
    am->http = lt_http_new("agent");
    lt_http_serve_metrics(am->http, am->reg);
    lt_http_serve_health(am->http, am->s[AM_LOOP_AGE], LT_AGENT_METRICS_STALL_S);
    lt_http_ready_when(am->http, "database", am->s[AM_DATABASE_UP]);
    lt_http_ready_when(am->http, "kafka", am->s[AM_KAFKA_BROKERS_UP]);
    if (lt_http_start(am->http, listen, errstr, errstr_size) != 0)
        return -1;
    lt_info("http listening", "address=%s paths=\"/metrics /healthz /readyz\"",
            lt_http_address(am->http));
    return 0;
}

void lt_agent_metrics_produced(lt_agent_metrics_t *am, size_t events, size_t bytes)
{
    lt_counter_add(am->s[AM_EVENTS_PRODUCED], (double)events);
    lt_counter_add(am->s[AM_BYTES_PRODUCED], (double)bytes);
}

void lt_agent_metrics_delivered(lt_agent_metrics_t *am, const rd_kafka_message_t *msg)
{
    if (msg->err)
        return; /* counted as a delivery error by the agent */
    lt_counter_add(am->s[AM_BYTES_ACKED], (double)msg->len);
    int64_t us = rd_kafka_message_latency(msg);
    if (us >= 0)
        lt_histogram_observe(am->s[AM_DELIVERY_LATENCY], (double)us / 1e6);
}

void lt_agent_metrics_kafka_stats(lt_agent_metrics_t *am, const char *json, size_t len)
{
    lt_kafka_stats_t ks;
    char errstr[256];
    if (lt_kafka_stats_parse(json, len, &ks, errstr, sizeof(errstr)) != 0) {
        lt_debug("librdkafka statistics not read", "error=\"%s\"", errstr);
        return;
    }
    if (strcmp(ks.name, am->kafka_name) != 0) { /* a new producer counts from zero */
        lt_strlcpy(am->kafka_name, ks.name, sizeof(am->kafka_name));
        for (int i = AM_KAFKA_TX_MESSAGES; i <= AM_KAFKA_REQ_TIMEOUTS; i++)
            lt_counter_mirror_restart(am->s[i]);
    }
    lt_gauge_set(am->s[AM_KAFKA_BROKERS_UP], ks.brokers_up);
    lt_counter_mirror(am->s[AM_KAFKA_TX_MESSAGES], ks.txmsgs);
    lt_counter_mirror(am->s[AM_KAFKA_TX_BYTES], ks.txmsg_bytes);
    lt_counter_mirror(am->s[AM_KAFKA_TX_ERRORS], ks.tx_errors);
    lt_counter_mirror(am->s[AM_KAFKA_TX_RETRIES], ks.tx_retries);
    lt_counter_mirror(am->s[AM_KAFKA_REQ_TIMEOUTS], ks.req_timeouts);
    lt_gauge_set(am->s[AM_KAFKA_QUEUE_MESSAGES], ks.msg_cnt);
    lt_gauge_set(am->s[AM_KAFKA_QUEUE_BYTES], ks.msg_size);
    lt_gauge_set(am->s[AM_KAFKA_OUTBUF_MESSAGES], ks.outbuf_msgs);
    lt_gauge_set(am->s[AM_KAFKA_WAITRESP_MESSAGES], ks.waitresp_msgs);
    if (ks.rtt_avg_s >= 0)
        lt_gauge_set(am->s[AM_KAFKA_RTT], ks.rtt_avg_s);
}

void lt_agent_metrics_database(lt_agent_metrics_t *am, int up)
{
    lt_gauge_set(am->s[AM_DATABASE_UP], up);
    lt_age_set(am->s[AM_LOOP_AGE], (double)lt_now_us() / 1e6);
}

/* The backlog as `lienthong-agent status` counts it. */
static void lt_agent_metrics_refresh(lt_agent_metrics_t *am, PGconn *pg)
{
    lt_outbox_status_t st;
    char errstr[512];
    if (lt_outbox_status(pg, am->commune, &st, errstr, sizeof(errstr)) != LT_PG_OK) {
        lt_debug("outbox backlog not read", "error=\"%s\"", errstr);
        return;
    }
    lt_gauge_set(am->s[AM_BACKLOG_ROWS], (double)(st.numbered_unsent + st.unnumbered));
    lt_gauge_set(am->s[AM_UNNUMBERED_ROWS], (double)st.unnumbered);
    lt_gauge_set(am->s[AM_REFUSED_ROWS], (double)st.refused);
    if (st.oldest_unsent_age_s >= 0)
        lt_age_set(am->s[AM_OLDEST_UNSENT_AGE],
                   (double)lt_now_us() / 1e6 - st.oldest_unsent_age_s);
    else
        lt_series_clear(am->s[AM_OLDEST_UNSENT_AGE]);
}

void lt_agent_metrics_tick(lt_agent_metrics_t *am, const lt_agent_stats_t *stats, PGconn *pg,
                           uint64_t acked_seq, uint64_t next_seq, size_t inflight)
{
    lt_age_set(am->s[AM_LOOP_AGE], (double)lt_now_us() / 1e6);
    lt_counter_mirror(am->s[AM_ROWS_CLAIMED], (double)stats->rows_claimed);
    lt_counter_mirror(am->s[AM_ROWS_REFUSED], (double)stats->rows_rejected);
    lt_counter_mirror(am->s[AM_BATCHES_PRODUCED], (double)stats->batches_produced);
    lt_counter_mirror(am->s[AM_BATCHES_ACKED], (double)stats->batches_acked);
    lt_counter_mirror(am->s[AM_EVENTS_ACKED], (double)stats->events_acked);
    lt_counter_mirror(am->s[AM_DELIVERY_ERRORS], (double)stats->delivery_errors);
    lt_counter_mirror(am->s[AM_REWINDS], (double)stats->rewinds);
    lt_counter_mirror(am->s[AM_DIGESTS_SENT], (double)stats->digests_sent);
    lt_gauge_set(am->s[AM_ACKED_SEQ], (double)acked_seq);
    lt_gauge_set(am->s[AM_NEXT_SEQ], (double)next_seq);
    lt_gauge_set(am->s[AM_INFLIGHT], (double)inflight);
    int up = pg && PQstatus(pg) == CONNECTION_OK;
    lt_gauge_set(am->s[AM_DATABASE_UP], up);
    int64_t now = lt_monotonic_ms();
    /* The backlog query counts the outbox: during a large drain it took
     * 0.7 s, every 5 s, on the agent's own connection. Only for a scraper. */
    if (up && am->http && now >= am->next_refresh_ms) {
        am->next_refresh_ms = now + LT_AGENT_METRICS_REFRESH_MS;
        lt_agent_metrics_refresh(am, pg);
    }
}

void lt_agent_metrics_describe(lt_buf_t *out)
{
    lt_metrics_describe(lt_agent_metric_defs, AM_COUNT, out);
}
