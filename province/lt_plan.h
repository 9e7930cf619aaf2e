/* lt_plan — what one round of Kafka messages asks of the province database,
 * worked out in memory, without I/O.
 *
 * Planning opens every message's envelope with the key the registry holds
 * for its commune, checks the batch and its events against the commune's
 * progress and the rules, and produces the rows the store writes in one
 * transaction: event log, newest version per entity, batch log, gaps,
 * quarantined messages, offsets and each commune's new progress. Nothing is
 * applied to the registry until the store has committed the plan
 * (lt_plan_committed), so a failed commit leaves it as it was and the same
 * messages can be planned again. */
#ifndef LT_PLAN_H
#define LT_PLAN_H

#include <stddef.h>
#include <stdint.h>

#include "lt_newest.h"
#include "lt_registry.h"

struct lt_units; /* lt_units.h */

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

typedef enum {
    /* The sink's rounds: an event is applied when its sequence is above the
     * commune's last applied one or inside one of its open gaps, anything
     * else is a duplicate; a jump opens a gap; a message that cannot be
     * applied is quarantined; every message's offset advances. */
    LT_PLAN_NORMAL,
    /* A quarantined message once more (lienthong-reconcile quarantine
     * replay): every event is offered and the store skips those the event
     * log holds; no gap is opened, no offset moves, and a message that still
     * cannot be applied stays where it is, its reason in lt_plan_refusal. */
    LT_PLAN_REPLAY,
} lt_plan_mode_t;

typedef struct lt_plan lt_plan_t;

/* A plan over reg (borrowed: it must outlive the plan, and the plan is
 * reset whenever reg is loaded again). Messages are decoded up to
 * max_message_bytes; allow_integrity_only accepts "sha256:" batches from
 * communes without a registered key; units (borrowed) gives the rules, NULL
 * skips them (tests). */
lt_plan_t *lt_plan_new(lt_registry_t *reg, size_t max_message_bytes, int allow_integrity_only,
                       const struct lt_units *units);
void lt_plan_destroy(lt_plan_t *plan); /* NULL allowed */

/* A second plan over the same registry, settings and counters (lt_plan_stats
 * of either counts the rounds of both): the sink plans one round while the
 * store commits the other. Destroy it before plan. */
lt_plan_t *lt_plan_new_twin(lt_plan_t *plan);

/* Plan msgs[0..n) as one round, after forgetting the previous plan. Never
 * fails: what cannot be applied is planned for quarantine (or, replaying,
 * kept as the refusal). */
void lt_plan_messages(lt_plan_t *plan, const lt_msg_t *msgs, size_t n, lt_plan_mode_t mode);

/* As lt_plan_messages in normal mode, but on top of base, a plan not yet
 * committed: a commune base plans starts from base's planned progress, as if
 * base were committed; the others from the registry. base is only read, and
 * not after the call. The plans must be committed in that order; if base's
 * commit fails, this plan is void: reset it and plan its messages again. */
void lt_plan_messages_after(lt_plan_t *plan, const lt_plan_t *base, const lt_msg_t *msgs,
                            size_t n);

/* Add one message to the plan for quarantine as it is (PostgreSQL refused
 * its data): reason code and text as given; its offset advances. */
void lt_plan_refused(lt_plan_t *plan, const lt_msg_t *msg, const char *code, const char *text);

/* Forget the plan. */
void lt_plan_reset(lt_plan_t *plan);

/* The store committed the plan: each commune's planned progress becomes the
 * registry's, the counters grow, duplicate batches and filled gaps are
 * logged, and the plan is reset. */
void lt_plan_committed(lt_plan_t *plan);

/* ---------------------------------------------------- what the store writes */

lt_plan_mode_t lt_plan_mode(const lt_plan_t *plan);

/* COPY text rows (FORMAT text), NUL-terminated, valid until the plan
 * changes; *len (if len is not NULL) gets their length.
 *   event rows:      lt.event_log, one per event applied
 *   gap rows:        lt.seq_gap (commune, from, to)
 *   quarantine rows: lt.quarantine, with the raw message
 *   batch rows:      lt.batch_log, one per batch applied
 *   offset rows:     "topic \t partition \t next offset", one per message
 *   progress rows:   per commune in the plan: last seq and batch hash,
 *                    events, batches, duplicates, newest recorded_at (us) */
