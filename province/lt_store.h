/* lt_store — every statement on the province schema (lt.*), and the schema
 * itself (sql/ beside this file).
 *
 * The sink loads the registry and the offsets to resume from, and commits
 * each plan in one transaction; provisioning registers communes; the status
 * command, the quarantine commands and a replay read and write through here
 * too. Only lienthong-reconcile verify reads lt.* elsewhere: it compares two
 * databases row by row.
 *
 * Every function returns LT_PG_OK, or the class of the failure (lt_pg.h:
 * LT_PG_RETRY heals by waiting, LT_PG_DATA is data PostgreSQL refused,
 * LT_PG_FATAL anything else) with a sentence in errstr. */
#ifndef LT_STORE_H
#define LT_STORE_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "lt_digest.h"
#include "lt_pg.h"
#include "lt_plan.h"
#include "lt_registry.h"

/* Create or update the province schema (idempotent). Entities stored before
 * digests existed get their digest member, and the digests are rebuilt. */
lt_pg_rc_t lt_store_migrate(PGconn *pg, char *errstr, size_t errstr_size);

/* A commune's digest two ways: recomputed from its rows' columns (type, id,
 * version, deleted, content hash), and as the rounds maintained it. They
 * differ where a row was edited directly or the database restored from an
 * older backup without its digest. */
lt_pg_rc_t lt_store_digest_of_rows(PGconn *pg, const char *commune, lt_digest_t *from_rows,
                                   lt_digest_t *maintained, char *errstr, size_t errstr_size);

/* --------------------------------------------------------------- the sink */

/* Fill reg (emptied first) with the communes of its province: code, events
 * topic and key as provisioned, last sequence and batch hash, and the
 * sequences their open gaps still miss (the gap ranges less what the event
 * log holds). */
lt_pg_rc_t lt_store_load_registry(PGconn *pg, lt_registry_t *reg, char *errstr,
                                  size_t errstr_size);

/* Apply plan in one transaction: event log, entities and typed tables,
 * gaps, quarantined messages, batch log, offsets and progress. Rolled back
 * on failure. The caller then calls lt_plan_committed, or lt_plan_reset. */
lt_pg_rc_t lt_store_commit(PGconn *pg, const lt_plan_t *plan, char *errstr,
                           size_t errstr_size);

/* lt_store_commit for the replay of quarantined message quarantine_id (a
 * plan made with LT_PLAN_REPLAY): events the event log holds already are
 * skipped, and the quarantine row is marked replayed, in the same
 * transaction. */
lt_pg_rc_t lt_store_commit_replay(PGconn *pg, const lt_plan_t *plan, int64_t quarantine_id,
                                  char *errstr, size_t errstr_size);

/* Where each partition resumes: the next offset stored with the last
 * commit that touched it. */
typedef struct lt_store_offsets lt_store_offsets_t;

lt_pg_rc_t lt_store_read_offsets(PGconn *pg, lt_store_offsets_t **offsets, char *errstr,
                                 size_t errstr_size);
/* The next offset of topic/partition, or if_unknown. */
int64_t lt_store_offset_of(const lt_store_offsets_t *offsets, const char *topic,
                           int32_t partition, int64_t if_unknown);
void lt_store_offsets_destroy(lt_store_offsets_t *offsets); /* NULL allowed */

/* Be told of communes registered from now on (lt_store_next_registered). */
lt_pg_rc_t lt_store_listen_communes(PGconn *pg, char *errstr, size_t errstr_size);

/* The commune's backlog now, as well as the province can tell: what its
 * last heartbeat counted (rows not acknowledged by Kafka then), less the
 * sequences applied here since beyond what was acknowledged then. A
 * heartbeat rides a batch or goes alone every interval, so without this a
 * commune that just sent everything would show its old backlog for up to
 * an interval. Rows written since the heartbeat show with the next one. */
/* (SQL: h is lt.commune_heartbeat, p lt.commune_progress.) */
#define LT_STORE_BACKLOG_NOW                                                                      \
    "greatest(0, h.outbox_pending - greatest(0, coalesce(p.last_seq, 0) - h.acked_seq))"
/* The age of the oldest of them: none once the backlog is gone. */
/* The channel a running sink listens on: a commune registered, rekeyed or
 * merged (the payload is its code). */
