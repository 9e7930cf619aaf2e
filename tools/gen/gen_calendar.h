/* gen_calendar — when things happen at a commune: working days, office hours.
 *
 * Days are day numbers since 1970-01-01 (lt_rule_date_days). Vietnam is
 * UTC+7 and every instant the generator makes lies between 07:00 and 24:00
 * Vietnam time, so its UTC day is also its Vietnam date — the date the rules
 * read from it (lt_rule_date_from_us at GEN_VN_UTC_OFFSET_S). */
#ifndef GEN_CALENDAR_H
#define GEN_CALENDAR_H

#include <stdint.h>

#include "gen_random.h"
#include "lt_rules.h"

#define GEN_VN_UTC_OFFSET_S (7 * 3600)
#define GEN_MIN_US          ((int64_t)60 * 1000000)
#define GEN_HOUR_US         (60 * GEN_MIN_US)
#define GEN_DAY_US          (24 * GEN_HOUR_US)
/* Office hours 07:30-17:00 Vietnam time are 00:30-10:00 UTC; online
 * submissions come in until 23:59 Vietnam time, 16:59 UTC. */
#define GEN_OFFICE_OPEN_US  (30 * GEN_MIN_US)
#define GEN_OFFICE_CLOSE_US (10 * GEN_HOUR_US)
#define GEN_EVENING_END_US  (17 * GEN_HOUR_US - GEN_MIN_US)

/* The day of an instant (Unix microseconds). */
int32_t gen_day_of(int64_t us);

/* The calendar date of a day, and the day of a date (one past the month's
 * end runs on: 29 February of a common year is 1 March). */
lt_date_t gen_date(int32_t day);
int32_t gen_day(int year, int month, int day);

/* day itself if it is a working day, else the working day before it. */
int32_t gen_workday_back(int32_t day);

/* The n-th working day after day (n = 0: day itself if a working day, else
 * the next one). */
int32_t gen_workdays_after(int32_t day, int n);

/* A random office-hours instant on the working day `day`, or on the nearest
 * earlier one, never after not_after. */
int64_t gen_office_time(gen_rng_t *r, int32_t day, int64_t not_after);

/* An office-hours instant later than t, min_days..max_days working days on. */
int64_t gen_office_after(gen_rng_t *r, int64_t t, int min_days, int max_days);

/* When the time limit of n working days from day runs out: the end of office
 * hours of that working day. */
int64_t gen_due_time(int32_t day, int n);

/* A day of birth for someone aged age_lo..age_hi on day `on`. */
int32_t gen_born(gen_rng_t *r, int32_t on, int age_lo, int age_hi);

#endif
