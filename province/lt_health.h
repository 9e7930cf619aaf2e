/* lt_health — one commune's state, from what the province knows of it.
 *
 * A state is judged over a window of time, not from one reading: a commune
 * is LAGGING when the oldest event it has not seen applied is older than a
 * bound, STALLED when data waits and nothing was applied for a while,
 * OFFLINE when its agent has not been heard from for several heartbeat
 * intervals (Burrow's evaluation of consumer lag is the model). Pure: the
 * caller gathers the readings (lienthong-sink status, the sink's page). */
#ifndef LT_HEALTH_H
#define LT_HEALTH_H

#include <stdint.h>

typedef enum {
    LT_HEALTH_OK = 0,
    LT_HEALTH_IDLE,       /* heard from, nothing to apply, nothing applied lately */
    LT_HEALTH_LAGGING,    /* the oldest event not yet applied is older than lag_warn_s */
    LT_HEALTH_SKEWED,     /* the agent's clock is off by more than skew_max_s */
    LT_HEALTH_QUARANTINE, /* messages quarantined within the window */
    LT_HEALTH_DIVERGED,   /* the last digest comparison differed */
    LT_HEALTH_STALLED,    /* data waits in Kafka and nothing was applied for stalled_after_s */
    LT_HEALTH_OFFLINE,    /* no heartbeat for offline_after_s (or never) */
    LT_HEALTH_UNKNOWN,    /* not enough readings to tell */
} lt_health_state_t;

/* Readings of one commune; -1 where unknown. Ages are seconds before now. */
typedef struct lt_health_input {
    double heartbeat_age_s;    /* since its newest heartbeat was applied */
    double clock_skew_s;       /* province receive time - agent clock, at that heartbeat */
    double oldest_unsent_age_s; /* at the commune, from the heartbeat, aged since */
    double oldest_unapplied_age_s; /* in Kafka: the first event after the applied ones */
    int64_t lag_records;       /* Kafka records not applied */
    double last_applied_age_s; /* since the province last applied anything of it */
    int digest_equal;          /* the last comparison: 1, 0, or -1 none */
    int64_t quarantined_recent; /* quarantined within the window */
} lt_health_input_t;

typedef struct lt_health_bounds {
    double offline_after_s;  /* e.g. 6 heartbeat intervals */
    double stalled_after_s;
    double lag_warn_s;
    double skew_max_s;
    double idle_after_s;     /* nothing applied for this long, nothing waiting: IDLE */
} lt_health_bounds_t;

/* Defaults for an agent heartbeat interval of heartbeat_s seconds. */
lt_health_bounds_t lt_health_default_bounds(double heartbeat_s);

/* The commune's state (the most urgent that applies) and its lag in
 * seconds (the age of the oldest event not yet applied, at the commune or
 * in Kafka; 0 when none, -1 unknown). */
lt_health_state_t lt_health_judge(const lt_health_input_t *in, const lt_health_bounds_t *b,
                                  double *lag_s);

/* "OK", "IDLE", ... */
const char *lt_health_name(lt_health_state_t s);

/* The state named name ("OK", ...), or -1. */
int lt_health_from_name(const char *name);

/* Does the state call for a person (non-zero exit of status)? */
int lt_health_alerts(lt_health_state_t s);

#endif
