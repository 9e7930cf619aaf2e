#include "lt_metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lt_log.h"
#include "lt_util.h"

struct lt_series {
    const lt_metric_def_t *def; /* the family's, borrowed */
    _Atomic uint64_t value;     /* a double's bits: the value, or a histogram's sum */
    atomic_int set;             /* gauges and ages: 0 until set (not rendered) */
    _Atomic uint64_t *buckets;  /* histograms: n_buckets + 1 counts, not cumulative */
    void *buckets_mem;          /* the same memory, to free */
    char *label_value;          /* NULL for a family without label */
    double mirrored;            /* lt_counter_mirror: the source's last value */
};

struct lt_metric {
    const lt_metric_def_t *def;
    lt_metrics_t *reg;
    lt_series_t **series;   /* in creation order */
    size_t n_series, cap;
    lt_series_t **index;    /* open addressing by label value; index_size a power of 2 */
    size_t index_size;
    lt_series_t *overflow;  /* beyond LT_METRICS_MAX_SERIES: updated, never rendered */
    int warned;
};

struct lt_metrics {
    pthread_mutex_t mu; /* series creation and rendering */
    lt_metric_t **families;
    size_t n_families;
    void (*on_render)(void *opaque);
    void *render_opaque;
};

/* ------------------------------------------------------------ atomic doubles */

static double lt_metrics_bits_double(uint64_t bits)
{
    double v;
    memcpy(&v, &bits, sizeof(v));
    return v;
}

static uint64_t lt_metrics_double_bits(double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof(bits));
    return bits;
}

static double lt_metrics_load(const _Atomic uint64_t *a)
{
    return lt_metrics_bits_double(atomic_load_explicit(a, memory_order_relaxed));
}

static void lt_metrics_store(_Atomic uint64_t *a, double v)
{
    atomic_store_explicit(a, lt_metrics_double_bits(v), memory_order_relaxed);
}

static void lt_metrics_add(_Atomic uint64_t *a, double v)
{
    uint64_t old = atomic_load_explicit(a, memory_order_relaxed);
    while (!atomic_compare_exchange_weak_explicit(
        a, &old, lt_metrics_double_bits(lt_metrics_bits_double(old) + v), memory_order_relaxed,
        memory_order_relaxed))
        ;
}

/* ------------------------------------------------------------------ series */

static lt_series_t *lt_series_new(const lt_metric_def_t *def, const char *label_value)
{
    lt_series_t *s = calloc(1, sizeof(*s));
    if (!s)
        abort();
    s->def = def;
    if (def->type == LT_METRIC_HISTOGRAM) {
        s->buckets_mem = calloc(def->n_buckets + 1, sizeof(*s->buckets));
        if (!s->buckets_mem)
            abort();
        s->buckets = s->buckets_mem;
    }
    if (label_value && !(s->label_value = strdup(label_value)))
        abort();
    /* Counters and histograms start at zero, present; gauges wait for a value. */
    atomic_init(&s->set, def->type == LT_METRIC_COUNTER || def->type == LT_METRIC_HISTOGRAM);
    return s;
}

static void lt_series_free(lt_series_t *s)
{
    if (!s)
        return;
    free(s->buckets_mem);
    free(s->label_value);
    free(s);
}

void lt_counter_add(lt_series_t *s, double v)
{
    lt_metrics_add(&s->value, v);
}

void lt_gauge_set(lt_series_t *s, double v)
{
    lt_metrics_store(&s->value, v);
    atomic_store_explicit(&s->set, 1, memory_order_release);
}

void lt_gauge_add(lt_series_t *s, double v)
{
    lt_metrics_add(&s->value, v);
    atomic_store_explicit(&s->set, 1, memory_order_release);
}

void lt_age_set(lt_series_t *s, double unix_seconds)
{
    lt_gauge_set(s, unix_seconds);
}

void lt_series_clear(lt_series_t *s)
{
    atomic_store_explicit(&s->set, 0, memory_order_release);
}

void lt_histogram_observe(lt_series_t *s, double v)
{
    const lt_metric_def_t *def = s->def;
    size_t i = 0;
    while (i < def->n_buckets && v > def->buckets[i])
        i++;
    atomic_fetch_add_explicit(&s->buckets[i], 1, memory_order_relaxed);
    lt_metrics_add(&s->value, v);
}

