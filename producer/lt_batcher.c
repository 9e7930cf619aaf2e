#include "lt_batcher.h"

#include <stdlib.h>
#include <string.h>

#include "lt_codec.h"

void lt_batcher_init(lt_batcher_t *b, size_t max_events, size_t max_bytes, int64_t linger_ms)
{
    memset(b, 0, sizeof(*b));
    b->max_events = max_events;
    b->max_bytes = max_bytes;
    b->linger_ms = linger_ms;
}

void lt_batcher_append(lt_batcher_t *b, Lienthong__V1__Event **events, size_t n,
                       int64_t now_ms)
{
    size_t waiting = lt_batcher_waiting(b);
    if (waiting == 0)
        b->since_ms = now_ms;
    /* Compact: the consumed head is dead space. */
    if (waiting && b->pos)
        memmove(b->events, b->events + b->pos, waiting * sizeof(*b->events));
    b->len = waiting;
    b->pos = 0;
    if (b->len + n > b->cap) {
        b->cap = b->len + n;
        b->events = realloc(b->events, b->cap * sizeof(*b->events));
        if (!b->events)
            abort();
    }
    memcpy(b->events + b->len, events, n * sizeof(*events));
    b->len += n;
    free(events);
}

size_t lt_batcher_waiting(const lt_batcher_t *b)
{
    return b->len - b->pos;
}

size_t lt_batcher_next(const lt_batcher_t *b, size_t *bytes)
{
    size_t n = 0, total = 0, waiting = lt_batcher_waiting(b);
    while (n < waiting && n < b->max_events) {
        size_t sz = lt_batch_event_bytes(b->events[b->pos + n]);
        if (n > 0 && total + sz > b->max_bytes)
            break; /* a single oversized event still goes, alone */
        total += sz;
        n++;
    }
    *bytes = total;
    return n;
}

int lt_batcher_ready(const lt_batcher_t *b, int64_t now_ms)
{
    size_t bytes, waiting = lt_batcher_waiting(b);
    if (waiting == 0)
        return 0;
    size_t take = lt_batcher_next(b, &bytes);
    if (take < waiting || take >= b->max_events)
        return 1; /* full by count or by bytes */
    return now_ms - b->since_ms >= b->linger_ms;
}

Lienthong__V1__Event **lt_batcher_front(const lt_batcher_t *b)
{
    return b->events + b->pos;
}

void lt_batcher_consume(lt_batcher_t *b, size_t n, int64_t now_ms)
{
    for (size_t i = 0; i < n; i++) {
        protobuf_c_message_free_unpacked(&b->events[b->pos + i]->base, NULL);
        b->events[b->pos + i] = NULL;
    }
    b->pos += n;
    b->since_ms = now_ms; /* the rest start their linger now */
}

void lt_batcher_clear(lt_batcher_t *b)
{
    for (size_t i = b->pos; i < b->len; i++)
        protobuf_c_message_free_unpacked(&b->events[i]->base, NULL);
    free(b->events);
    b->events = NULL;
    b->len = b->cap = b->pos = 0;
}
