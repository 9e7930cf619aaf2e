/* lienthong-gen — realistic commune activity written into a commune outbox.
 *
 * Several writer threads, each with its own connection, insert civil records
 * and dossiers with their outbox rows in transactions of a few rows. Writers
 * hold some transactions open while others commit, so rows commit out of id
 * order — exactly what the agent must never skip. What each writer does is
 * gen_activity's; the payloads are protobuf messages written as proto3 JSON by
 * the project's one emitter (lt_pb_write_json), and the rows go in through
 * the outbox module (lt_outbox_insert_rows). */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <libpq-fe.h>

#include "gen_activity.h"
#include "gen_dossier.h"
#include "gen_place.h"
#include "lt_buf.h"
#include "lt_event.h"
#include "lt_json_pb.h"
#include "lt_outbox.h"
#include "lt_pg.h"
#include "lt_units.h"
#include "lt_util.h"

typedef struct gen_opts {
    const char *postgres;
    const char *commune;
    long events;
    int writers;
    int max_rows_per_tx;
    int hold_ms; /* how long a "slow" transaction stays open */
    double rate; /* events/s over all writers; 0 = as fast as possible */
    unsigned seed;
    int quiet;
} gen_opts_t;

/* One writer thread: its activity, its connection, one transaction's rows. */
typedef struct gen_writer {
    const gen_opts_t *opts;
    gen_activity_t *activity;
    PGconn *pg;
    long quota, written, upserts, deletes, txs;
    gen_change_t *changes; /* the transaction's changes (payloads already in json) */
    size_t *json_at;       /* where each payload starts in json */
    lt_outbox_row_t *rows;
    lt_buf_t json; /* the payloads, NUL-separated */
    char error[512];
} gen_writer_t;

/* ------------------------------------------------------------ writing */

/* The next change into slot i, its payload as JSON into w->json. */
static void gen_writer_change(gen_writer_t *w, int i)
{
    gen_change_t *c = &w->changes[i];
    gen_activity_next(w->activity, c);
    w->json_at[i] = w->json.len;
    if (c->payload) {
        lt_pb_write_json(c->payload, &w->json);
        lt_buf_append(&w->json, "", 1);
        w->upserts++;
    } else {
        w->deletes++;
    }
    c->payload = NULL; /* the activity's, gone with its next change */
}

/* The transaction's changes as outbox rows (json is complete, so stable). */
static void gen_writer_rows(gen_writer_t *w, int n)
{
    for (int i = 0; i < n; i++) {
        const gen_change_t *c = &w->changes[i];
        w->rows[i] = (lt_outbox_row_t){
            .entity_type = lt_entity_type_name(c->entity_type),
            .entity_id = c->entity_id,
            .version = c->version,
            .op = lt_op_name(c->op),
            .occurred_at_us = c->occurred_at_us,
            .payload_json = c->op == LIENTHONG__V1__OP__OP_DELETE
                                ? NULL
                                : w->json.data + w->json_at[i],
        };
    }
}

static int gen_transaction(gen_writer_t *w, int n)
{
    char *err = w->error;
    size_t err_size = sizeof(w->error);
    lt_buf_reset(&w->json);
    for (int i = 0; i < n; i++)
        gen_writer_change(w, i);
    gen_writer_rows(w, n);
    if (lt_pg_exec(w->pg, "BEGIN", 0, NULL, err, err_size) != LT_PG_OK ||
        lt_outbox_insert_rows(w->pg, w->rows, (size_t)n, err, err_size) != LT_PG_OK)
        return -1;
    /* One transaction in eight stays open while the other writers commit. */
    if (w->opts->hold_ms && gen_activity_draw(w->activity) % 8 == 0)
        lt_sleep_ms((int)(gen_activity_draw(w->activity) % (unsigned)w->opts->hold_ms) +
                    1);
    if (lt_pg_exec(w->pg, "COMMIT", 0, NULL, err, err_size) != LT_PG_OK)
        return -1;
    w->written += n;
    w->txs++;
    return 0;
}

