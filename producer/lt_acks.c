#include "lt_acks.h"

#include <stdlib.h>
#include <string.h>

typedef enum { LT_ACK_INFLIGHT, LT_ACK_DELIVERED, LT_ACK_REFUSED } lt_ack_state_t;

struct lt_ack {
    uint64_t first_seq, last_seq;
    size_t bytes;
    uint8_t hash[LT_ACKS_HASH_LEN];
    lt_ack_state_t state;
    int err;
    struct lt_ack *next;
};

struct lt_acks {
    lt_ack_t *head, *tail; /* produce order */
    size_t inflight;
    uint64_t acked_seq;
};

lt_acks_t *lt_acks_new(uint64_t acked_seq)
{
    lt_acks_t *acks = calloc(1, sizeof(*acks));
    if (!acks)
        abort();
    acks->acked_seq = acked_seq;
    return acks;
}

static void lt_acks_free_from(lt_ack_t *ack)
{
    for (lt_ack_t *next; ack; ack = next) {
        next = ack->next;
        free(ack);
    }
}

void lt_acks_destroy(lt_acks_t *acks)
{
    if (!acks)
        return;
    lt_acks_free_from(acks->head);
    free(acks);
}

lt_ack_t *lt_acks_produced(lt_acks_t *acks, uint64_t first_seq, uint64_t last_seq, size_t bytes,
                           const uint8_t hash[LT_ACKS_HASH_LEN])
{
    lt_ack_t *ack = calloc(1, sizeof(*ack));
    if (!ack)
        abort();
    ack->first_seq = first_seq;
    ack->last_seq = last_seq;
    ack->bytes = bytes;
    memcpy(ack->hash, hash, LT_ACKS_HASH_LEN);
    ack->state = LT_ACK_INFLIGHT;
    if (acks->tail)
        acks->tail->next = ack;
    else
        acks->head = ack;
    acks->tail = ack;
    acks->inflight++;
    return ack;
}

void lt_acks_unproduce(lt_acks_t *acks, lt_ack_t *ack)
{
    lt_ack_t **link = &acks->head, *prev = NULL;
    while (*link && *link != ack) {
        prev = *link;
        link = &(*link)->next;
    }
    if (!*link)
        return;
    *link = ack->next;
    if (acks->tail == ack)
        acks->tail = prev;
    if (ack->state == LT_ACK_INFLIGHT)
        acks->inflight--;
    free(ack);
}

void lt_acks_delivered(lt_acks_t *acks, lt_ack_t *ack, int err)
{
    if (ack->state == LT_ACK_INFLIGHT)
        acks->inflight--;
    ack->state = err ? LT_ACK_REFUSED : LT_ACK_DELIVERED;
    ack->err = err;
}

size_t lt_acks_inflight(const lt_acks_t *acks)
{
    return acks->inflight;
}

uint64_t lt_acks_acked_seq(const lt_acks_t *acks)
{
    return acks->acked_seq;
}

int lt_acks_ready(const lt_acks_t *acks, lt_ack_run_t *run)
{
    uint64_t expect = acks->acked_seq + 1;
    memset(run, 0, sizeof(*run));
    /* A batch that does not continue the sequence (one before it was
     * refused and forgotten) ends the run as surely as a refused one. */
    for (const lt_ack_t *ack = acks->head;
         ack && ack->state == LT_ACK_DELIVERED && ack->first_seq == expect; ack = ack->next) {
        if (!run->batches)
            run->first_seq = ack->first_seq;
        run->last_seq = ack->last_seq;
        memcpy(run->last_hash, ack->hash, LT_ACKS_HASH_LEN);
        run->batches++;
        expect = ack->last_seq + 1;
    }
    return run->batches > 0;
}

void lt_acks_marked(lt_acks_t *acks, const lt_ack_run_t *run)
{
    for (size_t i = 0; i < run->batches && acks->head; i++) {
        lt_ack_t *done = acks->head;
        acks->head = done->next;
        free(done);
    }
    if (!acks->head)
        acks->tail = NULL;
    acks->acked_seq = run->last_seq;
}

int lt_acks_failed(const lt_acks_t *acks, lt_ack_failure_t *f)
{
    const lt_ack_t *head = acks->head;
    if (!head || head->state == LT_ACK_INFLIGHT)
        return 0;
    if (head->state == LT_ACK_DELIVERED && head->first_seq == acks->acked_seq + 1)
        return 0; /* ready to be marked, not failed */
    f->first_seq = head->first_seq;
    f->last_seq = head->last_seq;
    f->bytes = head->bytes;
    f->err = head->err;
    return 1;
}

void lt_acks_reset(lt_acks_t *acks)
{
    lt_acks_free_from(acks->head);
    acks->head = acks->tail = NULL;
    acks->inflight = 0;
}
