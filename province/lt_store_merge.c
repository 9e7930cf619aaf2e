#include "lt_store_merge.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_store.h"
#include "lt_util.h"

static const char lt_merge_inspect_sql[] =
    "SELECT c.province_code, c.name, coalesce(c.merged_into, ''), coalesce(p.last_seq, 0),"
    " (SELECT count(*) FROM lt.entity e WHERE e.commune_code = c.commune_code),"
    " (SELECT count(*) FROM lt.seq_gap g WHERE g.commune_code = c.commune_code"
    "   AND g.resolved_at IS NULL),"
    " coalesce((SELECT " LT_STORE_BACKLOG_NOW " FROM lt.commune_heartbeat h"
    "   WHERE h.commune_code = c.commune_code), -1),"
    " (SELECT count(*) FROM lt.resync r WHERE r.commune_code = c.commune_code"
    "   AND r.done_at IS NULL),"
    " (SELECT count(*) FROM lt.quarantine q WHERE q.commune_code = c.commune_code"
    "   AND q.replayed_at IS NULL)"
    " FROM lt.commune c LEFT JOIN lt.commune_progress p USING (commune_code)"
    " WHERE c.commune_code = $1";

lt_pg_rc_t lt_store_merge_inspect(PGconn *pg, const char *code, lt_store_merge_unit_t *out,
                                  char *errstr, size_t errstr_size)
{
    const char *params[] = {code};
    PGresult *res;
    memset(out, 0, sizeof(*out));
    lt_pg_rc_t rc = lt_pg_query(pg, lt_merge_inspect_sql, 1, params, &res, errstr, errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    if (PQntuples(res) == 1) {
        out->registered = 1;
        lt_strlcpy(out->province, PQgetvalue(res, 0, 0), sizeof(out->province));
        lt_strlcpy(out->name, PQgetvalue(res, 0, 1), sizeof(out->name));
        lt_strlcpy(out->merged_into, PQgetvalue(res, 0, 2), sizeof(out->merged_into));
        int64_t *counts[] = {&out->last_seq, &out->entities, &out->open_gaps,
                             &out->backlog,  &out->resync_open, &out->quarantined};
        for (int i = 0; i < 6; i++)
            *counts[i] = strtoll(PQgetvalue(res, 0, 3 + i), NULL, 10);
    }
    PQclear(res);
    return LT_PG_OK;
}

/* ------------------------------------------------------------------ apply */

/* The typed rows of the records in `gone` (entity_type, entity_id) of
 * commune $1 leave with them. */
#define LT_MERGE_DROP_TYPED                                                                       \
    " cr AS (DELETE FROM lt.civil_record t USING gone g WHERE g.entity_type = 'civil_record'"    \
    "  AND t.commune_code = $1 AND t.entity_id = g.entity_id),"                                   \
    " dh AS (DELETE FROM lt.dossier_history t USING gone g WHERE g.entity_type = 'dossier'"      \
    "  AND t.commune_code = $1 AND t.entity_id = g.entity_id),"                                   \
    " ds AS (DELETE FROM lt.dossier t USING gone g WHERE g.entity_type = 'dossier'"              \
    "  AND t.commune_code = $1 AND t.entity_id = g.entity_id)"

/* Records both communes hold: newest version wins (the new commune's copy
 * on a tie). First the losing copies of the old commune $1 against the new
 * $2, then those of the new against the old. */
static const char lt_merge_drop_old_sql[] =
    "WITH gone AS (DELETE FROM lt.entity o USING lt.entity n"
    "  WHERE o.commune_code = $1 AND n.commune_code = $2 AND n.entity_type = o.entity_type"
    "  AND n.entity_id = o.entity_id AND n.version >= o.version"
    "  RETURNING o.entity_type, o.entity_id)," LT_MERGE_DROP_TYPED
    " SELECT count(*) FROM gone";
static const char lt_merge_drop_new_sql[] =
    "WITH gone AS (DELETE FROM lt.entity n USING lt.entity o"
    "  WHERE n.commune_code = $1 AND o.commune_code = $2 AND n.entity_type = o.entity_type"
    "  AND n.entity_id = o.entity_id AND o.version > n.version"
    "  RETURNING n.entity_type, n.entity_id)," LT_MERGE_DROP_TYPED
    " SELECT count(*) FROM gone";

/* The old commune's records become the new one's, keeping where they came from. */
static const char lt_merge_move_sql[] =
    "WITH e AS (UPDATE lt.entity SET commune_code = $2, origin_code = coalesce(origin_code, $1)"
    "  WHERE commune_code = $1 RETURNING 1),"
    " cr AS (UPDATE lt.civil_record SET commune_code = $2,"
    "  origin_code = coalesce(origin_code, $1) WHERE commune_code = $1),"
    " ds AS (UPDATE lt.dossier SET commune_code = $2, origin_code = coalesce(origin_code, $1)"
    "  WHERE commune_code = $1),"
    " dh AS (UPDATE lt.dossier_history SET commune_code = $2 WHERE commune_code = $1)"
    " SELECT count(*) FROM e";

static const char lt_merge_retire_sql[] =
    "WITH r AS (UPDATE lt.commune SET merged_into = $2, retired_at = now()"
    "  WHERE commune_code = $1 AND merged_into IS NULL RETURNING 1)"
    " INSERT INTO lt.commune_merge (old_code, new_code, partial, last_seq, entities, superseded)"
    " SELECT $1, $2, $3::boolean, coalesce((SELECT last_seq FROM lt.commune_progress"
    "  WHERE commune_code = $1), 0), $4::bigint, $5::bigint FROM r";

/* The new commune's digest recomputed from its rows, the old communes' gone
 * with their rows: a merger is rare, a full count of one commune is cheap
 * next to it. */
static const char lt_merge_digest_drop_sql[] =
    "DELETE FROM lt.digest_bucket WHERE commune_code = $1";
static const char lt_merge_digest_sql[] =
    "INSERT INTO lt.digest_bucket (commune_code, bucket, count, h0, h1, h2, h3)"
    " SELECT $1, bucket, count(*), bit_xor(h0), bit_xor(h1), bit_xor(h2), bit_xor(h3)"
    " FROM lt.entity WHERE commune_code = $1 GROUP BY bucket";

static lt_pg_rc_t lt_merge_count(PGconn *pg, const char *sql, const char *a, const char *b,
                                 int64_t *count, char *errstr, size_t errstr_size)
{
    const char *params[] = {a, b};
    uint64_t n = 0;
    lt_pg_rc_t rc = lt_pg_query_u64(pg, sql, 2, params, 0, &n, errstr, errstr_size);
    *count = (int64_t)n;
    return rc;
}

/* Both communes still as inspected: neither retired meanwhile. */
static lt_pg_rc_t lt_merge_lock_commune(PGconn *pg, const char *code, char *errstr,
                                        size_t errstr_size)
{
    const char *params[] = {code};
    PGresult *res;
    lt_pg_rc_t rc = lt_pg_query(pg,
                                "SELECT coalesce(merged_into, '') FROM lt.commune"
                                " WHERE commune_code = $1 FOR UPDATE",
                                1, params, &res, errstr, errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    if (PQntuples(res) != 1 || PQgetvalue(res, 0, 0)[0]) {
        lt_err(errstr, errstr_size, "commune %s %s", code,
               PQntuples(res) != 1 ? "is not registered" : "was merged meanwhile");
        rc = LT_PG_FATAL;
    }
    PQclear(res);
    return rc;
}

static lt_pg_rc_t lt_merge_one(PGconn *pg, const char *new_code, lt_store_merge_source_t *src,
                               char *errstr, size_t errstr_size)
{
    int64_t dropped_old = 0, dropped_new = 0;
    lt_pg_rc_t rc = lt_merge_lock_commune(pg, src->code, errstr, errstr_size);
    if (rc == LT_PG_OK)
        rc = lt_merge_count(pg, lt_merge_drop_old_sql, src->code, new_code, &dropped_old,
                            errstr, errstr_size);
    if (rc == LT_PG_OK)
        rc = lt_merge_count(pg, lt_merge_drop_new_sql, new_code, src->code, &dropped_new,
                            errstr, errstr_size);
    if (rc == LT_PG_OK)
        rc = lt_merge_count(pg, lt_merge_move_sql, src->code, new_code, &src->moved, errstr,
                            errstr_size);
    src->superseded = dropped_old + dropped_new;
    if (rc != LT_PG_OK)
        return rc;
    char moved[24], superseded[24];
    snprintf(moved, sizeof(moved), "%" PRId64, src->moved);
    snprintf(superseded, sizeof(superseded), "%" PRId64, src->superseded);
    const char *params[] = {src->code, new_code, src->partial ? "true" : "false", moved,
                            superseded};
    rc = lt_pg_exec(pg, lt_merge_retire_sql, 5, params, errstr, errstr_size);
    if (rc == LT_PG_OK)
        rc = lt_pg_exec(pg, lt_merge_digest_drop_sql, 1, params, errstr, errstr_size);
    /* A running sink reloads its communes: the old one's topic is now retired. */
    const char *notify[] = {src->code};
    if (rc == LT_PG_OK)
        rc = lt_pg_exec(pg, "SELECT pg_notify('" LT_STORE_COMMUNE_CHANNEL "', $1)", 1, notify,
                        errstr, errstr_size);
    return rc;
}

lt_pg_rc_t lt_store_merge_apply(PGconn *pg, const char *new_code,
                                lt_store_merge_source_t *sources, size_t n, char *errstr,
                                size_t errstr_size)
{
    /* SHARE ROW EXCLUSIVE waits for the sink's round in flight and holds the
     * next one at its first record until the merger is committed; the
     * trigger on lt.commune_progress then sends that round back to be
     * planned again. */
    lt_pg_rc_t rc = lt_pg_exec(pg, "BEGIN; LOCK TABLE lt.entity IN SHARE ROW EXCLUSIVE MODE",
                               0, NULL, errstr, errstr_size);
    if (rc == LT_PG_OK)
        rc = lt_merge_lock_commune(pg, new_code, errstr, errstr_size);
    for (size_t i = 0; rc == LT_PG_OK && i < n; i++)
        rc = lt_merge_one(pg, new_code, &sources[i], errstr, errstr_size);
    const char *params[] = {new_code};
    if (rc == LT_PG_OK)
        rc = lt_pg_exec(pg, lt_merge_digest_drop_sql, 1, params, errstr, errstr_size);
    if (rc == LT_PG_OK)
        rc = lt_pg_exec(pg, lt_merge_digest_sql, 1, params, errstr, errstr_size);
    if (rc == LT_PG_OK)
        rc = lt_pg_exec(pg, "COMMIT", 0, NULL, errstr, errstr_size);
    if (rc != LT_PG_OK && PQtransactionStatus(pg) != PQTRANS_IDLE)
        lt_pg_exec(pg, "ROLLBACK", 0, NULL, NULL, 0);
    return rc;
}
