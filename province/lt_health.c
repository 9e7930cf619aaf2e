#include "lt_health.h"

#include <string.h>

lt_health_bounds_t lt_health_default_bounds(double heartbeat_s)
{
    return (lt_health_bounds_t){.offline_after_s = 6 * heartbeat_s,
                                .stalled_after_s = 120,
                                .lag_warn_s = 600,
                                .skew_max_s = 120,
                                .idle_after_s = 3600};
}

/* The age of the oldest event the province has not applied. */
static double lt_health_lag(const lt_health_input_t *in)
{
    double lag = 0;
    int known = 1;
    if (in->oldest_unsent_age_s > lag)
        lag = in->oldest_unsent_age_s;
    if (in->oldest_unapplied_age_s > lag)
        lag = in->oldest_unapplied_age_s;
    if (in->lag_records > 0 && in->oldest_unapplied_age_s < 0)
        known = 0; /* data waits in Kafka, its age unread */
    return known ? lag : -1;
}

lt_health_state_t lt_health_judge(const lt_health_input_t *in, const lt_health_bounds_t *b,
                                  double *lag_s)
{
    *lag_s = lt_health_lag(in);
    /* Data waiting unapplied is the province's trouble, and the commune's
     * heartbeats may be waiting in it: STALLED before OFFLINE. */
    if (in->lag_records > 0 && in->last_applied_age_s >= 0 &&
        in->last_applied_age_s > b->stalled_after_s)
        return LT_HEALTH_STALLED;
    if (in->heartbeat_age_s < 0 || in->heartbeat_age_s > b->offline_after_s)
        return LT_HEALTH_OFFLINE;
    if (in->digest_equal == 0)
        return LT_HEALTH_DIVERGED;
    if (in->quarantined_recent > 0)
        return LT_HEALTH_QUARANTINE;
    /* A heartbeat applied late (the sink catching up) says nothing of the
     * clock: skew counts only when nothing waits. */
    if (in->lag_records == 0 &&
        (in->clock_skew_s > b->skew_max_s || in->clock_skew_s < -b->skew_max_s))
        return LT_HEALTH_SKEWED;
    if (*lag_s > b->lag_warn_s || (*lag_s < 0 && in->lag_records > 0))
        return *lag_s < 0 ? LT_HEALTH_UNKNOWN : LT_HEALTH_LAGGING;
    if (in->lag_records <= 0 && (in->last_applied_age_s < 0 ||
                                 in->last_applied_age_s > b->idle_after_s))
        return LT_HEALTH_IDLE;
    return LT_HEALTH_OK;
}

static const char *const lt_health_names[] = {"OK",         "IDLE",     "LAGGING", "SKEWED",
                                              "QUARANTINE", "DIVERGED", "STALLED", "OFFLINE",
                                              "UNKNOWN"};
#define LT_HEALTH_N_NAMES (sizeof(lt_health_names) / sizeof(*lt_health_names))

const char *lt_health_name(lt_health_state_t s)
{
    return (unsigned)s < LT_HEALTH_N_NAMES ? lt_health_names[s] : "?";
}

int lt_health_from_name(const char *name)
{
    for (size_t i = 0; name && i < LT_HEALTH_N_NAMES; i++)
        if (strcmp(lt_health_names[i], name) == 0)
            return (int)i;
    return -1;
}

int lt_health_alerts(lt_health_state_t s)
{
    return s != LT_HEALTH_OK && s != LT_HEALTH_IDLE;
}
