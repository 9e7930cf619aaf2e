/* lt_sink_metrics — what lienthong-sink tells Prometheus, and its HTTP port
 * (sink.http_listen): /metrics, /healthz, /readyz, and room for more pages
 * (lt_sink_metrics_http: register them before lt_sink_metrics_listen).
 *
 * The sink's loop calls in where things happen (a round committed, an
 * assignment, librdkafka's statistics, a database outage) and once per pass
 * (lt_sink_metrics_tick), which publishes the plan's counters and, at most
 * every LT_SINK_METRICS_REFRESH_MS, each commune's progress from the
 * registry and its lag from the consumer's positions and the high
 * watermarks librdkafka keeps from its fetches (no request to a broker);
 * every LT_SINK_METRICS_REPORT_MS, what the province database says of
 * quarantine and digests. Every call is made on the sink's thread; the HTTP
 * server renders on its own. Docs: docs/OPERATIONS.md. */
#ifndef LT_SINK_METRICS_H
#define LT_SINK_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>

#include "lt_buf.h"

struct lt_http;     /* lt_http.h */
struct lt_plan;     /* lt_plan.h */
struct lt_registry; /* lt_registry.h */

#define LT_SINK_METRICS_REFRESH_MS 5000
#define LT_SINK_METRICS_REPORT_MS 30000
/* /healthz fails when the loop has not run for this long: longer than the
 * longest wait inside it (30 s for the database to come back). */
#define LT_SINK_METRICS_STALL_S 60

typedef struct lt_sink_metrics lt_sink_metrics_t;

/* The sink's metrics for province (copied). Never NULL. */
lt_sink_metrics_t *lt_sink_metrics_new(const char *province);
void lt_sink_metrics_destroy(lt_sink_metrics_t *sm); /* NULL allowed; stops the server */

/* The HTTP server, not listening yet: add routes to it (lt_http_route)
 * before lt_sink_metrics_listen. /metrics, /healthz and /readyz are there. */
struct lt_http *lt_sink_metrics_http(lt_sink_metrics_t *sm);

/* Serve on listen ("HOST:PORT"); NULL or "" serves nothing (the metrics are
 * kept all the same). Returns 0, or -1 with errstr (a port in use, an
 * address that does not parse). */
int lt_sink_metrics_listen(lt_sink_metrics_t *sm, const char *listen, char *errstr,
                           size_t errstr_size);

/* librdkafka's statistics document (its stats callback). */
void lt_sink_metrics_kafka_stats(lt_sink_metrics_t *sm, const char *json, size_t len);

/* The group assigned parts (offsets: where each starts, from PostgreSQL),
 * or took them away (parts NULL). */
/* Records of topic deleted by its retention before the sink read them. */
void lt_sink_metrics_expired(lt_sink_metrics_t *sm, const char *topic, int64_t records);

void lt_sink_metrics_assignment(lt_sink_metrics_t *sm,
                                const rd_kafka_topic_partition_list_t *parts);

/* A monotonic clock in seconds, for lt_sink_metrics_round. */
double lt_sink_metrics_now(void);

/* The store committed plan, begun at started (lt_sink_metrics_now): its
 * transaction time, and each commune's events, last sequence and newest
 * event time. Before lt_plan_committed (which resets the plan). */
void lt_sink_metrics_committed(lt_sink_metrics_t *sm, const struct lt_plan *plan,
                               struct lt_registry *reg, double started);

/* A round, begun at started (after its messages were collected), is applied
 * and its offsets copied to Kafka. */
void lt_sink_metrics_round(lt_sink_metrics_t *sm, double started);

/* The province database failed the sink (up = 0) before a wait for it; the
 * wait counts as the loop running. */
void lt_sink_metrics_database(lt_sink_metrics_t *sm, int up);

/* One pass of the loop (see above). Returns 1 when the database connection
 * is broken and the sink should try to reconnect now (at most every
 * LT_SINK_METRICS_REFRESH_MS): an idle sink finds out only this way. */
int lt_sink_metrics_tick(lt_sink_metrics_t *sm, const struct lt_plan *plan, rd_kafka_t *rk,
                         PGconn *pg, struct lt_registry *reg);

/* Heartbeats (issue 9, items 1-2, another change): what the commune's
 * latest heartbeat said — when it was heard (Unix seconds, province clock),
 * its outbox backlog and the age of its oldest unsent row (-1: none). Sets
 * lienthong_sink_commune_last_heartbeat_age_seconds,
 * lienthong_sink_commune_backlog_rows and
 * lienthong_sink_commune_oldest_unsent_age_seconds; the alert
 * LienthongCommuneOffline is defined on the first. A commune state metric
 * belongs beside them. */
void lt_sink_metrics_heartbeat(lt_sink_metrics_t *sm, const char *commune, double heard_at,
                               double backlog_rows, double oldest_unsent_age_s);

/* Every family the sink exports, rendered without values (HELP and TYPE
 * lines): the list the dashboard and alert rules are checked against. */
/* One commune's health state (lt_health_state_t) and lag in seconds (-1
 * unknown) as status judged them: lienthong_sink_commune_health_state and
 * lienthong_sink_commune_lag_seconds. opaque is the lt_sink_metrics_t, so
 * the function can be handed to lt_status_page_each_commune. Any thread. */
void lt_sink_metrics_health(void *opaque, const char *commune, int state, double lag_s);

/* fn(opaque) runs on the HTTP thread before each /metrics is rendered: it
 * may set the figures that are judged on demand (the health above). */
void lt_sink_metrics_on_scrape(lt_sink_metrics_t *sm, void (*fn)(void *opaque), void *opaque);

void lt_sink_metrics_describe(lt_buf_t *out);

#endif
