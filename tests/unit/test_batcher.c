/* Cutting events into batches: by count, by bytes, by linger time. */
#include <stdlib.h>
#include <string.h>

#include "lt_batcher.h"
#include "lt_test.h"

/* n events whose entity_id is id_len bytes, so their size is controlled. */
static Lienthong__V1__Event **make_events(size_t n, size_t id_len)
{
    Lienthong__V1__Event **events = calloc(n, sizeof(*events));
    for (size_t i = 0; i < n; i++) {
        events[i] = malloc(sizeof(**events));
        lienthong__v1__event__init(events[i]);
        events[i]->seq = i + 1;
        events[i]->entity_id = malloc(id_len + 1);
        memset(events[i]->entity_id, 'x', id_len);
        events[i]->entity_id[id_len] = '\0';
    }
    return events;
}

static void test_full_by_count(void)
{
    lt_batcher_t b;
    size_t bytes;
    lt_batcher_init(&b, 4, 1 << 20, 1000);
    lt_batcher_append(&b, make_events(10, 8), 10, 0);
    ASSERT_EQ_INT(lt_batcher_next(&b, &bytes), 4);
    ASSERT_TRUE(lt_batcher_ready(&b, 0)); /* full: no need to linger */
    lt_batcher_consume(&b, 4, 0);
    lt_batcher_consume(&b, lt_batcher_next(&b, &bytes), 0);
    ASSERT_EQ_INT(lt_batcher_waiting(&b), 2);
    ASSERT_EQ_INT(lt_batcher_front(&b)[0]->seq, 9);
    ASSERT_TRUE(!lt_batcher_ready(&b, 999)); /* 2 < 4 and still lingering */
    ASSERT_TRUE(lt_batcher_ready(&b, 1000));
    lt_batcher_clear(&b);
    ASSERT_EQ_INT(lt_batcher_waiting(&b), 0);
}

static void test_full_by_bytes(void)
{
    lt_batcher_t b;
    size_t bytes;
    /* Each event: entity_id 100 bytes + tag/len (2) + seq (2) = 104, plus 1 + 1 framing. */
    lt_batcher_init(&b, 1000, 350, 1000);
    lt_batcher_append(&b, make_events(5, 100), 5, 0);
    size_t n = lt_batcher_next(&b, &bytes);
    ASSERT_EQ_INT(n, 3);
    ASSERT_TRUE(bytes <= 350);
    ASSERT_TRUE(lt_batcher_ready(&b, 0));
    lt_batcher_clear(&b);
}

static void test_oversized_event_goes_alone(void)
{
    lt_batcher_t b;
    size_t bytes;
    lt_batcher_init(&b, 1000, 50, 0);
    lt_batcher_append(&b, make_events(2, 200), 2, 0);
    ASSERT_EQ_INT(lt_batcher_next(&b, &bytes), 1);
    ASSERT_TRUE(bytes > 50);
    lt_batcher_clear(&b);
}

static void test_append_keeps_order_and_linger_start(void)
{
    lt_batcher_t b;
    size_t bytes;
    lt_batcher_init(&b, 100, 1 << 20, 50);
    lt_batcher_append(&b, make_events(3, 4), 3, 10);
    lt_batcher_consume(&b, 1, 10);
    Lienthong__V1__Event **more = make_events(2, 4);
    more[0]->seq = 4;
    more[1]->seq = 5;
    lt_batcher_append(&b, more, 2, 40); /* events already waiting keep their start */
    ASSERT_EQ_INT(lt_batcher_waiting(&b), 4);
    ASSERT_EQ_INT(lt_batcher_front(&b)[0]->seq, 2);
    ASSERT_EQ_INT(lt_batcher_front(&b)[3]->seq, 5);
    ASSERT_EQ_INT(lt_batcher_next(&b, &bytes), 4);
    ASSERT_TRUE(!lt_batcher_ready(&b, 59));
    ASSERT_TRUE(lt_batcher_ready(&b, 60));
    lt_batcher_clear(&b);
}

int main(void)
{
    RUN_TEST(test_full_by_count);
    RUN_TEST(test_full_by_bytes);
    RUN_TEST(test_oversized_event_goes_alone);
    RUN_TEST(test_append_keeps_order_and_linger_start);
    return LT_TEST_EXIT();
}
