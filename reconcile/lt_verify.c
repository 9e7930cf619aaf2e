#include "lt_verify.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lt_util.h"

/* Both sides sorted the same way: entity key, then the compared fields. */
static const char commune_entities_sql[] =
    "SELECT entity_type || '/' || entity_id, version, deleted,"
    " coalesce(encode(content_hash, 'hex'), '') FROM lt.entity_state"
    " ORDER BY entity_type || '/' || entity_id COLLATE \"C\"";
static const char province_entities_sql[] =
    "SELECT entity_type || '/' || entity_id, version, deleted,"
    " coalesce(encode(content_hash, 'hex'), '') FROM lt.entity WHERE commune_code = $1"
    " ORDER BY entity_type || '/' || entity_id COLLATE \"C\"";

static int lt_verify_row_equal(PGresult *a, int i, PGresult *b, int j)
{
    for (int col = 1; col < 4; col++)
        if (strcmp(PQgetvalue(a, i, col), PQgetvalue(b, j, col)) != 0)
            return 0;
    return 1;
}

static void lt_verify_merge(PGresult *c, PGresult *p, lt_verify_report_t *r, FILE *diff_out)
{
    int i = 0, j = 0, nc = PQntuples(c), np = PQntuples(p), shown = 0;
    while (i < nc || j < np) {
        int cmp = i >= nc ? 1 : j >= np ? -1 : strcmp(PQgetvalue(c, i, 0), PQgetvalue(p, j, 0));
        const char *what = NULL, *key = NULL;
        if (cmp == 0) {
            if (lt_verify_row_equal(c, i, p, j))
                r->equal++;
            else
                r->differing++, what = "differs", key = PQgetvalue(c, i, 0);
            i++, j++;
        } else if (cmp < 0) {
            r->only_commune++, what = "only at the commune", key = PQgetvalue(c, i++, 0);
        } else {
            r->only_province++, what = "only at the province", key = PQgetvalue(p, j++, 0);
        }
        if (what && diff_out && shown++ < 10)
            fprintf(diff_out, "  %s: %s\n", key, what);
    }
}

static lt_pg_rc_t lt_verify_counts(PGconn *cpg, PGconn *ppg, const char *commune,
                                   lt_verify_report_t *r, char *errstr, size_t errstr_size)
{
    PGresult *res;
    lt_pg_rc_t rc = lt_pg_query(cpg,
                                "SELECT count(seq), coalesce(max(seq), 0),"
                                " count(*) FILTER (WHERE sent_at IS NULL AND rejected_at IS NULL)"
                                " FROM lt.outbox",
                                0, NULL, &res, errstr, errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    r->commune_events = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    r->commune_max_seq = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
    r->commune_unsent = strtoull(PQgetvalue(res, 0, 2), NULL, 10);
    PQclear(res);
    const char *params[] = {commune};
    rc = lt_pg_query(ppg,
                     "SELECT count(*), coalesce(max(seq), 0) FROM lt.event_log"
                     " WHERE commune_code = $1",
                     1, params, &res, errstr, errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    r->province_events = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    r->province_max_seq = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
    PQclear(res);
    return LT_PG_OK;
}

lt_pg_rc_t lt_verify_commune(PGconn *cpg, PGconn *ppg, const char *commune,
                             lt_verify_report_t *r, FILE *diff_out, char *errstr,
                             size_t errstr_size)
{
    PGresult *c = NULL, *p = NULL;
    const char *params[] = {commune};
    memset(r, 0, sizeof(*r));
    lt_pg_rc_t rc = lt_verify_counts(cpg, ppg, commune, r, errstr, errstr_size);
    if (rc == LT_PG_OK)
        rc = lt_pg_query(cpg, commune_entities_sql, 0, NULL, &c, errstr, errstr_size);
    if (rc == LT_PG_OK)
        rc = lt_pg_query(ppg, province_entities_sql, 1, params, &p, errstr, errstr_size);
    if (rc == LT_PG_OK) {
        r->commune_entities = (uint64_t)PQntuples(c);
        r->province_entities = (uint64_t)PQntuples(p);
        lt_verify_merge(c, p, r, diff_out);
    }
    PQclear(c);
    PQclear(p);
    return rc;
}

int lt_verify_equal(const lt_verify_report_t *r)
{
    /* Every numbered event applied exactly once (the event log's primary key
     * forbids twice), and the same newest versions on both sides. */
    return r->commune_events == r->province_events &&
           r->commune_max_seq == r->province_max_seq &&
           r->province_events == r->province_max_seq && r->differing == 0 &&
           r->only_commune == 0 && r->only_province == 0;
}
