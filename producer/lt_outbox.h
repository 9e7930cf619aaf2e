/* lt_outbox — the commune's transactional outbox, as the agent sees it.
 *
 * The agent is the only writer of outbox.seq. lt_outbox_claim() numbers the
 * committed rows that have no sequence yet, in id order, and records each
 * entity's newest version in entity_state, all in one transaction. Rows are
 * read for sending by sequence, so a crash between claim and delivery resends
 * exactly the claimed-but-unacknowledged range. */
#ifndef LT_OUTBOX_H
#define LT_OUTBOX_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "lienthong/v1/lienthong.pb-c.h"
#include "lt_digest.h"
#include "lt_pg.h"
#include "lt_validate.h"

typedef struct lt_outbox_state {
    uint64_t next_seq;          /* next sequence to assign */
    uint64_t acked_seq;         /* every seq <= this is acknowledged by Kafka */
    uint8_t last_batch_hash[32];
    int has_last_batch_hash;
} lt_outbox_state_t;

/* Create the commune schema (idempotent) and the agent_state row. */
lt_pg_rc_t lt_outbox_init_schema(PGconn *conn, const char *commune, char *errstr,
                                 size_t errstr_size);

/* Load agent_state for commune. */
lt_pg_rc_t lt_outbox_load_state(PGconn *conn, const char *commune, lt_outbox_state_t *st,
                                char *errstr, size_t errstr_size);

/* What a row must pass to be numbered. */
typedef struct lt_claim_rules {
    const lt_validate_ctx_t *vctx; /* the rules; NULL: type checks only */
    size_t max_event_bytes;        /* lt_batch_event_bytes() at most; 0: no limit */
} lt_claim_rules_t;

/* Number up to limit unassigned rows. *claimed gets how many got a sequence,
 * *rejected how many were refused (their reason is stored on the row): a
 * payload that does not fit its type, one that breaks a rule, or an event too
 * large for any Kafka message ("too_large"). st->next_seq advances. With
 * events, *events gets the numbered rows' events once committed, in sequence
 * order (free with lt_outbox_events_free): the agent sends them without
 * reading and decoding the rows a second time. */
lt_pg_rc_t lt_outbox_claim(PGconn *conn, const char *commune, const lt_claim_rules_t *rules,
                           lt_outbox_state_t *st, int limit, int *claimed, int *rejected,
                           Lienthong__V1__Event ***events, char *errstr, size_t errstr_size);

/* Read up to limit events with seq >= from_seq, in sequence order. *events is
 * a malloc'd array of malloc'd events (free with lt_outbox_events_free). */
lt_pg_rc_t lt_outbox_read(PGconn *conn, uint64_t from_seq, int limit,
                          Lienthong__V1__Event ***events, size_t *count, char *errstr,
                          size_t errstr_size);
void lt_outbox_events_free(Lienthong__V1__Event **events, size_t count);

/* Mark first..last sent and record the batch hash as the chain's head, in
 * one statement sent without waiting for it (conn then has it in flight). */
lt_pg_rc_t lt_outbox_mark_sent_begin(PGconn *conn, const char *commune, uint64_t first_seq,
                                     uint64_t last_seq, const uint8_t hash[32], char *errstr,
                                     size_t errstr_size);
/* The outcome of that statement: *done = 0 while the server is still at it
 * (only when wait is 0), else 1 and its result. */
lt_pg_rc_t lt_outbox_mark_sent_end(PGconn *conn, int wait, int *done, char *errstr,
                                   size_t errstr_size);

/* Lowest unacknowledged assigned sequence (next_seq when none). */
lt_pg_rc_t lt_outbox_first_unsent(PGconn *conn, const lt_outbox_state_t *st, uint64_t *seq,
                                  char *errstr, size_t errstr_size);

/* The commune's digest as the claims left it. */
lt_pg_rc_t lt_outbox_digest_read(PGconn *conn, lt_digest_t *d, char *errstr,
                                 size_t errstr_size);

/* Recompute the digest from the entity states' members and compare it with
 * the one the claims maintained; where they differ (a state removed or
 * added by hand) the states win and the digest is rebuilt. *differing gets
 * how many buckets differed. */
lt_pg_rc_t lt_outbox_digest_check(PGconn *conn, uint64_t *differing, char *errstr,
                                  size_t errstr_size);

/* Do entity states lack their digest member (written before digests)? */
lt_pg_rc_t lt_outbox_digest_needs_rebuild(PGconn *conn, int *needed, char *errstr,
                                          size_t errstr_size);

/* Fill every missing member and recompute the digest from entity_state, in
 * one transaction that holds claims off; *filled gets how many states got
 * their member. */
