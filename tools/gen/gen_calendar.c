#include "gen_calendar.h"

int32_t gen_day_of(int64_t us)
{
    return (int32_t)(us / GEN_DAY_US);
}

lt_date_t gen_date(int32_t day)
{
    return lt_rule_date_from_days(day);
}

int32_t gen_day(int year, int month, int day)
{
    return (int32_t)lt_rule_date_days((lt_date_t){year, month, day});
}

static int gen_is_weekend(int32_t day)
{
    int wd = (int)(((day % 7) + 7 + 4) % 7); /* 0 = Sunday; 1970-01-01 was a Thursday */
    return wd == 0 || wd == 6;
}

int32_t gen_workday_back(int32_t day)
{
    while (gen_is_weekend(day))
        day--;
    return day;
}

int32_t gen_workdays_after(int32_t day, int n)
{
    while (n > 0 || gen_is_weekend(day)) {
        day++;
        if (!gen_is_weekend(day))
            n--;
    }
    return day;
}

int64_t gen_office_time(gen_rng_t *r, int32_t day, int64_t not_after)
{
    int64_t span = (GEN_OFFICE_CLOSE_US - GEN_OFFICE_OPEN_US) / GEN_MIN_US;
    for (day = gen_workday_back(day);; day = gen_workday_back(day - 1)) {
        int64_t t = (int64_t)day * GEN_DAY_US + GEN_OFFICE_OPEN_US +
                    (int64_t)gen_below(r, (unsigned)span) * GEN_MIN_US;
        if (t <= not_after)
            return t;
    }
}

int64_t gen_office_after(gen_rng_t *r, int64_t t, int min_days, int max_days)
{
    int32_t day = gen_workdays_after(gen_day_of(t), gen_between(r, min_days, max_days));
    int64_t open = (int64_t)day * GEN_DAY_US + GEN_OFFICE_OPEN_US;
    int64_t close = (int64_t)day * GEN_DAY_US + GEN_OFFICE_CLOSE_US;
    if (open <= t)
        open = t + 5 * GEN_MIN_US;
    if (open >= close) { /* no time left that day: the next working day */
        day = gen_workdays_after(day, 1);
        open = (int64_t)day * GEN_DAY_US + GEN_OFFICE_OPEN_US;
        close = (int64_t)day * GEN_DAY_US + GEN_OFFICE_CLOSE_US;
    }
    return open +
           (int64_t)gen_below(r, (unsigned)((close - open) / GEN_MIN_US)) * GEN_MIN_US;
}

int64_t gen_due_time(int32_t day, int n)
{
    return (int64_t)gen_workdays_after(day, n) * GEN_DAY_US + GEN_OFFICE_CLOSE_US;
}

int32_t gen_born(gen_rng_t *r, int32_t on, int age_lo, int age_hi)
{
    return on - (int32_t)(age_lo * 365 +
                          gen_below(r, (unsigned)((age_hi - age_lo + 1) * 365)));
}