#define LT_STORE_COMMUNE_CHANNEL "lt_commune"

/* The next commune registered since the last call, its code into code;
 * returns 1, or 0 when there is none. */
int lt_store_next_registered(PGconn *pg, char *code, size_t code_size);

/* ----------------------------------------------------------- provisioning */

typedef struct lt_store_commune {
    const char *code, *province, *name;
    const char *events_topic, *control_topic;
    const char *key_id, *public_key; /* NULL: keep the key registered, if any */
} lt_store_commune_t;

/* Register a commune, or bring its key up to date, and tell listening sinks. */
lt_pg_rc_t lt_store_register_commune(PGconn *pg, const lt_store_commune_t *commune,
                                     char *errstr, size_t errstr_size);

/* ----------------------------------------------------------------- status */

/* What the province applied of one commune. */
typedef struct lt_store_status {
    char *code, *name, *events_topic;
    int64_t last_seq, events_applied;
    int64_t next_offset;     /* of partition 0; 0 before the first round */
    char *last_applied_at;   /* "YYYY-MM-DD HH:MM:SS", NULL before the first round */
    int64_t open_gaps;       /* gaps not yet filled */
    int64_t quarantined;     /* messages quarantined and not replayed */
    /* From the newest heartbeat; -1 where there is none. */
    double heartbeat_age_s;  /* since it was applied */
    double clock_skew_s;     /* province time - agent time when it was applied */
    int64_t outbox_pending;  /* at the commune: the last heartbeat's count of rows not
                              * acknowledged by Kafka, less the sequences applied since */
    double oldest_unsent_age_s; /* the oldest of them, now */
    int64_t rows_refused;
    char *agent_version;
    double last_applied_age_s; /* since an event of the commune was last applied */
    int64_t quarantined_recent; /* quarantined in the last 10 minutes, not replayed */
    int digest_equal;        /* the last digest comparison: 1, 0, -1 none */
} lt_store_status_t;

/* One row per commune of province, by code; *rows malloc'd (free with
 * lt_store_status_free). */
lt_pg_rc_t lt_store_status(PGconn *pg, const char *province, lt_store_status_t **rows,
                           size_t *n, char *errstr, size_t errstr_size);
void lt_store_status_free(lt_store_status_t *rows, size_t n);

/* -------------------------------------------------------------- retention */

/* An active commune's newest digest found equal while no gap was open: the
 * sequence the province may confirm to it (the commune then purges). */
typedef struct lt_store_confirmable {
    char code[8];
    char control_topic[128];
    uint64_t seq;
} lt_store_confirmable_t;

/* Every active commune of province with such a digest; *rows malloc'd. */
lt_pg_rc_t lt_store_confirmable(PGconn *pg, const char *province, lt_store_confirmable_t **rows,
                                size_t *n, char *errstr, size_t errstr_size);

/* ----------------------------------------------------------------- report */

/* What the province knows of one commune's consistency. */
typedef struct lt_store_report {
    char *code, *name;
    int64_t last_seq;
    char *last_heard_at;       /* last round that touched the commune (UTC), or NULL */
    int64_t last_heard_age_s;  /* seconds since; -1 never */
    int64_t open_gaps;         /* gap rows not resolved */
    int64_t missing_events;    /* sequences those gaps span */
    int64_t quarantined;       /* messages quarantined and not replayed */
    int64_t digest_seq;        /* the last digest compared (0: none yet) ... */
    char *digest_checked_at;   /* ... when (UTC) */
    int digest_equal;          /* 1 equal, 0 diverged, -1 never compared */
    char *diverged;            /* "3,17,200": the buckets that differed, or "" */
    int64_t n_diverged;
    double heartbeat_at;       /* when its newest heartbeat was applied (Unix s); -1 none */
    int64_t backlog_rows;      /* at the commune: that heartbeat's count less the sequences
                                * applied since; -1 none */
    double oldest_unsent_age_at_heartbeat_s; /* the oldest of them then; -1 none */
    char *merged_into;         /* retired by a merger into this commune, or NULL */
} lt_store_report_t;