/* Wait until the writer is not ahead of its share of --rate. */
static void gen_writer_pace(const gen_writer_t *w, int64_t start_ms)
{
    double per_writer_rate = w->opts->rate / w->opts->writers;
    if (per_writer_rate <= 0)
        return;
    int64_t due = start_ms + (int64_t)(w->written * 1000.0 / per_writer_rate);
    int64_t wait = due - lt_monotonic_ms();
    if (wait > 0)
        lt_sleep_ms((int)wait);
}

static void *gen_writer_main(void *arg)
{
    gen_writer_t *w = arg;
    int64_t start = lt_monotonic_ms();
    while (w->written < w->quota && !lt_stop_requested) {
        int rows = 1 + (int)(gen_activity_draw(w->activity) %
                             (unsigned)w->opts->max_rows_per_tx);
        if (rows > w->quota - w->written)
            rows = (int)(w->quota - w->written);
        if (gen_transaction(w, rows) != 0)
            break;
        gen_writer_pace(w, start);
    }
    return NULL;
}

/* ------------------------------------------------------------ setup */

/* Writer i's share of the events, its activity and its connection. */
static int gen_writer_open(gen_writer_t *w, const gen_opts_t *opts,
                           const gen_place_t *place, int i, char *errstr,
                           size_t errstr_size)
{
    size_t max = (size_t)opts->max_rows_per_tx;
    *w = (gen_writer_t){.opts = opts};
    w->quota = opts->events / opts->writers + (i < opts->events % opts->writers);
    w->activity = gen_activity_new(place, opts->seed, i, opts->writers);
    w->changes = calloc(max, sizeof(*w->changes));
    w->json_at = calloc(max, sizeof(*w->json_at));
    w->rows = calloc(max, sizeof(*w->rows));
    if (!w->activity || !w->changes || !w->json_at || !w->rows)
        return lt_err(errstr, errstr_size, "out of memory");
    w->pg = lt_pg_connect(opts->postgres, "lienthong-gen", errstr, errstr_size);
    return w->pg ? 0 : -1;
}

static void gen_writer_close(gen_writer_t *w)
{
    if (w->pg)
        PQfinish(w->pg);
    gen_activity_destroy(w->activity);
    free(w->changes);
    free(w->json_at);
    free(w->rows);
    lt_buf_free(&w->json);
}

static void gen_usage(FILE *out)
{
    fprintf(
        out,
        "Usage: lienthong-gen --postgres CONNINFO --commune CODE [options]\n\n"
        "Writes realistic civil-status and dossier activity into a commune outbox\n"
        "(run `lienthong-agent init` on that database first).\n\n"
        "  -d, --postgres CONNINFO  commune database (libpq conninfo)\n"
        "  -c, --commune CODE       5-digit commune code\n"
        "  -n, --events N           outbox rows to write (default 1000)\n"
        "  -w, --writers N          concurrent writer connections (default 4)\n"
        "  -m, --max-rows N         rows per transaction at most (default 5)\n"
        "  -H, --hold-ms MS         keep some transactions open up to MS (default 20)\n"
        "  -r, --rate R             events per second over all writers (default: max)\n"
        "  -s, --seed N             random seed (default 1)\n"
        "  -q, --quiet              no summary line\n"
        "  -h, --help               this help\n");
}

/* What is wrong with the options, or NULL. */
static const char *gen_opts_problem(const gen_opts_t *o)
{
    return !o->postgres                                  ? "--postgres is required"
           : !o->commune || !lt_is_digits(o->commune, 5) ? "--commune must be 5 digits"
           : o->events < 0                               ? "--events must be >= 0"
           : o->writers < 1 || o->writers > 64           ? "--writers must be 1..64"
           : o->max_rows_per_tx < 1                      ? "--max-rows must be >= 1"
                                                         : NULL;
}

