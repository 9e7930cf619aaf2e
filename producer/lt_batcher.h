/* lt_batcher — cutting the stream of outbox events into batches.
 *
 * A batch closes when it holds max_events, when one more event would pass
 * max_bytes, or when its oldest event has waited linger_ms. Pure logic with
 * the clock passed in, so it is tested without a broker or a database. */
#ifndef LT_BATCHER_H
#define LT_BATCHER_H

#include <stddef.h>
#include <stdint.h>

#include "lienthong/v1/lienthong.pb-c.h"

typedef struct lt_batcher {
    Lienthong__V1__Event **events; /* owned; [pos, len) are waiting */
    size_t len, cap, pos;
    int64_t since_ms; /* when the oldest waiting event arrived */
    size_t max_events;
    size_t max_bytes;
    int64_t linger_ms;
} lt_batcher_t;

void lt_batcher_init(lt_batcher_t *b, size_t max_events, size_t max_bytes, int64_t linger_ms);

/* Append n events; takes ownership of the events and of the array itself. */
void lt_batcher_append(lt_batcher_t *b, Lienthong__V1__Event **events, size_t n,
                       int64_t now_ms);

size_t lt_batcher_waiting(const lt_batcher_t *b);

/* How many waiting events the next batch takes; *bytes gets their encoded size. */
size_t lt_batcher_next(const lt_batcher_t *b, size_t *bytes);

/* True when the next batch should go now (full, or lingered long enough). */
int lt_batcher_ready(const lt_batcher_t *b, int64_t now_ms);

/* The waiting events, oldest first (valid until the next call). */
Lienthong__V1__Event **lt_batcher_front(const lt_batcher_t *b);

/* Free the first n waiting events: they were produced. */
void lt_batcher_consume(lt_batcher_t *b, size_t n, int64_t now_ms);

/* Free everything (after a rewind or at exit). */
void lt_batcher_clear(lt_batcher_t *b);

#endif