lt_pg_rc_t lt_outbox_digest_rebuild(PGconn *conn, uint64_t *filled, char *errstr,
                                    size_t errstr_size);

/* Fresh statistics for the claim query (a backlog may have piled up while
 * the agent was away); a failure is harmless and ignored. */
void lt_outbox_analyze(PGconn *conn);

/* Be told of committed outbox inserts (the schema's outbox_notify trigger):
 * LISTEN on conn, again after each reconnect. *has_trigger says whether the
 * trigger is there to tell (an older schema polls only). */
lt_pg_rc_t lt_outbox_listen(PGconn *conn, int *has_trigger, char *errstr, size_t errstr_size);
/* 1 when conn received such a notice (all are consumed) or lost its
 * connection (the next statement says so), else 0. Never blocks. */
int lt_outbox_notified(PGconn *conn);

/* Rows not yet acknowledged (assigned or not), for heartbeats and status. */
lt_pg_rc_t lt_outbox_pending(PGconn *conn, uint64_t *pending, char *errstr,
                             size_t errstr_size);

/* Build an Event from JSON payload text and row fields, strings in NFC and
 * the content hash set. Returns NULL with a reason in errstr when the payload
 * does not fit the entity's type. */
Lienthong__V1__Event *lt_outbox_make_event(const char *entity_type, const char *entity_id,
                                           uint64_t version, const char *op,
                                           int64_t occurred_at_us, int64_t recorded_at_us,
                                           const char *payload_json, char *errstr,
                                           size_t errstr_size);

/* One change the commune system writes, as lt_outbox_insert_rows takes it. */
typedef struct lt_outbox_row {
    const char *entity_type;  /* "civil_record" / "dossier" */
    const char *entity_id;
    uint64_t version;
    const char *op;           /* "upsert" / "delete" */
    int64_t occurred_at_us;
    const char *payload_json; /* proto3 JSON of the payload; NULL for a delete */
} lt_outbox_row_t;

/* Insert n rows into the outbox in their order (ids rise with it), the values
 * as statement parameters, in the caller's transaction if one is open. Over
 * 10,000 rows take several statements, which commit together only inside a
 * transaction. A row whose (entity type, id, version) is present already is
 * refused (LT_PG_DATA), as is one breaking another constraint of lt.outbox. */
lt_pg_rc_t lt_outbox_insert_rows(PGconn *conn, const lt_outbox_row_t *rows, size_t n,
                                 char *errstr, size_t errstr_size);

/* As lt_outbox_insert_rows, for an import: a row whose (entity type, id,
 * version) is present already is skipped, not refused; *inserted gets how
 * many rows were added. */
lt_pg_rc_t lt_outbox_import_rows(PGconn *conn, const lt_outbox_row_t *rows, size_t n,
                                 uint64_t *inserted, char *errstr, size_t errstr_size);

/* A row the agent refused, as `lienthong-agent status` shows it. */
typedef struct lt_outbox_refused {
    int64_t id;
    char entity_type[16];
    char entity_id[132];
    uint64_t version;
    char reason[1024]; /* reject_reason, its first 200 characters */
} lt_outbox_refused_t;

#define LT_OUTBOX_REFUSED_SHOWN 5

/* What `lienthong-agent status` reports. Counts are rows of lt.outbox. */
typedef struct lt_outbox_status {
    uint64_t next_seq;           /* next sequence to assign */
    uint64_t acked_seq;          /* every seq <= this is acknowledged by Kafka */
    uint64_t numbered_unsent;    /* have a seq, not yet acknowledged by Kafka */
    uint64_t unnumbered;         /* committed, waiting for a seq (not refused) */
    uint64_t refused;            /* refused by the agent, never sent (reject_reason) */
    double oldest_unsent_age_s;  /* age of the row first in line to be sent; -1: none */
    char last_sent_at[40];       /* when acked_seq was marked sent, UTC ISO 8601 with
                                    microseconds; "" when nothing was sent yet */
    double last_sent_age_s;      /* seconds since then; -1: none */
    size_t n_refused_latest;     /* the newest refused rows, newest first */
    lt_outbox_refused_t refused_latest[LT_OUTBOX_REFUSED_SHOWN];
} lt_outbox_status_t;

/* Gather the status of commune's outbox in one query (and one more for the
 * newest refused rows when there are any); its cost grows with the rows not
 * yet sent and the refused ones, not with the outbox. LT_PG_FATAL with a hint
 * when the commune has no agent_state row. */
lt_pg_rc_t lt_outbox_status(PGconn *conn, const char *commune, lt_outbox_status_t *st,
                            char *errstr, size_t errstr_size);

