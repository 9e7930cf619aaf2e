/* lt_acks: the agent marks rows sent only over a contiguous run of batches
 * Kafka acknowledged, whatever order the delivery reports come in. */
#include "lt_acks.h"
#include "lt_test.h"

static const uint8_t h1[LT_ACKS_HASH_LEN] = {1}, h2[LT_ACKS_HASH_LEN] = {2},
                     h3[LT_ACKS_HASH_LEN] = {3};

static void test_reports_out_of_order_mark_in_order(void)
{
    lt_acks_t *acks = lt_acks_new(10);
    lt_ack_t *a = lt_acks_produced(acks, 11, 20, 100, h1);
    lt_ack_t *b = lt_acks_produced(acks, 21, 30, 100, h2);
    lt_ack_t *c = lt_acks_produced(acks, 31, 35, 100, h3);
    ASSERT_EQ_INT(lt_acks_inflight(acks), 3);
    lt_ack_run_t run;
    lt_acks_delivered(acks, c, 0);
    lt_acks_delivered(acks, b, 0);
    ASSERT_TRUE(!lt_acks_ready(acks, &run)); /* 11..20 still in flight */
    lt_acks_delivered(acks, a, 0);
    ASSERT_TRUE(lt_acks_ready(acks, &run));
    ASSERT_EQ_INT(run.first_seq, 11);
    ASSERT_EQ_INT(run.last_seq, 35);
    ASSERT_EQ_INT(run.batches, 3);
    ASSERT_EQ_INT(run.last_hash[0], 3);
    lt_acks_marked(acks, &run);
    ASSERT_EQ_INT(lt_acks_acked_seq(acks), 35);
    ASSERT_TRUE(!lt_acks_ready(acks, &run));
    lt_acks_destroy(acks);
}

static void test_refusal_in_the_middle_stops_the_run(void)
{
    lt_acks_t *acks = lt_acks_new(0);
    lt_ack_t *a = lt_acks_produced(acks, 1, 6, 10, h1);
    lt_ack_t *b = lt_acks_produced(acks, 7, 7, 5000000, h2);
    lt_ack_t *c = lt_acks_produced(acks, 8, 9, 10, h3);
    lt_acks_delivered(acks, a, 0);
    lt_acks_delivered(acks, b, 10 /* MSG_SIZE_TOO_LARGE */);
    lt_acks_delivered(acks, c, 0);
    lt_ack_run_t run;
    lt_ack_failure_t f;
    ASSERT_TRUE(!lt_acks_failed(acks, &f)); /* 1..6 are to be marked first */
    ASSERT_TRUE(lt_acks_ready(acks, &run));
    ASSERT_EQ_INT(run.last_seq, 6);
    lt_acks_marked(acks, &run);
    ASSERT_TRUE(!lt_acks_ready(acks, &run)); /* 8..9 is in Kafka but behind the refusal */
    ASSERT_TRUE(lt_acks_failed(acks, &f));
    ASSERT_EQ_INT(f.first_seq, 7);
    ASSERT_EQ_INT(f.last_seq, 7);
    ASSERT_EQ_INT(f.bytes, 5000000);
    ASSERT_EQ_INT(f.err, 10);
    lt_acks_reset(acks);
    ASSERT_EQ_INT(lt_acks_acked_seq(acks), 6);
    ASSERT_EQ_INT(lt_acks_inflight(acks), 0);
    /* Resent from 7: marked once delivered. */
    lt_ack_t *again = lt_acks_produced(acks, 7, 9, 5000020, h3);
    lt_acks_delivered(acks, again, 0);
    ASSERT_TRUE(lt_acks_ready(acks, &run));
    ASSERT_EQ_INT(run.first_seq, 7);
    ASSERT_EQ_INT(run.last_seq, 9);
    lt_acks_destroy(acks);
}

static void test_batch_not_continuing_the_sequence_is_not_marked(void)
{
    lt_acks_t *acks = lt_acks_new(6);
    lt_ack_t *a = lt_acks_produced(acks, 8, 9, 10, h1); /* 7 is missing */
    lt_acks_delivered(acks, a, 0);
    lt_ack_run_t run;
    lt_ack_failure_t f;
    ASSERT_TRUE(!lt_acks_ready(acks, &run));
    ASSERT_TRUE(lt_acks_failed(acks, &f));
    ASSERT_EQ_INT(f.first_seq, 8);
    ASSERT_EQ_INT(f.err, 0);
    lt_acks_destroy(acks);
}

static void test_unproduce_forgets_the_last_batch(void)
{
    lt_acks_t *acks = lt_acks_new(0);
    lt_ack_t *a = lt_acks_produced(acks, 1, 1, 10, h1);
    lt_ack_t *b = lt_acks_produced(acks, 2, 2, 10, h2);
    lt_acks_unproduce(acks, b);
    ASSERT_EQ_INT(lt_acks_inflight(acks), 1);
    lt_acks_delivered(acks, a, 0);
    lt_ack_run_t run;
    ASSERT_TRUE(lt_acks_ready(acks, &run));
    ASSERT_EQ_INT(run.last_seq, 1);
    lt_acks_marked(acks, &run);
    lt_ack_t *c = lt_acks_produced(acks, 2, 3, 10, h3); /* the tail was fixed up */
    lt_acks_delivered(acks, c, 0);
    ASSERT_TRUE(lt_acks_ready(acks, &run));
    ASSERT_EQ_INT(run.last_seq, 3);
    lt_acks_destroy(acks);
}

int main(void)
{
    RUN_TEST(test_reports_out_of_order_mark_in_order);
    RUN_TEST(test_refusal_in_the_middle_stops_the_run);
    RUN_TEST(test_batch_not_continuing_the_sequence_is_not_marked);
    RUN_TEST(test_unproduce_forgets_the_last_batch);
    return LT_TEST_EXIT();
}