void lt_counter_mirror(lt_series_t *s, double now)
{
    double add = now >= s->mirrored ? now - s->mirrored : now;
    if (add > 0)
        lt_counter_add(s, add);
    s->mirrored = now;
}

void lt_counter_mirror_restart(lt_series_t *s)
{
    s->mirrored = 0;
}

double lt_series_value(const lt_series_t *s)
{
    if (s->def->type == LT_METRIC_HISTOGRAM) {
        uint64_t n = 0;
        for (size_t i = 0; i <= s->def->n_buckets; i++)
            n += atomic_load_explicit(&s->buckets[i], memory_order_relaxed);
        return (double)n;
    }
    if (!atomic_load_explicit(&s->set, memory_order_acquire))
        return NAN;
    return lt_metrics_load(&s->value);
}

/* ---------------------------------------------------------------- families */

static int lt_metrics_name_ok(const char *name, int colon_ok)
{
    if (!name || !*name || (name[0] >= '0' && name[0] <= '9'))
        return 0;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || (colon_ok && *p == ':')))
            return 0;
    return 1;
}

static int lt_metrics_ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int lt_metrics_def_check(const lt_metrics_t *m, const lt_metric_def_t *d, char *errstr,
                                size_t errstr_size)
{
    if (!lt_metrics_name_ok(d->name, 1))
        return lt_err(errstr, errstr_size, "metric name \"%s\" is not [a-zA-Z_:][a-zA-Z0-9_:]*",
                      d->name ? d->name : "");
    if (d->label && (!lt_metrics_name_ok(d->label, 0) || strncmp(d->label, "__", 2) == 0 ||
                     (d->type == LT_METRIC_HISTOGRAM && strcmp(d->label, "le") == 0)))
        return lt_err(errstr, errstr_size, "metric %s: label name \"%s\" is not allowed", d->name,
                      d->label);
    if ((d->type == LT_METRIC_COUNTER) != lt_metrics_ends_with(d->name, "_total"))
        return lt_err(errstr, errstr_size, "metric %s: counters and only counters end in _total",
                      d->name);
    if (d->type == LT_METRIC_AGE && !lt_metrics_ends_with(d->name, "_age_seconds"))
        return lt_err(errstr, errstr_size, "metric %s: an age ends in _age_seconds", d->name);
    if (d->type == LT_METRIC_HISTOGRAM) {
        if (!d->buckets || !d->n_buckets)
            return lt_err(errstr, errstr_size, "metric %s: a histogram needs buckets", d->name);
        for (size_t i = 1; i < d->n_buckets; i++)
            if (!(d->buckets[i] > d->buckets[i - 1]))
                return lt_err(errstr, errstr_size, "metric %s: buckets must ascend", d->name);
    }
    if (!d->help || strchr(d->help, '\n'))
        return lt_err(errstr, errstr_size, "metric %s: help must be one line", d->name);
    for (size_t i = 0; i < m->n_families; i++)
        if (strcmp(m->families[i]->def->name, d->name) == 0)
            return lt_err(errstr, errstr_size, "metric %s registered twice", d->name);
    return 0;
}

lt_metrics_t *lt_metrics_new(void)
{
    lt_metrics_t *m = calloc(1, sizeof(*m));
    if (!m)
        abort();
    pthread_mutex_init(&m->mu, NULL);
    return m;
}

static void lt_metric_free(lt_metric_t *f)
{
    for (size_t i = 0; i < f->n_series; i++)
        lt_series_free(f->series[i]);
    lt_series_free(f->overflow);
    free(f->series);
    free(f->index);
    free(f);
}

void lt_metrics_destroy(lt_metrics_t *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n_families; i++)
        lt_metric_free(m->families[i]);
    free(m->families);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

/* FNV-1a */
static size_t lt_metrics_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return (size_t)h;
}

static void lt_metric_index_put(lt_series_t **index, size_t size, lt_series_t *s)
{
    size_t i = lt_metrics_hash(s->label_value) & (size - 1);
    while (index[i])
        i = (i + 1) & (size - 1);
    index[i] = s;
}