const char *lt_plan_event_rows(const lt_plan_t *plan, size_t *len);
const char *lt_plan_gap_rows(const lt_plan_t *plan, size_t *len);
const char *lt_plan_quarantine_rows(const lt_plan_t *plan, size_t *len);
const char *lt_plan_batch_rows(const lt_plan_t *plan, size_t *len);
const char *lt_plan_offset_rows(const lt_plan_t *plan, size_t *len);
const char *lt_plan_progress_rows(const lt_plan_t *plan, size_t *len);
/* Communes' digests to compare after the round is applied, one row per
 * bucket: commune, seq, bucket, count, h0, h1, h2, h3 (lt_digest.h). */
const char *lt_plan_digest_rows(const lt_plan_t *plan, size_t *len);
/* The newest heartbeat of each commune heard from: commune, agent clock
 * (us), outbox backlog, oldest unsent outbox time (us, 0 none), refused
 * rows, agent version, agent id, acked_seq, next_seq. */
const char *lt_plan_heartbeat_rows(const lt_plan_t *plan, size_t *len);
/* Resync parts: the entities the commune holds in the buckets a part
 * completes (commune, bucket, type, id), those buckets (commune, bucket,
 * the last sequence the manifest covers),
 * and one row per part (commune, request id, buckets, events, done t/f). */
const char *lt_plan_manifest_rows(const lt_plan_t *plan, size_t *len);
const char *lt_plan_complete_rows(const lt_plan_t *plan, size_t *len);
const char *lt_plan_resync_rows(const lt_plan_t *plan, size_t *len);

/* The staging rows of the entities the plan touches, the newest version of
 * each (the columns of the round's lt_stage table). */
const lt_newest_t *lt_plan_entity_rows(const lt_plan_t *plan);

/* Does an event of the plan fill an open gap (so gaps may close)? */
int lt_plan_fills_gaps(const lt_plan_t *plan);

/* ------------------------------------------------------ what was planned */

typedef struct lt_plan_counts {
    size_t events;      /* event rows */
    size_t batches;     /* batch rows */
    size_t quarantined; /* quarantine rows */
    size_t gaps;        /* gap rows */
    size_t offsets;     /* messages whose offset advances */
    size_t digests;     /* communes whose digest is compared */
    size_t digests_skipped; /* digests not compared: later events in the same round */
    size_t resync_parts;    /* parts of answers to resync requests */
} lt_plan_counts_t;

lt_plan_counts_t lt_plan_counts(const lt_plan_t *plan);

/* One commune's share of the plan. */
typedef struct lt_plan_commune {
    uint64_t last_seq;   /* its last sequence once the plan is applied */
    uint64_t events;     /* events applied */
    uint64_t batches;    /* batches applied */
    uint64_t duplicates; /* batches skipped: the province holds every event */
    uint64_t fills;      /* events that fill an open gap */
    uint64_t missing;    /* sequences still missing below last_seq afterwards */
    int64_t last_recorded_us; /* newest recorded_at (commune clock, Unix us) of the events
                                 applied; 0 when none */
} lt_plan_commune_t;

/* Returns 0 with *out filled, or -1 when the plan has no message of the
 * commune with that code. */
int lt_plan_for_commune(const lt_plan_t *plan, const char *code, lt_plan_commune_t *out);

/* Replaying: why the message cannot be applied (NULL if it can), with its
 * reason code in *code. */
const char *lt_plan_refusal(const lt_plan_t *plan, const char **code);

/* Counters since the plan was made, grown by lt_plan_committed. */
typedef struct lt_plan_stats {
    uint64_t messages;
    uint64_t events_applied;
    uint64_t batches_applied;
    uint64_t duplicates_skipped;
    uint64_t gaps;
    uint64_t gap_fills; /* events applied into an open gap */
    uint64_t quarantined;
    uint64_t rounds;
    uint64_t digests_compared;
    uint64_t digests_skipped;
} lt_plan_stats_t;

lt_plan_stats_t lt_plan_stats(const lt_plan_t *plan);

#endif
