/* lt_health: each state from the readings that define it, the most urgent
 * first, and the lag in seconds from the oldest event not yet applied. */
#include "lt_health.h"
#include "lt_test.h"

/* A commune in good health: heard 5 s ago, everything applied 10 s ago. */
static lt_health_input_t healthy(void)
{
    return (lt_health_input_t){.heartbeat_age_s = 5,
                               .clock_skew_s = 0.2,
                               .oldest_unsent_age_s = -1,
                               .oldest_unapplied_age_s = -1,
                               .lag_records = 0,
                               .last_applied_age_s = 10,
                               .digest_equal = 1,
                               .quarantined_recent = 0};
}

static void check(const char *what, lt_health_input_t in, lt_health_state_t want, double want_lag)
{
    lt_health_bounds_t b = lt_health_default_bounds(15);
    double lag;
    lt_health_state_t got = lt_health_judge(&in, &b, &lag);
    if (got != want)
        fprintf(stderr, "  %s: %s, expected %s\n", what, lt_health_name(got), lt_health_name(want));
    ASSERT_EQ_INT(got, want);
    ASSERT_EQ_INT((long long)(lag * 10), (long long)(want_lag * 10));
}

static void test_states(void)
{
    lt_health_input_t in = healthy();
    check("healthy", in, LT_HEALTH_OK, 0);

    in = healthy();
    in.last_applied_age_s = 7200;
    check("nothing to apply for two hours", in, LT_HEALTH_IDLE, 0);

    in = healthy();
    in.heartbeat_age_s = 91; /* 6 intervals of 15 s */
    check("no heartbeat for 91 s", in, LT_HEALTH_OFFLINE, 0);
    in.heartbeat_age_s = -1;
    check("never heard from", in, LT_HEALTH_OFFLINE, 0);

    in = healthy();
    in.lag_records = 12;
    in.oldest_unapplied_age_s = 30;
    in.last_applied_age_s = 121;
    check("data waits, nothing applied for 121 s", in, LT_HEALTH_STALLED, 30);
    in.last_applied_age_s = 20;
    check("data waits, applied 20 s ago", in, LT_HEALTH_OK, 30);
    in.oldest_unapplied_age_s = 601;
    check("the oldest unapplied event is 601 s old", in, LT_HEALTH_LAGGING, 601);

    in = healthy();
    in.oldest_unsent_age_s = 900; /* a backlog at the commune (Kafka away) */
    check("900 s of backlog at the commune", in, LT_HEALTH_LAGGING, 900);

    in = healthy();
    in.lag_records = 5; /* waiting in Kafka, the first record's time unread */
    check("data waits, its age unknown", in, LT_HEALTH_UNKNOWN, -1);

    in = healthy();
    in.digest_equal = 0;
    check("digest differs", in, LT_HEALTH_DIVERGED, 0);

    in = healthy();
    in.quarantined_recent = 2;
    check("quarantine growing", in, LT_HEALTH_QUARANTINE, 0);

    in = healthy();
    in.clock_skew_s = -300;
    check("clock 5 min ahead", in, LT_HEALTH_SKEWED, 0);

    in = healthy();
    in.digest_equal = 0;
    in.heartbeat_age_s = 1000;
    check("offline outranks diverged", in, LT_HEALTH_OFFLINE, 0);
    in.lag_records = 3;
    in.oldest_unapplied_age_s = 200;
    in.last_applied_age_s = 300;
    check("a stalled sink outranks an unheard commune", in, LT_HEALTH_STALLED, 200);

    ASSERT_TRUE(lt_health_alerts(LT_HEALTH_LAGGING));
    ASSERT_TRUE(!lt_health_alerts(LT_HEALTH_IDLE));
    ASSERT_TRUE(!lt_health_alerts(LT_HEALTH_OK));
}

/* Names go both ways: the metrics read the state back from status's JSON. */
static void test_names(void)
{
    for (int s = LT_HEALTH_OK; s <= LT_HEALTH_UNKNOWN; s++)
        ASSERT_EQ_INT(lt_health_from_name(lt_health_name((lt_health_state_t)s)), s);
    ASSERT_EQ_INT(lt_health_from_name("ok"), -1);
    ASSERT_EQ_INT(lt_health_from_name(NULL), -1);
    ASSERT_EQ_INT(lt_health_from_name("?"), -1);
}

int main(void)
{
    RUN_TEST(test_states);
    RUN_TEST(test_names);
    return LT_TEST_EXIT();
}
