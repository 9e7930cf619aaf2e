/* lienthong-gen — realistic commune activity written into a commune outbox.
 *
 * Several writer threads, each with its own connection, insert civil records
 * and dossiers with their outbox rows in transactions of a few rows. Writers
 * hold some transactions open while others commit, so rows commit out of id
 * order — exactly what the agent must never skip. Each writer owns its
 * entities, so versions rise without coordination: births and deaths are
 * registered, dossiers move through statuses, some records are deleted. */
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#include "lt_buf.h"
#include "lt_util.h"

typedef struct gen_opts {
    const char *postgres;
    const char *commune;
    long events;
    int writers;
    int max_rows_per_tx;
    int hold_ms;   /* how long a "slow" transaction stays open */
    double rate;   /* events/s over all writers; 0 = as fast as possible */
    unsigned seed;
    int quiet;
} gen_opts_t;

typedef struct gen_entity {
    int kind;      /* 0 birth, 1 death, 2 dossier */
    uint32_t n;    /* per-writer number, part of the id */
    uint32_t version;
    int status;    /* dossier status 1..5 */
    int deleted;
} gen_entity_t;

typedef struct gen_writer {
    const gen_opts_t *opts;
    int index;
    long quota;
    unsigned rng;
    PGconn *pg;
    gen_entity_t *entities;
    size_t n_entities, cap_entities;
    long written, upserts, deletes, txs;
    char error[512];
} gen_writer_t;

static const char *const family_names[] = {"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh",
                                           "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ",
                                           "Ngô", "Dương", "Lý"};
static const char *const middle_m[] = {"Văn", "Hữu", "Đức", "Minh", "Quang", "Thành", "Công"};
static const char *const middle_f[] = {"Thị", "Ngọc", "Thu", "Minh", "Thanh", "Kim", "Bảo"};
static const char *const given_m[] = {"An", "Bình", "Dũng", "Hải", "Hùng", "Khánh", "Long",
                                      "Nam", "Phúc", "Quân", "Sơn", "Trung", "Tuấn", "Hoà"};
static const char *const given_f[] = {"Châu", "Giang", "Hà", "Hạnh", "Hương", "Lan", "Linh",
                                      "Mai", "Ngân", "Phương", "Tâm", "Thảo", "Thuỷ", "Trang",
                                      "Vy", "Yến"};
static const char *const procedures[] = {"1.001193", "1.000894", "1.001022", "2.000908",
                                         "1.004227", "1.003583"};

#define PICK(arr, w) (arr)[gen_rand(w) % (sizeof(arr) / sizeof(*(arr)))]

static unsigned gen_rand(gen_writer_t *w)
{
    w->rng = w->rng * 1103515245u + 12345u;
    return (w->rng >> 8) & 0xffffff;
}

static void gen_person(lt_buf_t *b, gen_writer_t *w, int female, int birth_year)
{
    const char *family = PICK(family_names, w);
    const char *middle = female ? PICK(middle_f, w) : PICK(middle_m, w);
    const char *given = female ? PICK(given_f, w) : PICK(given_m, w);
    lt_buf_printf(b,
                  "{\"name\":{\"family\":\"%s\",\"middle\":\"%s\",\"given\":\"%s\","
                  "\"full\":\"%s %s %s\"},\"dateOfBirth\":{\"year\":%d,\"month\":%u,\"day\":%u},"
                  "\"sex\":\"%s\",\"ethnicity\":\"01\",\"nationality\":\"VN\"}",
                  family, middle, given, family, middle, given, birth_year,
                  1 + gen_rand(w) % 12, 1 + gen_rand(w) % 28, female ? "SEX_FEMALE" : "SEX_MALE");
}

static void gen_registration(lt_buf_t *b, gen_writer_t *w, const gen_entity_t *e)
{
    lt_buf_printf(b,
                  "\"registration\":{\"authority\":\"%s\",\"bookNumber\":\"%02u/2026\","
                  "\"entryNumber\":\"%u\",\"registeredOn\":{\"year\":2026,\"month\":%u,"
                  "\"day\":%u},\"officer\":\"%s %s\",\"signer\":\"Chủ tịch UBND\"}",
                  w->opts->commune, 1 + w->index, e->n, 1 + gen_rand(w) % 11,
                  1 + gen_rand(w) % 28, PICK(family_names, w), PICK(given_f, w));
}