/* ---------------------------------------------------------------- resync
 * The province asks on its control topic for states again (lt.proto
 * ResyncRequest); the agent records each request with the control offset,
 * then answers it bucket by bucket (or range by range) between live batches. */

/* A request as read from the control topic. */
typedef struct lt_resync_request {
    const char *request_id;
    const uint32_t *buckets;
    size_t n_buckets;
    int all_buckets;
    uint64_t first_seq, last_seq; /* 0, 0: no range */
    const char *entities_json;    /* [["civil_record", "id"], ...], or NULL */
} lt_resync_request_t;

/* The next piece of work of the oldest unfinished request. */
typedef struct lt_resync_work {
    char request_id[80];
    int bucket;       /* the next bucket to send, -1 when none is left */
    int buckets_left; /* including this one */
    uint64_t first_seq, last_seq; /* the range still to send; 0, 0: none */
    int entities;      /* 1: the request names entities ... */
    int entities_done; /* ... of which these are answered */
} lt_resync_work_t;

/* Where the control topic resumes. */
lt_pg_rc_t lt_outbox_control_offset(PGconn *conn, const char *commune, int64_t *offset,
                                    char *errstr, size_t errstr_size);

/* Record req (a known request_id is ignored) and move the control offset to
 * next_offset, together. */
lt_pg_rc_t lt_outbox_resync_accept(PGconn *conn, const char *commune,
                                   const lt_resync_request_t *req, int64_t next_offset,
                                   char *errstr, size_t errstr_size);

/* The province confirmed its digest equal up to seq (capped at acked_seq),
 * taken with the control offset after it in one statement. */
lt_pg_rc_t lt_outbox_confirm(PGconn *conn, const char *commune, uint64_t seq,
                             int64_t next_offset, char *errstr, size_t errstr_size);

/* Retention: delete at most limit sent rows at or below the confirmed
 * sequence, sent more than older_than_s ago, that hold no entity's current
 * state (a resync still finds every state). *purged: how many. */
lt_pg_rc_t lt_outbox_purge(PGconn *conn, const char *commune, long older_than_s, int limit,
                           uint64_t *purged, char *errstr, size_t errstr_size);

/* Move the control offset past a message that is not a request. */
lt_pg_rc_t lt_outbox_control_skip(PGconn *conn, const char *commune, int64_t next_offset,
                                  char *errstr, size_t errstr_size);

/* The oldest unfinished request's next piece; *found 0 when there is none. */
lt_pg_rc_t lt_outbox_resync_next(PGconn *conn, lt_resync_work_t *work, int *found,
                                 char *errstr, size_t errstr_size);

/* Up to limit current states of bucket after (after_type, after_id) in
 * (type, id) order, as events under the sequence of their outbox row. */
lt_pg_rc_t lt_outbox_resync_states(PGconn *conn, int bucket, const char *after_type,
                                   const char *after_id, int limit,
                                   Lienthong__V1__Event ***events, size_t *count, char *errstr,
                                   size_t errstr_size);

/* Every entity of bucket: (entity_type, entity_id, version) rows in *res. */
/* Up to limit of the entities a request names, after the first `done`, in
 * its order: *res holds per row (index, type, id, seq, the outbox row's
 * event columns), seq NULL for one the commune does not hold. */
lt_pg_rc_t lt_outbox_resync_entities(PGconn *conn, const char *request_id, int done, int limit,
                                     PGresult **res, char *errstr, size_t errstr_size);
/* The event of row of such a result (NULL with errstr if it does not decode). */
Lienthong__V1__Event *lt_outbox_resync_entity_event(PGresult *res, int row, char *errstr,
                                                   size_t errstr_size);
/* n more of the request's entities answered; done when all are. */
lt_pg_rc_t lt_outbox_resync_entities_advance(PGconn *conn, const char *request_id, int n,
                                             char *errstr, size_t errstr_size);

lt_pg_rc_t lt_outbox_resync_manifest(PGconn *conn, int bucket, PGresult **res, char *errstr,
                                     size_t errstr_size);

/* The work's bucket is sent and its range moved to next_first_seq; the
 * request is done when nothing is left. */
lt_pg_rc_t lt_outbox_resync_advance(PGconn *conn, const lt_resync_work_t *work,
                                    uint64_t next_first_seq, char *errstr, size_t errstr_size);

/* A local request for every bucket (lienthong-agent snapshot). */
lt_pg_rc_t lt_outbox_resync_snapshot(PGconn *conn, const char *request_id, char *errstr,
                                     size_t errstr_size);

#endif