/* Append a labelled series; the index is kept at most half full. Mutex held. */
static void lt_metric_append(lt_metric_t *f, lt_series_t *s)
{
    if (f->n_series == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 16;
        f->series = realloc(f->series, f->cap * sizeof(*f->series));
        if (!f->series)
            abort();
    }
    f->series[f->n_series++] = s;
    if (!f->def->label)
        return;
    if (f->n_series * 2 > f->index_size) {
        size_t size = f->index_size ? f->index_size * 2 : 32;
        lt_series_t **index = calloc(size, sizeof(*index));
        if (!index)
            abort();
        for (size_t i = 0; i + 1 < f->n_series; i++)
            lt_metric_index_put(index, size, f->series[i]);
        free(f->index);
        f->index = index;
        f->index_size = size;
    }
    lt_metric_index_put(f->index, f->index_size, s);
}

int lt_metrics_register(lt_metrics_t *m, const lt_metric_def_t *defs, size_t n,
                        lt_metric_t **families, lt_series_t **series, char *errstr,
                        size_t errstr_size)
{
    for (size_t i = 0; i < n; i++) {
        if (lt_metrics_def_check(m, &defs[i], errstr, errstr_size) != 0)
            return -1;
        lt_metric_t *f = calloc(1, sizeof(*f));
        if (!f)
            abort();
        f->def = &defs[i];
        f->reg = m;
        f->overflow = lt_series_new(&defs[i], "overflow");
        if (!defs[i].label)
            lt_metric_append(f, lt_series_new(&defs[i], NULL));
        pthread_mutex_lock(&m->mu);
        lt_metric_t **grown = realloc(m->families, (m->n_families + 1) * sizeof(*grown));
        if (!grown)
            abort();
        m->families = grown;
        m->families[m->n_families++] = f;
        pthread_mutex_unlock(&m->mu);
        if (families)
            families[i] = f;
        if (series)
            series[i] = defs[i].label ? NULL : f->series[0];
    }
    return 0;
}

void lt_metrics_describe(const lt_metric_def_t *defs, size_t n, lt_buf_t *out)
{
    lt_metrics_t *m = lt_metrics_new();
    char errstr[256];
    if (lt_metrics_register(m, defs, n, NULL, NULL, errstr, sizeof(errstr)) != 0)
        lt_buf_printf(out, "# ERROR %s\n", errstr);
    lt_metrics_render(m, out);
    lt_metrics_destroy(m);
}

lt_series_t *lt_metric_with(lt_metric_t *f, const char *label_value)
{
    if (!f->def->label || !label_value)
        return f->def->label ? f->overflow : f->series[0];
    pthread_mutex_lock(&f->reg->mu);
    lt_series_t *s = NULL;
    if (f->index_size) {
        size_t i = lt_metrics_hash(label_value) & (f->index_size - 1);
        for (; f->index[i]; i = (i + 1) & (f->index_size - 1))
            if (strcmp(f->index[i]->label_value, label_value) == 0) {
                s = f->index[i];
                break;
            }
    }
    if (!s && f->n_series < LT_METRICS_MAX_SERIES) {
        s = lt_series_new(f->def, label_value);
        lt_metric_append(f, s);
    } else if (!s) {
        s = f->overflow;
        if (!f->warned++)
            lt_warn("too many series in one metric: further label values are not exported",
                    "metric=%s label=%s max=%d", f->def->name, f->def->label,
                    LT_METRICS_MAX_SERIES);
    }
    pthread_mutex_unlock(&f->reg->mu);
    return s;
}

void lt_metrics_on_render(lt_metrics_t *m, void (*fn)(void *opaque), void *opaque)
{
    pthread_mutex_lock(&m->mu);
    m->on_render = fn;
    m->render_opaque = opaque;
    pthread_mutex_unlock(&m->mu);
}

/* ------------------------------------------------------------------ render */

/* A sample value or a bucket bound as Prometheus reads it. */
static void lt_metrics_put_double(lt_buf_t *out, double v)
{
    if (isnan(v))
        lt_buf_puts(out, "NaN");
    else if (isinf(v))
        lt_buf_puts(out, v > 0 ? "+Inf" : "-Inf");
    else if (v == (double)(int64_t)v && fabs(v) < 9007199254740992.0)
        lt_buf_i64(out, (int64_t)v);
    else
        lt_buf_printf(out, "%.12g", v);
}

