/* lt_agent — the commune agent's daemon loop: claim outbox rows, batch, sign,
 * produce idempotently, and mark rows sent only from delivery reports. */
#ifndef LT_AGENT_H
#define LT_AGENT_H

#include <stdint.h>

#include <librdkafka/rdkafka.h>

#include "lt_codec.h"
#include "lt_conf.h"
#include "lt_sign.h"

typedef struct lt_agent_conf {
    char *commune;           /* 5-digit commune code */
    char *province;          /* 2-digit province code */
    char *code_list_version; /* code list the commune code belongs to */
    char *postgres;          /* conninfo of the commune database */
    char *agent_id;          /* defaults to the host name */
    char *signing_key;       /* Ed25519 private key PEM; none = integrity-only */
    char *log_level;
    char *units_file;        /* unit list; the installed copy if unset */
    long batch_max_events;
    long batch_max_bytes;
    long linger_ms;
    long poll_interval_ms;
    long max_inflight_batches;
    long read_chunk;
    long stats_interval_s;
    long resync_max_events_per_s;
    long heartbeat_interval_s;
    long digest_every_events; /* attach the digest after this many events ... */
    long digest_every_s;      /* ... or seconds */
    long purge_sent_after_s;  /* retention of sent rows the province confirmed; 0 = keep */
    char *http_listen;        /* HOST:PORT of /metrics, /healthz, /readyz; NULL = none */
} lt_agent_conf_t;

extern const lt_conf_opt_t lt_agent_conf_table[];

/* Counters of one agent, first-class state. */
typedef struct lt_agent_stats {
    uint64_t rows_claimed;
    uint64_t rows_rejected;
    uint64_t batches_produced;
    uint64_t batches_acked;
    uint64_t events_acked;
    uint64_t delivery_errors;
    uint64_t rewinds;
    uint64_t digests_sent;
    uint64_t heartbeats_sent;
    uint64_t resync_parts, resync_events;
} lt_agent_stats_t;

/* The producer configuration: the [kafka] pairs, then the guarantees
 * (idempotence, acks=all) that no file can turn off. NULL with errstr. */
rd_kafka_conf_t *lt_agent_kafka_conf(const lt_conf_t *conf, char *errstr, size_t errstr_size);

/* Run until SIGTERM/SIGINT. Returns 0 on a clean stop, 1 on a fatal error,
 * 2 when agent.http_listen cannot be served (a port in use). */
int lt_agent_run(const lt_conf_t *conf, const lt_agent_conf_t *ac);

#endif