static void gen_civil_payload(lt_buf_t *b, gen_writer_t *w, const gen_entity_t *e)
{
    const char *commune = w->opts->commune;
    lt_buf_printf(b, "{\"kind\":\"%s\",",
                  e->kind == 0 ? "CIVIL_RECORD_KIND_BIRTH" : "CIVIL_RECORD_KIND_DEATH");
    gen_registration(b, w, e);
    if (e->kind == 0) {
        lt_buf_puts(b, ",\"birth\":{\"child\":");
        gen_person(b, w, gen_rand(w) % 2, 2026);
        lt_buf_puts(b, ",\"mother\":");
        gen_person(b, w, 1, 1985 + (int)(gen_rand(w) % 15));
        lt_buf_puts(b, ",\"father\":");
        gen_person(b, w, 0, 1980 + (int)(gen_rand(w) % 18));
        lt_buf_printf(b,
                      ",\"place\":{\"code\":\"%s\",\"codeListVersion\":\"2025-07-01\"},"
                      "\"birthCertificateNumber\":\"GCS-%s-%u-v%u\"}}",
                      commune, commune, e->n, e->version);
    } else {
        lt_buf_puts(b, ",\"death\":{\"deceased\":");
        gen_person(b, w, gen_rand(w) % 2, 1930 + (int)(gen_rand(w) % 70));
        lt_buf_printf(b,
                      ",\"dateOfDeath\":{\"year\":2026,\"month\":%u,\"day\":%u},"
                      "\"place\":{\"code\":\"%s\",\"codeListVersion\":\"2025-07-01\"},"
                      "\"cause\":\"%s\",\"deathNoticeNumber\":\"GBT-%u-v%u\"}}",
                      1 + gen_rand(w) % 11, 1 + gen_rand(w) % 28, commune,
                      gen_rand(w) % 3 ? "Bệnh" : "Tuổi cao", e->n, e->version);
    }
}

static void gen_dossier_payload(lt_buf_t *b, gen_writer_t *w, const gen_entity_t *e,
                                int64_t now_us)
{
    static const char *const statuses[] = {"", "DOSSIER_STATUS_NEW", "DOSSIER_STATUS_ACCEPTED",
                                           "DOSSIER_STATUS_IN_PROCESS", "DOSSIER_STATUS_PROCESSED",
                                           "DOSSIER_STATUS_RETURNED"};
    int64_t received = now_us - (int64_t)e->n * 1000;
    time_t rt = (time_t)(received / 1000000);
    struct tm tm;
    gmtime_r(&rt, &tm);
    lt_buf_printf(b,
                  "{\"dossierCode\":\"000.00.%.2s.H%.2s-%02d%02d%02d-%04u\","
                  "\"procedureCode\":\"%s\",\"receivingAgency\":\"UBND %s\",\"applicant\":",
                  w->opts->commune + 3, w->opts->commune, tm.tm_year % 100, tm.tm_mon + 1,
                  tm.tm_mday, (e->n * 7 + (unsigned)w->index) % 10000, PICK(procedures, w),
                  w->opts->commune);
    lt_buf_printf(b, "{\"family\":\"%s\",\"given\":\"%s\",\"full\":\"%s %s\"}",
                  PICK(family_names, w), PICK(given_m, w), PICK(family_names, w),
                  PICK(given_m, w));
    lt_buf_printf(b,
                  ",\"status\":\"%s\",\"receivedAtUs\":\"%" PRId64 "\",\"dueAtUs\":\"%" PRId64
                  "\",\"history\":[",
                  statuses[e->status], received, received + 7 * 86400 * (int64_t)1000000);
    for (int s = 1; s <= e->status; s++)
        lt_buf_printf(b, "%s{\"status\":\"%s\",\"atUs\":\"%" PRId64 "\",\"by\":\"cb%02d\"}",
                      s > 1 ? "," : "", statuses[s], received + s * 1000, w->index);
    lt_buf_puts(b, "]}");
}