/* One row per registered commune (or only commune, when not NULL), by code,
 * retired ones included;
 * *rows malloc'd (free with lt_store_report_free). */
lt_pg_rc_t lt_store_report(PGconn *pg, const char *commune, lt_store_report_t **rows,
                           size_t *n, char *errstr, size_t errstr_size);
void lt_store_report_free(lt_store_report_t *rows, size_t n);

/* Every registered commune's code, sorted; *codes and each code malloc'd. */
lt_pg_rc_t lt_store_communes(PGconn *pg, char ***codes, size_t *n, char *errstr,
                             size_t errstr_size);

/* ----------------------------------------------------------------- repair */

/* What a commune needs sent again: the buckets its last digest comparison
 * found different, and its open gaps (at most 64). */
typedef struct lt_store_repair {
    char *control_topic;
    uint32_t buckets[256];
    size_t n_buckets;
    struct {
        uint64_t from, to;
    } gaps[64];
    size_t n_gaps;
} lt_store_repair_t;

lt_pg_rc_t lt_store_repair_targets(PGconn *pg, const char *commune, lt_store_repair_t *t,
                                   char *errstr, size_t errstr_size);
void lt_store_repair_free(lt_store_repair_t *t);

/* Record a resync request before it is published. */
lt_pg_rc_t lt_store_resync_record(PGconn *pg, const char *request_id, const char *commune,
                                  const uint32_t *buckets, size_t n_buckets, uint64_t first_seq,
                                  uint64_t last_seq, char *errstr, size_t errstr_size);

/* How the requests made for commune since (a timestamptz as text) fare. */
typedef struct lt_store_repair_progress {
    int64_t requests, done;  /* made, fully answered */
    int64_t parts, states;   /* answer parts and states applied */
    int64_t open_gaps;       /* gaps still open */
    int digest_equal;        /* the latest comparison since: 1, 0, or -1 none yet */
    int64_t removed;         /* entities dropped as no longer held */
} lt_store_repair_progress_t;

lt_pg_rc_t lt_store_repair_progress(PGconn *pg, const char *commune, const char *since,
                                    lt_store_repair_progress_t *p, char *errstr,
                                    size_t errstr_size);

/* The database's clock, as text: the start of a repair. */
lt_pg_rc_t lt_store_now(PGconn *pg, char *out, size_t size, char *errstr, size_t errstr_size);

/* ------------------------------------------------------------- quarantine */

typedef struct lt_quarantine_filter {
    const char *commune;     /* NULL = all */
    const char *reason_code; /* NULL = all */
    int include_replayed;
    long limit;              /* <= 0: no limit */
} lt_quarantine_filter_t;

typedef enum {
    LT_QUARANTINE_HEADERS,    /* what, where and why, without the bytes */
    LT_QUARANTINE_WITH_BYTES, /* and the message key and raw value */
} lt_quarantine_detail_t;

/* A quarantined message. */
typedef struct lt_quarantined {
    int64_t id;
    char *quarantined_at;      /* as PostgreSQL prints a timestamptz */
    char *quarantined_at_secs; /* "YYYY-MM-DD HH:MM:SS" */
    char *commune_code;        /* NULL: the topic belongs to no registered commune */
    char *topic;
    int32_t partition;
    int64_t kafka_offset;
    char *reason_code, *reason;
    char *replayed_at;         /* NULL: not replayed */
    uint8_t *message_key;      /* LT_QUARANTINE_WITH_BYTES; NULL when it had none */
    size_t message_key_len;
    uint8_t *raw;              /* LT_QUARANTINE_WITH_BYTES */
    size_t raw_len;
} lt_quarantined_t;

/* The messages matching filter — or, when id > 0, only message id if it
 * matches — oldest first. A NULL filter takes any commune and reason, and
 * replayed messages only when id > 0.
 * *rows malloc'd (free with lt_store_quarantine_free). */
lt_pg_rc_t lt_store_quarantine_find(PGconn *pg, const lt_quarantine_filter_t *filter,
                                    int64_t id, lt_quarantine_detail_t detail,
                                    lt_quarantined_t **rows, size_t *n, char *errstr,
                                    size_t errstr_size);
void lt_store_quarantine_free(lt_quarantined_t *rows, size_t n);

#endif
