/* lt_agent_metrics — what lienthong-agent tells Prometheus, and its HTTP
 * port (agent.http_listen): /metrics, /healthz, /readyz.
 *
 * The agent's loop calls in at the places where things happen (a batch
 * produced, a delivery report, librdkafka's statistics, a database outage)
 * and once per pass (lt_agent_metrics_tick), which publishes its counters
 * (lt_agent_stats_t) and, at most every LT_AGENT_METRICS_REFRESH_MS, asks the
 * commune database for the backlog. Every call is made on the agent's
 * thread; the HTTP server renders on its own. Docs: docs/OPERATIONS.md. */
#ifndef LT_AGENT_METRICS_H
#define LT_AGENT_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>
#include <librdkafka/rdkafka.h>

#include "lt_agent.h"
#include "lt_buf.h"

/* How often the backlog query runs at most. */
#define LT_AGENT_METRICS_REFRESH_MS 5000
/* /healthz fails when the loop has not run for this long: longer than the
 * longest wait inside it (30 s for the database to come back). */
#define LT_AGENT_METRICS_STALL_S 60

typedef struct lt_agent_metrics lt_agent_metrics_t;

/* The agent's metrics for commune (copied). Never NULL. */
lt_agent_metrics_t *lt_agent_metrics_new(const char *commune);
void lt_agent_metrics_destroy(lt_agent_metrics_t *am); /* NULL allowed; stops the server */

/* Serve /metrics, /healthz and /readyz on listen ("HOST:PORT"); NULL or ""
 * serves nothing (the metrics are kept all the same). Returns 0, or -1 with
 * errstr (a port in use, an address that does not parse). */
int lt_agent_metrics_listen(lt_agent_metrics_t *am, const char *listen, char *errstr,
                            size_t errstr_size);

/* A batch of events, bytes long on the wire, was produced. */
void lt_agent_metrics_produced(lt_agent_metrics_t *am, size_t events, size_t bytes);

/* A delivery report: latency and bytes of what Kafka acknowledged. */
void lt_agent_metrics_delivered(lt_agent_metrics_t *am, const rd_kafka_message_t *msg);

/* librdkafka's statistics document (its stats callback). */
void lt_agent_metrics_kafka_stats(lt_agent_metrics_t *am, const char *json, size_t len);

/* The commune database failed the agent (up = 0) before a wait for it; the
 * wait counts as the loop running. */
void lt_agent_metrics_database(lt_agent_metrics_t *am, int up);

/* One pass of the loop: counters, sequences, in-flight batches; and every
 * LT_AGENT_METRICS_REFRESH_MS the outbox backlog from pg (only with an HTTP
 * port: no one else reads it). */
void lt_agent_metrics_tick(lt_agent_metrics_t *am, const lt_agent_stats_t *stats, PGconn *pg,
                           uint64_t acked_seq, uint64_t next_seq, size_t inflight);

/* Every family the agent exports, rendered without values (HELP and TYPE
 * lines): the list the dashboard and alert rules are checked against. */
void lt_agent_metrics_describe(lt_buf_t *out);

#endif