/* Choose what happens next: a new record, a new version, or a delete. */
static gen_entity_t *gen_next_change(gen_writer_t *w, int *is_delete)
{
    unsigned r = gen_rand(w) % 100;
    *is_delete = 0;
    if (w->n_entities > 10 && r < 25) { /* dossier moves on */
        gen_entity_t *e = &w->entities[gen_rand(w) % w->n_entities];
        if (e->kind == 2 && !e->deleted && e->status < 5) {
            e->status++;
            e->version++;
            return e;
        }
    }
    if (w->n_entities > 10 && r >= 25 && r < 30) { /* a record is withdrawn */
        gen_entity_t *e = &w->entities[gen_rand(w) % w->n_entities];
        if (!e->deleted) {
            e->deleted = 1;
            e->version++;
            *is_delete = 1;
            return e;
        }
    }
    if (w->n_entities == w->cap_entities) {
        w->cap_entities = w->cap_entities ? w->cap_entities * 2 : 1024;
        w->entities = realloc(w->entities, w->cap_entities * sizeof(*w->entities));
    }
    gen_entity_t *e = &w->entities[w->n_entities];
    memset(e, 0, sizeof(*e));
    e->n = (uint32_t)++w->n_entities;
    e->kind = r < 60 ? 2 : r < 88 ? 0 : 1;
    e->version = 1;
    e->status = 1;
    return e;
}

static void gen_row(gen_writer_t *w, lt_buf_t *sql, lt_buf_t *payload, int first)
{
    int is_delete;
    gen_entity_t *e = gen_next_change(w, &is_delete);
    static const char *const kinds[] = {"birth", "death", "dossier"};
    int64_t now = lt_now_us();
    lt_buf_reset(payload);
    if (!is_delete && e->kind == 2)
        gen_dossier_payload(payload, w, e, now);
    else if (!is_delete)
        gen_civil_payload(payload, w, e);
    /* Paper records are typed in later: occurred_at lags by up to ten days. */
    int64_t occurred = now - (int64_t)(gen_rand(w) % 864000) * 1000000;
    lt_buf_printf(sql, "%s('%s','%s-%s-w%d-%u',%u,'%s','epoch'::timestamptz + %" PRId64
                       " * interval '1 microsecond',%s%s%s)",
                  first ? "" : ",", e->kind == 2 ? "dossier" : "civil_record", w->opts->commune,
                  kinds[e->kind], w->index, e->n, e->version, is_delete ? "delete" : "upsert",
                  occurred, is_delete ? "NULL" : "'", is_delete ? "" : lt_buf_cstr(payload),
                  is_delete ? "" : "'");
    if (is_delete)
        w->deletes++;
    else
        w->upserts++;
}

static int gen_exec(gen_writer_t *w, const char *sql)
{
    PGresult *res = PQexec(w->pg, sql);
    int ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    if (!ok)
        snprintf(w->error, sizeof(w->error), "%s", PQerrorMessage(w->pg));
    PQclear(res);
    return ok ? 0 : -1;
}

static int gen_transaction(gen_writer_t *w, int rows, lt_buf_t *sql, lt_buf_t *payload)
{
    lt_buf_reset(sql);
    lt_buf_puts(sql, "INSERT INTO lt.outbox (entity_type, entity_id, version, op, occurred_at,"
                     " payload) VALUES ");
    for (int i = 0; i < rows; i++)
        gen_row(w, sql, payload, i == 0);
    if (gen_exec(w, "BEGIN") || gen_exec(w, lt_buf_cstr(sql)))
        return -1;
    /* One transaction in eight stays open while the other writers commit. */
    if (w->opts->hold_ms && gen_rand(w) % 8 == 0)
        lt_sleep_ms((int)(gen_rand(w) % (unsigned)w->opts->hold_ms) + 1);
    if (gen_exec(w, "COMMIT"))
        return -1;
    w->written += rows;
    w->txs++;
    return 0;
}

static void *gen_writer_main(void *arg)
{
    gen_writer_t *w = arg;
    lt_buf_t sql = {0}, payload = {0};
    int64_t start = lt_monotonic_ms();
    double per_writer_rate = w->opts->rate / w->opts->writers;
    while (w->written < w->quota && !lt_stop_requested) {
        int rows = 1 + (int)(gen_rand(w) % (unsigned)w->opts->max_rows_per_tx);
        if (rows > w->quota - w->written)
            rows = (int)(w->quota - w->written);
        if (gen_transaction(w, rows, &sql, &payload) != 0)
            break;
        if (per_writer_rate > 0) {
            int64_t due = start + (int64_t)(w->written * 1000.0 / per_writer_rate);
            int64_t wait = due - lt_monotonic_ms();
            if (wait > 0)
                lt_sleep_ms((int)wait);
        }
    }
    lt_buf_free(&sql);
    lt_buf_free(&payload);
    return NULL;
}

