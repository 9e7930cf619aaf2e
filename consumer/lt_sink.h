/* lt_sink — the province sink daemon: consume every commune's events topic,
 * apply each poll round in one PostgreSQL transaction, resume from the offsets
 * stored there. */
#ifndef LT_SINK_H
#define LT_SINK_H

#include "lt_conf.h"

typedef struct lt_sink_conf {
    char *province;  /* 2-digit province code */
    char *postgres;  /* conninfo of the province database */
    char *group_id;  /* Kafka consumer group; lienthong-sink-<province> if unset */
    char *log_level;
    char *units_file; /* unit list; the installed copy if unset */
    long round_max_messages;
    long round_max_ms;
    long round_max_bytes;
    long max_message_bytes; /* the topics' max.message.bytes and the decode cap */
    char *instance_id;      /* static group member id; NULL = dynamic membership */
    int allow_integrity_only;
    long stats_interval_s;
    long replication_factor; /* for provisioned topics; -1 = broker default */
    long retention_days;     /* retention.ms of provisioned topics; 0 = keep forever */
    char *http_listen;       /* HOST:PORT of /metrics, /healthz, /readyz; NULL = none */
    long heartbeat_interval_s; /* the agents': OFFLINE after 6 of them unheard */
    long lag_warn_s, stalled_after_s, skew_max_s, idle_after_s; /* health bounds (lt_health.h) */
    long confirm_interval_s; /* digest confirmations to the communes (lt_confirm.h); 0 = none */
} lt_sink_conf_t;

extern const lt_conf_opt_t lt_sink_conf_table[];

/* Run until SIGTERM/SIGINT. Returns 0 on a clean stop, 1 on a fatal error,
 * 2 when sink.http_listen cannot be served (a port in use). */
int lt_sink_run(const lt_conf_t *conf, const lt_sink_conf_t *sc);

#endif
