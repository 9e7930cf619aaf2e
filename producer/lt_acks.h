/* lt_acks — which produced batches Kafka has acknowledged, in produce order.
 *
 * The outbox rule is "every seq <= acked_seq is in Kafka". So the agent marks
 * rows sent only over a contiguous run of acknowledged batches that starts
 * right after acked_seq. A batch Kafka refused stops the run there: the
 * batches behind it stay unmarked even when Kafka took them, and are sent
 * again after the refused one (the sink skips what it already holds and fills
 * its gap with the refused batch once it arrives).
 *
 * Batches are queued in produce order; delivery reports may arrive in any
 * order. Pure bookkeeping: no Kafka, no database, tested on its own. */
#ifndef LT_ACKS_H
#define LT_ACKS_H

#include <stddef.h>
#include <stdint.h>

#define LT_ACKS_HASH_LEN 32

typedef struct lt_acks lt_acks_t;

/* One produced batch; passed as the message opaque to its delivery report. */
typedef struct lt_ack lt_ack_t;

/* A contiguous run of acknowledged batches, ready to be marked sent. */
typedef struct lt_ack_run {
    uint64_t first_seq, last_seq;
    size_t batches;
    uint8_t last_hash[LT_ACKS_HASH_LEN]; /* hash of the run's last batch: the chain head */
} lt_ack_run_t;

/* The first batch Kafka refused, once every batch before it is marked. */
typedef struct lt_ack_failure {
    uint64_t first_seq, last_seq;
    size_t bytes; /* serialized size of the refused message */
    int err;      /* rd_kafka_resp_err_t of its delivery report */
} lt_ack_failure_t;

/* Start after acked_seq (everything up to it is marked). Never NULL. */
lt_acks_t *lt_acks_new(uint64_t acked_seq);
void lt_acks_destroy(lt_acks_t *acks); /* NULL is fine */

/* A batch first..last of bytes was handed to the producer. The result is the
 * delivery report's opaque; it stays owned by acks. */
lt_ack_t *lt_acks_produced(lt_acks_t *acks, uint64_t first_seq, uint64_t last_seq, size_t bytes,
                           const uint8_t hash[LT_ACKS_HASH_LEN]);

/* The produce call of the batch just recorded failed: forget it. */
void lt_acks_unproduce(lt_acks_t *acks, lt_ack_t *ack);

/* The delivery report of ack: err 0 means Kafka has it. */
void lt_acks_delivered(lt_acks_t *acks, lt_ack_t *ack, int err);

/* Batches produced whose delivery report has not arrived. */
size_t lt_acks_inflight(const lt_acks_t *acks);

/* Everything up to this sequence is marked sent. */
uint64_t lt_acks_acked_seq(const lt_acks_t *acks);

/* The run at the head that can be marked now. Returns 1 and fills run, or 0. */
int lt_acks_ready(const lt_acks_t *acks, lt_ack_run_t *run);

/* run (from lt_acks_ready) is recorded in the database: drop it. */
void lt_acks_marked(lt_acks_t *acks, const lt_ack_run_t *run);

/* Returns 1 and fills f when the head batch was refused (everything before
 * it is marked), else 0. */
int lt_acks_failed(const lt_acks_t *acks, lt_ack_failure_t *f);

/* Forget every batch not marked (after a failure, once nothing is in flight):
 * sending starts again at acked_seq + 1. */
void lt_acks_reset(lt_acks_t *acks);

#endif