static void gen_usage(FILE *out)
{
    fprintf(out,
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

static int gen_parse(int argc, char **argv, gen_opts_t *o)
{
    static const struct option longopts[] = {
        {"postgres", required_argument, NULL, 'd'}, {"commune", required_argument, NULL, 'c'},
        {"events", required_argument, NULL, 'n'},   {"writers", required_argument, NULL, 'w'},
        {"max-rows", required_argument, NULL, 'm'}, {"hold-ms", required_argument, NULL, 'H'},
        {"rate", required_argument, NULL, 'r'},     {"seed", required_argument, NULL, 's'},
        {"quiet", no_argument, NULL, 'q'},          {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    *o = (gen_opts_t){.events = 1000, .writers = 4, .max_rows_per_tx = 5, .hold_ms = 20, .seed = 1};
    int c;
    while ((c = getopt_long(argc, argv, "d:c:n:w:m:H:r:s:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': o->postgres = optarg; break;
        case 'c': o->commune = optarg; break;
        case 'n': o->events = atol(optarg); break;
        case 'w': o->writers = atoi(optarg); break;
        case 'm': o->max_rows_per_tx = atoi(optarg); break;
        case 'H': o->hold_ms = atoi(optarg); break;
        case 'r': o->rate = atof(optarg); break;
        case 's': o->seed = (unsigned)atol(optarg); break;
        case 'q': o->quiet = 1; break;
        case 'h': gen_usage(stdout); return -1;
        default: gen_usage(stderr); return 2;
        }
    }
    const char *bad = !o->postgres ? "--postgres is required"
                      : !o->commune || !lt_is_digits(o->commune, 5) ? "--commune must be 5 digits"
                      : o->events < 0 ? "--events must be >= 0"
                      : o->writers < 1 || o->writers > 64 ? "--writers must be 1..64"
                      : o->max_rows_per_tx < 1 ? "--max-rows must be >= 1"
                                               : NULL;
    if (bad) {
        fprintf(stderr, "lienthong-gen: %s\n", bad);
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    gen_opts_t opts;
    int rc = gen_parse(argc, argv, &opts);
    if (rc)
        return rc < 0 ? 0 : rc;
    lt_signals_install();
    gen_writer_t *writers = calloc((size_t)opts.writers, sizeof(*writers));
    pthread_t *threads = calloc((size_t)opts.writers, sizeof(*threads));
    int64_t start = lt_monotonic_ms();
    for (int i = 0; i < opts.writers; i++) {
        gen_writer_t *w = &writers[i];
        *w = (gen_writer_t){.opts = &opts, .index = i, .rng = opts.seed * 7919u + (unsigned)i};
        w->quota = opts.events / opts.writers + (i < opts.events % opts.writers);
        w->pg = PQconnectdb(opts.postgres);
        if (PQstatus(w->pg) != CONNECTION_OK) {
            fprintf(stderr, "lienthong-gen: cannot connect (%s): %s", opts.postgres,
                    PQerrorMessage(w->pg));
            return 1;
        }
    }
    for (int i = 0; i < opts.writers; i++)
        pthread_create(&threads[i], NULL, gen_writer_main, &writers[i]);
    long written = 0, upserts = 0, deletes = 0, txs = 0;
    for (int i = 0; i < opts.writers; i++) {
        pthread_join(threads[i], NULL);
        written += writers[i].written;
        upserts += writers[i].upserts;
        deletes += writers[i].deletes;
        txs += writers[i].txs;
        if (writers[i].error[0]) {
            fprintf(stderr, "lienthong-gen: writer %d: %s", i, writers[i].error);
            rc = 1;
        }
        PQfinish(writers[i].pg);
        free(writers[i].entities);
    }
    double secs = (double)(lt_monotonic_ms() - start) / 1000.0;
    if (!opts.quiet)
        printf("commune=%s events=%ld upserts=%ld deletes=%ld transactions=%ld writers=%d "
               "seconds=%.1f rate=%.0f/s\n",
               opts.commune, written, upserts, deletes, txs, opts.writers, secs,
               secs > 0 ? written / secs : 0.0);
    free(writers);
    free(threads);
    return rc;
}
