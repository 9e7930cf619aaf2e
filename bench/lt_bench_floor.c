/* lt-bench-floor — the naive apply path, for comparison with lienthong-sink.
 *
 * Reads the first N sequenced events of one commune outbox, then applies them
 * to a province database one event per transaction (autocommit): a single
 * prepared statement inserts the lt.event_log row and upserts lt.entity with
 * the same version guard as the sink ("WHERE version < EXCLUDED.version").
 * One round trip and one commit per event: the floor any batching sink must
 * beat.
 *
 * content_hash is sha256 of the outbox payload text (the sink hashes the
 * protobuf payload instead); the column holds 32 bytes either way.
 *
 * Prints one line on stdout:
 *   events=N seconds=S rate=R
 * and progress lines on stderr. Exit 0 on success. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#define NCOLS 10

static const char select_sql[] =
    "SELECT seq::text, entity_type, entity_id, version::text, op,"
    " CASE WHEN payload IS NULL THEN NULL"
    "  ELSE '\\x' || encode(sha256(convert_to(payload::text, 'UTF8')), 'hex') END,"
    " occurred_at::text, recorded_at::text, payload::text"
    " FROM lt.outbox WHERE seq IS NOT NULL ORDER BY seq LIMIT $1";

/* $1 commune $2 seq $3 type $4 id $5 version $6 op $7 hash $8 occurred $9 recorded
 * $10 payload */
static const char apply_sql[] =
    "WITH log AS (INSERT INTO lt.event_log (commune_code, seq, entity_type, entity_id,"
    " version, op, content_hash, occurred_at, recorded_at)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9))"
    " INSERT INTO lt.entity AS e (commune_code, entity_type, entity_id, version, deleted,"
    " content_hash, payload, occurred_at, recorded_at, seq)"
    " VALUES ($1, $3, $4, $5, $6 = 'delete', $7, $10, $8, $9, $2)"
    " ON CONFLICT (commune_code, entity_type, entity_id) DO UPDATE SET"
    " version = EXCLUDED.version, deleted = EXCLUDED.deleted,"
    " content_hash = EXCLUDED.content_hash, payload = EXCLUDED.payload,"
    " occurred_at = EXCLUDED.occurred_at, recorded_at = EXCLUDED.recorded_at,"
    " seq = EXCLUDED.seq, applied_at = now()"
    " WHERE e.version < EXCLUDED.version";

static const Oid apply_types[NCOLS] = {
    25 /* text */, 20 /* int8 */, 25, 25, 20, 25, 17 /* bytea */,
    1184 /* timestamptz */, 1184, 3802 /* jsonb */};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: lt-bench-floor --source CONNINFO --target CONNINFO --commune CODE [-n N]\n\n"
            "Applies the first N sequenced events of the commune outbox in --source to the\n"
            "province database --target (schema from `lienthong-sink migrate`), one\n"
            "INSERT ... ON CONFLICT DO UPDATE per event, each in its own transaction.\n\n"
            "  -s, --source CONNINFO  commune database holding lt.outbox (seq assigned)\n"
            "  -t, --target CONNINFO  province database (lt.entity, lt.event_log)\n"
            "  -c, --commune CODE     commune code written into the province rows\n"
            "  -n, --events N         events to apply (default 20000)\n"
            "  -h, --help             this help\n");
}

static PGconn *connect_or_die(const char *conninfo)
{
    PGconn *pg = PQconnectdb(conninfo);
    if (PQstatus(pg) != CONNECTION_OK) {
        fprintf(stderr, "lt-bench-floor: cannot connect (%s): %s", conninfo,
                PQerrorMessage(pg));
        exit(1);
    }
    return pg;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"source", required_argument, NULL, 's'}, {"target", required_argument, NULL, 't'},
        {"commune", required_argument, NULL, 'c'}, {"events", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    const char *source = NULL, *target = NULL, *commune = NULL;
    long events = 20000;
    int c;
    while ((c = getopt_long(argc, argv, "s:t:c:n:h", longopts, NULL)) != -1) {
        switch (c) {
        case 's': source = optarg; break;
        case 't': target = optarg; break;
        case 'c': commune = optarg; break;
        case 'n': events = atol(optarg); break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!source || !target || !commune || events < 1) {
        usage(stderr);
        return 2;
    }

    /* Load the sample first, so that only the apply is timed. */
    PGconn *src = connect_or_die(source);
    char limit[32];
    snprintf(limit, sizeof(limit), "%ld", events);
    const char *sel_params[] = {limit};
    PGresult *rows = PQexecParams(src, select_sql, 1, NULL, sel_params, NULL, NULL, 0);
    if (PQresultStatus(rows) != PGRES_TUPLES_OK) {
        fprintf(stderr, "lt-bench-floor: reading the outbox: %s", PQerrorMessage(src));
        return 1;
    }
    PQfinish(src);
    int n = PQntuples(rows);
    if (n < events)
        fprintf(stderr, "lt-bench-floor: warning: the outbox holds only %d sequenced events\n", n);

    PGconn *dst = connect_or_die(target);
    PGresult *res = PQprepare(dst, "apply", apply_sql, NCOLS, apply_types);
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        fprintf(stderr, "lt-bench-floor: prepare: %s", PQerrorMessage(dst));
        return 1;
    }
    PQclear(res);

    const char *params[NCOLS];
    params[0] = commune;
    double start = now_s(), last_report = start;
    for (int i = 0; i < n; i++) {
        for (int col = 0; col < 9; col++)
            params[col + 1] = PQgetisnull(rows, i, col) ? NULL : PQgetvalue(rows, i, col);
        /* select order: seq type id version op hash occurred recorded payload */
        res = PQexecPrepared(dst, "apply", NCOLS, params, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            fprintf(stderr, "lt-bench-floor: event %d (seq %s): %s", i, params[1],
                    PQerrorMessage(dst));
            return 1;
        }
        PQclear(res);
        double t = now_s();
        if (t - last_report >= 5.0) {
            fprintf(stderr, "lt-bench-floor: %d/%d events, %.0f events/s\n", i + 1, n,
                    (i + 1) / (t - start));
            last_report = t;
        }
    }
    double secs = now_s() - start;
    printf("events=%d seconds=%.3f rate=%.0f\n", n, secs, secs > 0 ? n / secs : 0.0);
    PQclear(rows);
    PQfinish(dst);
    return 0;
}