/* Escape for HELP (backslash, newline) or a label value (also '"'). */
static void lt_metrics_put_escaped(lt_buf_t *out, const char *s, int quote)
{
    for (; *s; s++) {
        if (*s == '\\')
            lt_buf_puts(out, "\\\\");
        else if (*s == '\n')
            lt_buf_puts(out, "\\n");
        else if (quote && *s == '"')
            lt_buf_puts(out, "\\\"");
        else
            lt_buf_append(out, s, 1);
    }
}

/* name[suffix]{label="value"[,le="bound"]} */
static void lt_metrics_put_name(lt_buf_t *out, const lt_metric_def_t *d, const char *suffix,
                                const lt_series_t *s, const double *le)
{
    lt_buf_puts(out, d->name);
    lt_buf_puts(out, suffix);
    if (!s->label_value && !le)
        return;
    lt_buf_puts(out, "{");
    if (s->label_value) {
        lt_buf_printf(out, "%s=\"", d->label);
        lt_metrics_put_escaped(out, s->label_value, 1);
        lt_buf_puts(out, le ? "\"," : "\"");
    }
    if (le) {
        lt_buf_puts(out, "le=\"");
        lt_metrics_put_double(out, *le);
        lt_buf_puts(out, "\"");
    }
    lt_buf_puts(out, "}");
}

static void lt_metrics_put_histogram(lt_buf_t *out, const lt_metric_def_t *d,
                                     const lt_series_t *s)
{
    uint64_t cumulative = 0;
    for (size_t i = 0; i <= d->n_buckets; i++) {
        double le = i < d->n_buckets ? d->buckets[i] : INFINITY;
        cumulative += atomic_load_explicit(&s->buckets[i], memory_order_relaxed);
        lt_metrics_put_name(out, d, "_bucket", s, &le);
        lt_buf_puts(out, " ");
        lt_buf_u64(out, cumulative);
        lt_buf_puts(out, "\n");
    }
    lt_metrics_put_name(out, d, "_sum", s, NULL);
    lt_buf_puts(out, " ");
    lt_metrics_put_double(out, lt_metrics_load(&s->value));
    lt_buf_puts(out, "\n");
    lt_metrics_put_name(out, d, "_count", s, NULL);
    lt_buf_puts(out, " ");
    lt_buf_u64(out, cumulative);
    lt_buf_puts(out, "\n");
}

static const char *const lt_metric_type_names[] = {
    [LT_METRIC_COUNTER] = "counter",
    [LT_METRIC_GAUGE] = "gauge",
    [LT_METRIC_HISTOGRAM] = "histogram",
    [LT_METRIC_AGE] = "gauge",
};

static void lt_metric_render(const lt_metric_t *f, double now, lt_buf_t *out)
{
    const lt_metric_def_t *d = f->def;
    lt_buf_printf(out, "# HELP %s ", d->name);
    lt_metrics_put_escaped(out, d->help, 0);
    lt_buf_printf(out, "\n# TYPE %s %s\n", d->name, lt_metric_type_names[d->type]);
    for (size_t i = 0; i < f->n_series; i++) {
        const lt_series_t *s = f->series[i];
        if (d->type == LT_METRIC_HISTOGRAM) {
            lt_metrics_put_histogram(out, d, s);
            continue;
        }
        if (!atomic_load_explicit(&s->set, memory_order_acquire))
            continue;
        double v = lt_metrics_load(&s->value);
        lt_metrics_put_name(out, d, "", s, NULL);
        lt_buf_puts(out, " ");
        lt_metrics_put_double(out, d->type == LT_METRIC_AGE ? now - v : v);
        lt_buf_puts(out, "\n");
    }
}

void lt_metrics_render(lt_metrics_t *m, lt_buf_t *out)
{
    pthread_mutex_lock(&m->mu);
    void (*fn)(void *) = m->on_render;
    void *opaque = m->render_opaque;
    pthread_mutex_unlock(&m->mu);
    if (fn)
        fn(opaque); /* outside the mutex: it may create series */
    double now = (double)lt_now_us() / 1e6;
    pthread_mutex_lock(&m->mu);
    for (size_t i = 0; i < m->n_families; i++)
        lt_metric_render(m->families[i], now, out);
    pthread_mutex_unlock(&m->mu);
}
