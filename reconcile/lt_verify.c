#include "lt_verify.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lt_util.h"

/* What the province should hold after applying seq 1..$1, one row per entity:
 * the commune's newest state when it was numbered by then; else the newest
 * version numbered by then (its content hash is not kept at the commune:
 * NULL); nothing for an entity that began later. Both sides are sorted the
 * same way: entity key, then the compared fields. */
static const char commune_entities_sql[] =
    "SELECT key, version, deleted, hash FROM ("
    "  SELECT entity_type || '/' || entity_id AS key, version, deleted,"
    "   coalesce(encode(content_hash, 'hex'), '') AS hash"
    "  FROM lt.entity_state WHERE seq <= $1"
    " UNION ALL"
    "  (SELECT DISTINCT ON (o.entity_type, o.entity_id)"
    "    o.entity_type || '/' || o.entity_id, o.version, o.op = 'delete', NULL"
    "   FROM lt.entity_state s JOIN lt.outbox o USING (entity_type, entity_id)"
    "   WHERE s.seq > $1 AND o.seq <= $1"
    "   ORDER BY o.entity_type, o.entity_id, o.version DESC)"
    ") AS expected ORDER BY key COLLATE \"C\"";
static const char province_entities_sql[] =
    "SELECT entity_type || '/' || entity_id, version, deleted,"
    " coalesce(encode(content_hash, 'hex'), '') FROM lt.entity WHERE commune_code = $1"
    " ORDER BY entity_type || '/' || entity_id COLLATE \"C\"";

/* Version, deleted flag, and the content hash where the commune knows it. */
static int lt_verify_row_equal(PGresult *c, int i, PGresult *p, int j)
{
    for (int col = 1; col < 4; col++) {
        if (col == 3 && PQgetisnull(c, i, col))
            continue;
        if (strcmp(PQgetvalue(c, i, col), PQgetvalue(p, j, col)) != 0)
            return 0;
    }
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

static uint64_t lt_verify_u64(PGresult *res, int col)
{
    return strtoull(PQgetvalue(res, 0, col), NULL, 10);
}

/* The province's event log of the commune: how many, up to which sequence. */
static lt_pg_rc_t lt_verify_province_events(PGconn *ppg, const char *commune,
                                            lt_verify_report_t *r, char *errstr,
                                            size_t errstr_size)
{
    PGresult *res;
    const char *params[] = {commune};
    lt_pg_rc_t rc = lt_pg_query(ppg,
                                "SELECT count(*), coalesce(max(seq), 0) FROM lt.event_log"
                                " WHERE commune_code = $1",
                                1, params, &res, errstr, errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    r->province_events = lt_verify_u64(res, 0);
    r->province_max_seq = lt_verify_u64(res, 1);
    r->upto_seq = r->province_max_seq;
    PQclear(res);
    return LT_PG_OK;
}

/* The commune's outbox, split at the province's last sequence. Rows purged
 * by retention count as numbered: the province confirmed it holds them. */
#define LT_VERIFY_PURGED "SELECT coalesce(sum(purged_rows), 0) FROM lt.agent_state"
static lt_pg_rc_t lt_verify_commune_events(PGconn *cpg, const char *upto, lt_verify_report_t *r,
                                           char *errstr, size_t errstr_size)
{
    PGresult *res;
    const char *params[] = {upto};
    lt_pg_rc_t rc = lt_pg_query(
        cpg,
        "SELECT count(seq) + (" LT_VERIFY_PURGED "), coalesce(max(seq), 0),"
        " count(seq) FILTER (WHERE seq <= $1) + (" LT_VERIFY_PURGED "),"
        " count(*) FILTER (WHERE sent_at IS NULL AND rejected_at IS NULL),"
        " count(*) FILTER (WHERE seq > $1 AND sent_at IS NOT NULL)"
        " FROM lt.outbox",
        1, params, &res, errstr, errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    r->commune_events = lt_verify_u64(res, 0);
    r->commune_max_seq = lt_verify_u64(res, 1);
    r->commune_events_upto = lt_verify_u64(res, 2);
    r->commune_unsent = lt_verify_u64(res, 3);
    r->commune_unapplied = lt_verify_u64(res, 4);
    PQclear(res);
    return LT_PG_OK;
}

/* Each side is read in one snapshot, so the counts and the entities agree
 * while the agent and the sink keep working. */
static lt_pg_rc_t lt_verify_snapshot(PGconn *conn, char *errstr, size_t errstr_size)
{
    return lt_pg_exec(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, errstr,
                      errstr_size);
}

static lt_pg_rc_t lt_verify_snapshot_end(PGconn *conn, lt_pg_rc_t rc)
{
    char ignored[256];
    lt_pg_exec(conn, "ROLLBACK", 0, NULL, ignored, sizeof(ignored));
    return rc;
}

/* Counts of one side into the report, for a commune code or a sequence. */
typedef lt_pg_rc_t (*lt_verify_counts_fn)(PGconn *conn, const char *param,
                                          lt_verify_report_t *r, char *errstr,
                                          size_t errstr_size);

/* One side in one snapshot: its counts, then its entities, both for param. */
static lt_pg_rc_t lt_verify_read_side(PGconn *conn, lt_verify_counts_fn counts,
                                      const char *entities_sql, const char *param,
                                      lt_verify_report_t *r, PGresult **entities,
                                      char *errstr, size_t errstr_size)
{
    const char *params[] = {param};
    lt_pg_rc_t rc = lt_verify_snapshot(conn, errstr, errstr_size);
    if (rc == LT_PG_OK)
        rc = counts(conn, param, r, errstr, errstr_size);
    if (rc == LT_PG_OK)
        rc = lt_pg_query(conn, entities_sql, 1, params, entities, errstr, errstr_size);
    return lt_verify_snapshot_end(conn, rc);
}

lt_pg_rc_t lt_verify_commune(PGconn *cpg, PGconn *ppg, const char *commune,
                             lt_verify_report_t *r, FILE *diff_out, char *errstr,
                             size_t errstr_size)
{
    PGresult *c = NULL, *p = NULL;
    char upto[24];
    memset(r, 0, sizeof(*r));
    lt_pg_rc_t rc = lt_verify_read_side(ppg, lt_verify_province_events, province_entities_sql,
                                        commune, r, &p, errstr, errstr_size);
    /* The commune after the province: every event the province had applied
     * was numbered at the commune before, so it is in this later snapshot. */
    snprintf(upto, sizeof(upto), "%" PRIu64, r->upto_seq);
    if (rc == LT_PG_OK)
        rc = lt_verify_read_side(cpg, lt_verify_commune_events, commune_entities_sql, upto, r,
                                 &c, errstr, errstr_size);
    if (rc == LT_PG_OK) {
        r->commune_entities = (uint64_t)PQntuples(c);
        r->province_entities = (uint64_t)PQntuples(p);
        lt_verify_merge(c, p, r, diff_out);
    }
    PQclear(c);
    PQclear(p);
    return rc;
}

lt_verify_verdict_t lt_verify_verdict(const lt_verify_report_t *r)
{
    /* Up to N: the commune numbered exactly seq 1..N, the province applied
     * each once (the event log's primary key forbids twice), and every entity
     * is as the commune had it after N. */
    int equal_upto = r->commune_events_upto == r->upto_seq &&
                     r->province_events == r->upto_seq && r->differing == 0 &&
                     r->only_commune == 0 && r->only_province == 0;
    if (!equal_upto)
        return LT_VERIFY_DIFFERENT;
    return r->commune_unsent || r->commune_unapplied ? LT_VERIFY_PENDING : LT_VERIFY_EQUAL;
}
