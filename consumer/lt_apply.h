/* lt_apply — turning one poll round of Kafka messages into one PostgreSQL
 * transaction.
 *
 * Planning is pure: it decodes, verifies and validates every message against
 * the communes' known progress and produces a plan (staging rows, offsets,
 * sequence progress, gaps, quarantine entries). Committing runs the plan in a
 * single transaction. A failed commit leaves the in-memory progress untouched,
 * so the same messages are planned again after a reload. */
#ifndef LT_APPLY_H
#define LT_APPLY_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "lt_buf.h"
#include "lt_codec.h"
#include "lt_pg.h"
#include "lt_newest.h"
#include "lt_ranges.h"
#include "lt_units.h"
#include "lt_validate.h"

/* One Kafka message, independent of librdkafka so tests can build them. */
typedef struct lt_msg {
    const char *topic;
    int32_t partition;
    int64_t offset;
    const uint8_t *key;
    size_t key_len;
    const uint8_t *value;
    size_t len;
} lt_msg_t;

/* What the sink knows of one registered commune. */
typedef struct lt_commune {
    char code[8];
    char events_topic[64];
    char *key_id;     /* NULL: integrity-only signatures accepted */
    char *public_key; /* PEM */
    uint64_t last_seq;
    uint8_t last_hash[LT_SHA256_LEN];
    lt_ranges_t missing; /* sequences below last_seq never received (open gaps) */
    /* Planned in the current round, applied to the fields above on commit. */
    uint64_t plan_last_seq;
    uint8_t plan_last_hash[LT_SHA256_LEN];
    lt_ranges_t plan_missing;
    uint64_t plan_events, plan_batches, plan_duplicates;
    uint64_t plan_fills; /* events of this round that fill a gap */
    int64_t plan_last_recorded_us;
    int in_plan;
} lt_commune_t;

typedef struct lt_apply_stats {
    uint64_t messages;
    uint64_t events_applied;
    uint64_t batches_applied;
    uint64_t duplicates_skipped;
    uint64_t gaps;
    uint64_t gap_fills; /* events applied into an open gap */
    uint64_t quarantined;
    uint64_t rounds;
} lt_apply_stats_t;

typedef struct lt_apply {
    char province[4];
    size_t max_message_bytes;
    int allow_integrity_only; /* accept "sha256:" batches from communes without a key */
    const lt_units_t *units;  /* for the rules; NULL skips them (tests) */
    lt_commune_t *communes;
    size_t n_communes;
    /* the plan of the current round */
    lt_buf_t events;   /* lt.event_log rows, COPY text format, one per event */
    lt_newest_t newest; /* lt_stage rows: the newest version of each entity */
    lt_buf_t offsets;  /* lines of "topic\tpartition\tnext_offset" */
    lt_buf_t gaps;     /* COPY rows for lt.seq_gap */
    lt_buf_t quarantine; /* COPY rows for lt.quarantine */
    lt_buf_t batches;  /* COPY rows for lt.batch_log */
    lt_buf_t duplicates; /* "commune topic offset first_seq last_seq" per skipped batch */
    lt_buf_t scratch, row;
    lt_validate_result_t *vr; /* per event of the batch being staged */
    size_t vr_cap;
    /* Replay of one quarantined message (lienthong-reconcile quarantine replay):
     * events already in the event log are skipped instead of sequence-checked,
     * no gap or quarantine row is added, and the quarantine row is marked. */
    int replay;
    int64_t replay_quarantine_id;
    char replay_reason_code[32];
    char replay_reason[512];
    size_t plan_rows, plan_quarantined, plan_gaps, plan_batches, plan_offsets;
    lt_apply_stats_t stats;
} lt_apply_t;

void lt_apply_init(lt_apply_t *apply, const char *province, size_t max_message_bytes,
                   int allow_integrity_only);
void lt_apply_destroy(lt_apply_t *apply);

/* Load registered communes and their progress from the province database. */
lt_pg_rc_t lt_apply_load(lt_apply_t *apply, PGconn *pg, char *errstr, size_t errstr_size);

/* Register a commune in memory (tests; lt_apply_load does this from SQL). */
lt_commune_t *lt_apply_add_commune(lt_apply_t *apply, const char *code, const char *key_id,
                                   const char *public_key, uint64_t last_seq);
lt_commune_t *lt_apply_commune_by_topic(lt_apply_t *apply, const char *topic);

/* Plan a round. Never fails: what cannot be applied is planned for quarantine.
 * An event is applied when its sequence is above the commune's last applied
 * one, or inside one of its open gaps; anything else is a duplicate. */
void lt_apply_plan(lt_apply_t *apply, const lt_msg_t *msgs, size_t n);

/* Plan one message for quarantine as it is (e.g. PostgreSQL refused its
 * data): reason code and text as given; its offset advances. */
void lt_apply_plan_refused(lt_apply_t *apply, const lt_msg_t *msg, const char *code,
                           const char *text);

/* Run the plan in one transaction; on success the progress becomes current.
 * On failure the plan is discarded (plan again after lt_apply_load). */
lt_pg_rc_t lt_apply_commit(lt_apply_t *apply, PGconn *pg, char *errstr, size_t errstr_size);

/* Forget the current plan. */
void lt_apply_reset_plan(lt_apply_t *apply);

/* The province schema (idempotent). */
lt_pg_rc_t lt_apply_migrate(PGconn *pg, char *errstr, size_t errstr_size);

#endif
