/* lt_metrics — counters, gauges and histograms one daemon keeps, rendered in
 * the Prometheus text exposition format (version 0.0.4) for /metrics.
 *
 * A program describes its metrics once, in a table of lt_metric_def_t (name,
 * type, label, help, buckets), as it describes its options; the same table
 * registers them and documents them. A family has no label or one (the
 * commune code: a small bounded set, never an entity); each label value is
 * one series, created on first use and kept until the registry is destroyed,
 * so a series pointer stays valid and may be cached.
 *
 * Threads: the daemon's thread updates, the HTTP thread renders. Updates are
 * relaxed atomic operations on the series (no lock: a counter add costs a
 * compare-and-swap); creating a series and rendering take the registry's
 * mutex. A render is not a snapshot across series: each value is read once,
 * and a histogram's _count is the sum of the buckets it printed. */
#ifndef LT_METRICS_H
#define LT_METRICS_H

#include <stddef.h>

#include "lt_buf.h"

typedef enum {
    LT_METRIC_COUNTER,   /* only grows; name ends in _total */
    LT_METRIC_GAUGE,     /* goes up and down; absent until first set */
    LT_METRIC_HISTOGRAM, /* observations in fixed buckets, with _sum and _count */
    LT_METRIC_AGE,       /* a gauge set as a Unix time, rendered as the seconds since
                          * then at each scrape; name ends in _age_seconds */
} lt_metric_type_t;

/* One family, as a program's table declares it. */
typedef struct lt_metric_def {
    const char *name;       /* lienthong_<program>_..., base units (_seconds, _bytes) */
    lt_metric_type_t type;
    const char *label;      /* NULL, or the one label name ("commune") */
    const char *help;       /* one line */
    const double *buckets;  /* histograms: upper bounds, ascending (+Inf is implied) */
    size_t n_buckets;
} lt_metric_def_t;

typedef struct lt_metrics lt_metrics_t; /* the registry of one program */
typedef struct lt_metric lt_metric_t;   /* a family */
typedef struct lt_series lt_series_t;   /* one label value of a family */

/* At most this many series per labelled family: further label values share a
 * series that is never rendered (and a warning is logged once). */
#define LT_METRICS_MAX_SERIES 8192

lt_metrics_t *lt_metrics_new(void);
void lt_metrics_destroy(lt_metrics_t *m); /* NULL allowed; every series goes with it */

/* Register the families of defs[0..n) in that order; families[i] (if not
 * NULL) gets family i, series[i] (if not NULL) its one series when it has no
 * label, else NULL. The definitions are borrowed: they must outlive the
 * registry (a static table). Returns 0, or -1 with errstr for a malformed
 * definition (a name that breaks the Prometheus rules, a counter without
 * _total, a histogram without buckets, a name registered twice). */
int lt_metrics_register(lt_metrics_t *m, const lt_metric_def_t *defs, size_t n,
                        lt_metric_t **families, lt_series_t **series, char *errstr,
                        size_t errstr_size);

/* The families of defs[0..n) without values (HELP and TYPE lines), appended
 * to out; a malformed table gives a "# ERROR" line. */
void lt_metrics_describe(const lt_metric_def_t *defs, size_t n, lt_buf_t *out);

/* The series of a family: label_value is NULL for a family without label,
 * else the value (copied). Never NULL. Takes the registry's mutex: cache the
 * pointer where a value is updated often. */
lt_series_t *lt_metric_with(lt_metric_t *f, const char *label_value);

/* Updates; any thread. */
void lt_counter_add(lt_series_t *s, double v);           /* v >= 0 */
void lt_gauge_set(lt_series_t *s, double v);
void lt_gauge_add(lt_series_t *s, double v);
void lt_age_set(lt_series_t *s, double unix_seconds);    /* LT_METRIC_AGE */
void lt_histogram_observe(lt_series_t *s, double v);
/* A gauge or an age that no longer applies (a commune another sink took)
 * disappears from the output until it is set again. */
void lt_series_clear(lt_series_t *s);

/* The current value: a counter or gauge as set, an age as its Unix time, a
 * histogram's count; NaN when unset. For status pages built on the metrics. */
double lt_series_value(const lt_series_t *s);

/* Called by lt_metrics_render before anything is printed, on the rendering
 * thread: fn may set gauges computed on demand (process memory, ...). */
void lt_metrics_on_render(lt_metrics_t *m, void (*fn)(void *opaque), void *opaque);

/* Append every family to out in the text exposition format: HELP and TYPE
 * lines for each registered family (also one with no series yet, so a
 * scrape lists every name the program exports), then its series. */
void lt_metrics_render(lt_metrics_t *m, lt_buf_t *out);

/* Mirror a cumulative count kept elsewhere (a daemon's own counters,
 * librdkafka's statistics) into a counter: the increase since the value
 * mirrored last is added; a value below it means the source started over,
 * and all of it is added. One thread mirrors a given series. */
void lt_counter_mirror(lt_series_t *s, double now);
/* The source of the mirrored counter s starts over (a new librdkafka
 * client): its next value is all new. */
void lt_counter_mirror_restart(lt_series_t *s);

#endif