/* 0 to run, -1 after --help, 2 on a usage error (said on stderr). */
static int gen_parse(int argc, char **argv, gen_opts_t *o)
{
    static const struct option longopts[] = {{"postgres", required_argument, NULL, 'd'},
                                             {"commune", required_argument, NULL, 'c'},
                                             {"events", required_argument, NULL, 'n'},
                                             {"writers", required_argument, NULL, 'w'},
                                             {"max-rows", required_argument, NULL, 'm'},
                                             {"hold-ms", required_argument, NULL, 'H'},
                                             {"rate", required_argument, NULL, 'r'},
                                             {"seed", required_argument, NULL, 's'},
                                             {"quiet", no_argument, NULL, 'q'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    *o = (gen_opts_t){
        .events = 1000, .writers = 4, .max_rows_per_tx = 5, .hold_ms = 20, .seed = 1};
    int c;
    while ((c = getopt_long(argc, argv, "d:c:n:w:m:H:r:s:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            o->postgres = optarg;
            break;
        case 'c':
            o->commune = optarg;
            break;
        case 'n':
            o->events = atol(optarg);
            break;
        case 'w':
            o->writers = atoi(optarg);
            break;
        case 'm':
            o->max_rows_per_tx = atoi(optarg);
            break;
        case 'H':
            o->hold_ms = atoi(optarg);
            break;
        case 'r':
            o->rate = atof(optarg);
            break;
        case 's':
            o->seed = (unsigned)atol(optarg);
            break;
        case 'q':
            o->quiet = 1;
            break;
        case 'h':
            gen_usage(stdout);
            return -1;
        default:
            gen_usage(stderr);
            return 2;
        }
    }
    const char *bad = gen_opts_problem(o);
    if (bad) {
        fprintf(stderr, "lienthong-gen: %s\n", bad);
        return 2;
    }
    return 0;
}

/* Run the writers to the end; 0, or 1 if one failed (said on stderr). */
static int gen_run(gen_writer_t *writers, int n)
{
    pthread_t threads[64];
    int rc = 0;
    for (int i = 0; i < n; i++)
        pthread_create(&threads[i], NULL, gen_writer_main, &writers[i]);
    for (int i = 0; i < n; i++) {
        pthread_join(threads[i], NULL);
        if (writers[i].error[0]) {
            fprintf(stderr, "lienthong-gen: writer %d: %s\n", i, writers[i].error);
            rc = 1;
        }
    }
    return rc;
}

static void gen_summary(const gen_opts_t *opts, const gen_writer_t *writers, double secs)
{
    long written = 0, upserts = 0, deletes = 0, txs = 0;
    for (int i = 0; i < opts->writers; i++) {
        written += writers[i].written;
        upserts += writers[i].upserts;
        deletes += writers[i].deletes;
        txs += writers[i].txs;
    }
    printf("commune=%s events=%ld upserts=%ld deletes=%ld transactions=%ld writers=%d "
           "seconds=%.1f rate=%.0f/s\n",
           opts->commune, written, upserts, deletes, txs, opts->writers, secs,
           secs > 0 ? written / secs : 0.0);
}

int main(int argc, char **argv)
{
    gen_opts_t opts;
    char errstr[512];
    int rc = gen_parse(argc, argv, &opts);
    if (rc)
        return rc < 0 ? 0 : rc;
    if (gen_dossier_check_paths(errstr, sizeof(errstr)) != 0) {
        fprintf(stderr, "lienthong-gen: %s\n", errstr);
        return 1;
    }
    lt_signals_install();
    lt_units_t *units = lt_units_load(NULL, errstr, sizeof(errstr));
    if (!units)
        fprintf(stderr, "lienthong-gen: no unit list, plain names used: %s\n", errstr);
    gen_place_t place;
    gen_place_init(&place, opts.commune, units);
    gen_writer_t *writers = calloc((size_t)opts.writers, sizeof(*writers));
    int64_t start = lt_monotonic_ms();
    for (int i = 0; writers && rc == 0 && i < opts.writers; i++) {
        if (gen_writer_open(&writers[i], &opts, &place, i, errstr, sizeof(errstr)) != 0) {
            fprintf(stderr, "lienthong-gen: %s\n", errstr);
            rc = 1;
        }
    }
    if (!writers) {
        fprintf(stderr, "lienthong-gen: out of memory\n");
        rc = 1;
    } else if (rc == 0) { /* no summary when the writers could not start */
        rc = gen_run(writers, opts.writers);
        if (!opts.quiet)
            gen_summary(&opts, writers, (double)(lt_monotonic_ms() - start) / 1000.0);
    }
    for (int i = 0; writers && i < opts.writers; i++)
        gen_writer_close(&writers[i]);
    free(writers);
    gen_place_free(&place);
    lt_units_destroy(units);
    return rc;
}
