#include "lt_store.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_buf.h"
#include "lt_digest.h"
#include "lt_fault.h"
#include "lt_log.h"
#include "lt_util.h"

extern const char lt_province_schema_sql[]; /* sql/province_schema.sql */
extern const char lt_apply_round_sql[];     /* sql/apply_round.sql */

/* The channel provisioning notifies a running sink on. */

/* The member of the entity row at res[row], from its columns: commune,
 * type, id, version, deleted, content hash. */
static void lt_store_row_member(PGresult *res, int row, lt_digest_member_t *m)
{
    size_t len = 0;
    unsigned char *hash = PQgetisnull(res, row, 5)
                              ? NULL
                              : PQunescapeBytea((const unsigned char *)PQgetvalue(res, row, 5),
                                                &len);
    lt_digest_member(PQgetvalue(res, row, 1), PQgetvalue(res, row, 2),
                     strtoull(PQgetvalue(res, row, 3), NULL, 10),
                     PQgetvalue(res, row, 4)[0] == 't', hash, hash ? len : 0, m);
    PQfreemem(hash);
}

#define LT_STORE_ENTITY_MEMBER_COLUMNS \
    "commune_code, entity_type, entity_id, version, deleted, content_hash"

/* Up to 10,000 rows from before digests get their member; *filled says how
 * many (0: none left). */
static lt_pg_rc_t lt_store_fill_members(PGconn *pg, uint64_t *filled, char *errstr,
                                        size_t errstr_size)
{
    PGresult *res;
    lt_pg_rc_t rc = lt_pg_query(pg,
                                "SELECT " LT_STORE_ENTITY_MEMBER_COLUMNS " FROM lt.entity"
                                " WHERE bucket IS NULL LIMIT 10000",
                                0, NULL, &res, errstr, errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    *filled = (uint64_t)PQntuples(res);
    rc = lt_pg_exec(pg, "BEGIN", 0, NULL, errstr, errstr_size);
    for (int row = 0; rc == LT_PG_OK && row < PQntuples(res); row++) {
        lt_digest_member_t m;
        lt_store_row_member(res, row, &m);
        char b[8], h[4][24];
        snprintf(b, sizeof(b), "%u", m.bucket);
        for (int w = 0; w < 4; w++)
            snprintf(h[w], sizeof(h[w]), "%" PRId64, m.h[w]);
        const char *params[] = {b,    h[0], h[1], h[2], h[3], PQgetvalue(res, row, 0),
                                PQgetvalue(res, row, 1), PQgetvalue(res, row, 2)};
        rc = lt_pg_exec(pg,
                        "UPDATE lt.entity SET bucket = $1, h0 = $2, h1 = $3, h2 = $4, h3 = $5"
                        " WHERE commune_code = $6 AND entity_type = $7 AND entity_id = $8",
                        8, params, errstr, errstr_size);
    }
    PQclear(res);
    if (rc == LT_PG_OK)
        return lt_pg_exec(pg, "COMMIT", 0, NULL, errstr, errstr_size);
    lt_pg_exec(pg, "ROLLBACK", 0, NULL, NULL, 0);
    return rc;
}

/* The maintained digest recomputed from the members, every commune. */
static const char lt_store_rebuild_digest_sql[] =
    "BEGIN; LOCK TABLE lt.digest_bucket IN EXCLUSIVE MODE;"
    " DELETE FROM lt.digest_bucket;"
    " INSERT INTO lt.digest_bucket (commune_code, bucket, count, h0, h1, h2, h3)"
    " SELECT commune_code, bucket, count(*), bit_xor(h0), bit_xor(h1), bit_xor(h2), bit_xor(h3)"
    " FROM lt.entity GROUP BY commune_code, bucket; COMMIT";

lt_pg_rc_t lt_store_migrate(PGconn *pg, char *errstr, size_t errstr_size)
{
    lt_pg_rc_t rc = lt_pg_exec(pg, lt_province_schema_sql, 0, NULL, errstr, errstr_size);
    uint64_t filled = 0, total = 0;
    do {
        if (rc == LT_PG_OK)
            rc = lt_store_fill_members(pg, &filled, errstr, errstr_size);
        total += filled;
    } while (rc == LT_PG_OK && filled);
    if (rc == LT_PG_OK && total)
        rc = lt_pg_exec(pg, lt_store_rebuild_digest_sql, 0, NULL, errstr, errstr_size);
    if (rc != LT_PG_OK && PQtransactionStatus(pg) != PQTRANS_IDLE)
        lt_pg_exec(pg, "ROLLBACK", 0, NULL, NULL, 0);
    return rc;
}

lt_pg_rc_t lt_store_digest_of_rows(PGconn *pg, const char *commune, lt_digest_t *from_rows,
                                   lt_digest_t *maintained, char *errstr, size_t errstr_size)
{
    const char *params[] = {commune};
    PGresult *res;
    memset(from_rows, 0, sizeof(*from_rows));
    memset(maintained, 0, sizeof(*maintained));
    lt_pg_rc_t rc = lt_pg_query(pg, "SELECT " LT_STORE_ENTITY_MEMBER_COLUMNS " FROM lt.entity"
                                    " WHERE commune_code = $1",
                                1, params, &res, errstr, errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    for (int row = 0; row < PQntuples(res); row++) {
        lt_digest_member_t m;
        lt_store_row_member(res, row, &m);
        lt_digest_add(from_rows, &m);
    }
    PQclear(res);
    rc = lt_pg_query(pg, "SELECT bucket, count, h0, h1, h2, h3 FROM lt.digest_bucket"
                         " WHERE commune_code = $1",
                     1, params, &res, errstr, errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    for (int row = 0; row < PQntuples(res); row++) {
        lt_digest_bucket_t *b = &maintained->b[atoi(PQgetvalue(res, row, 0)) % LT_DIGEST_BUCKETS];
        b->count = strtoll(PQgetvalue(res, row, 1), NULL, 10);
        for (int w = 0; w < 4; w++)
            b->h[w] = strtoll(PQgetvalue(res, row, 2 + w), NULL, 10);
    }
    PQclear(res);
    return LT_PG_OK;
}

static char *lt_store_strdup(const char *s)
{
    char *copy = strdup(s);
    if (!copy)
        abort();
    return copy;
}

/* The text of a column, copied; NULL for SQL NULL. */
static char *lt_store_text(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : lt_store_strdup(PQgetvalue(res, row, col));
}

static int64_t lt_store_int(const PGresult *res, int row, int col)
{
    return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

/* A bytea column unescaped (PQfreemem it); NULL and 0 for SQL NULL. */
static uint8_t *lt_store_bytes(const PGresult *res, int row, int col, size_t *len)
{
    *len = 0;
    if (PQgetisnull(res, row, col))
        return NULL;
    return PQunescapeBytea((const unsigned char *)PQgetvalue(res, row, col), len);
}

/* ------------------------------------------------------------- registry */

static const char lt_store_communes_sql[] =
    "SELECT c.commune_code, c.events_topic, c.key_id, c.public_key,"
    " coalesce(p.last_seq, 0), p.last_batch_hash, c.merged_into"
    " FROM lt.commune c LEFT JOIN lt.commune_progress p"
    " USING (commune_code) WHERE c.province_code = $1";

/* The sequences each commune's open gaps still miss: the gap ranges less
 * what the event log holds of them (a gap may be partly filled). */
static const char lt_store_missing_sql[] =
    "WITH g AS (SELECT g.commune_code, g.from_seq, g.to_seq FROM lt.seq_gap g"
    "  JOIN lt.commune c USING (commune_code)"
    "  WHERE g.resolved_at IS NULL AND c.province_code = $1),"
    " p AS (SELECT g.commune_code, g.from_seq AS gf, g.to_seq AS gt, e.seq,"
    "  lag(e.seq) OVER (PARTITION BY g.commune_code, g.from_seq ORDER BY e.seq) AS prev"
    "  FROM g JOIN lt.event_log e ON e.commune_code = g.commune_code"
    "  AND e.seq BETWEEN g.from_seq AND g.to_seq)"
    " SELECT commune_code, coalesce(prev + 1, gf), seq - 1 FROM p"
    "  WHERE seq > coalesce(prev + 1, gf)"
    " UNION ALL SELECT commune_code, max(seq) + 1, gt FROM p"
    "  GROUP BY commune_code, gf, gt HAVING max(seq) < gt"
    " UNION ALL SELECT commune_code, from_seq, to_seq FROM g WHERE NOT EXISTS ("
    "  SELECT 1 FROM lt.event_log e WHERE e.commune_code = g.commune_code"
    "  AND e.seq BETWEEN g.from_seq AND g.to_seq)"
    " ORDER BY 1, 2";

static void lt_store_add_commune(lt_registry_t *reg, const PGresult *res, int row)
{
    lt_commune_t *c = lt_registry_add(reg, PQgetvalue(res, row, 0), PQgetvalue(res, row, 1),
                                      PQgetisnull(res, row, 2) ? NULL : PQgetvalue(res, row, 2),
                                      PQgetisnull(res, row, 3) ? NULL : PQgetvalue(res, row, 3));
    size_t len;
    uint8_t *hash = lt_store_bytes(res, row, 5, &len);
    lt_commune_set_progress(c, strtoull(PQgetvalue(res, row, 4), NULL, 10),
                            hash && len == LT_REGISTRY_HASH_LEN ? hash : NULL);
    PQfreemem(hash);
    lt_commune_set_merged_into(c, PQgetisnull(res, row, 6) ? NULL : PQgetvalue(res, row, 6));
}

static lt_pg_rc_t lt_store_load_gaps(PGconn *pg, lt_registry_t *reg, char *errstr,
                                     size_t errstr_size)
{
    const char *params[] = {lt_registry_province(reg)};
    PGresult *res;
    lt_pg_rc_t rc = lt_pg_query(pg, lt_store_missing_sql, 1, params, &res, errstr, errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    for (int row = 0; row < PQntuples(res); row++) {
        lt_commune_t *c = lt_registry_by_code(reg, PQgetvalue(res, row, 0));
        if (c)
            lt_ranges_append(lt_commune_missing(c), strtoull(PQgetvalue(res, row, 1), NULL, 10),
                             strtoull(PQgetvalue(res, row, 2), NULL, 10));
    }
    PQclear(res);
    return LT_PG_OK;
}

lt_pg_rc_t lt_store_load_registry(PGconn *pg, lt_registry_t *reg, char *errstr,
                                  size_t errstr_size)
{
    const char *params[] = {lt_registry_province(reg)};
    PGresult *res;
    uint64_t without_member;
    lt_pg_rc_t rc = lt_pg_query_u64(pg,
                                    "SELECT count(*) FROM (SELECT 1 FROM lt.entity"
                                    " WHERE bucket IS NULL LIMIT 1) x",
                                    0, NULL, 0, &without_member, errstr, errstr_size);
    if (rc == LT_PG_OK && without_member) {
        lt_err(errstr, errstr_size, "entities stored before digests existed lack their digest"
               " member: run lienthong-sink migrate");
        return LT_PG_FATAL;
    }
    if (rc == LT_PG_OK)
        rc = lt_pg_query(pg, lt_store_communes_sql, 1, params, &res, errstr, errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    lt_registry_clear(reg);
    for (int row = 0; row < PQntuples(res); row++)
        lt_store_add_commune(reg, res, row);
    PQclear(res);
    return lt_store_load_gaps(pg, reg, errstr, errstr_size);
}

/* ---------------------------------------------------------------- commit */

/* Rows for one COPY: a text, or the newest-per-entity table (streamed row
 * by row, so the rows are never held twice). */
typedef struct lt_copy_src {
    const char *text;
    size_t len;
    const lt_newest_t *newest;
} lt_copy_src_t;

static int lt_store_copy_put(PGconn *pg, const lt_copy_src_t *src)
{
    if (!src->newest)
        return PQputCopyData(pg, src->text, (int)src->len) == 1 ? 0 : -1;
    for (size_t i = 0; i < lt_newest_count(src->newest); i++) {
        size_t len;
        const char *row = lt_newest_row(src->newest, i, &len);
        if (PQputCopyData(pg, row, (int)len) != 1)
            return -1;
    }
    return 0;
}

static lt_pg_rc_t lt_store_copy_from(PGconn *pg, const char *copy_sql, const lt_copy_src_t *src,
                                     char *errstr, size_t errstr_size)
{
    PGresult *res = PQexec(pg, copy_sql);
    lt_pg_rc_t rc = lt_pg_report(pg, res, copy_sql, errstr, errstr_size);
    if (rc != LT_PG_OK || PQresultStatus(res) != PGRES_COPY_IN) {
        if (rc == LT_PG_OK)
            lt_err(errstr, errstr_size, "%s: not in COPY mode", copy_sql);
        PQclear(res);
        return rc == LT_PG_OK ? LT_PG_FATAL : rc;
    }
    PQclear(res);
    if (lt_store_copy_put(pg, src) != 0 || PQputCopyEnd(pg, NULL) != 1) {
        lt_err(errstr, errstr_size, "%s: %s", copy_sql, PQerrorMessage(pg));
        return LT_PG_RETRY;
    }
    rc = LT_PG_OK;
    while ((res = PQgetResult(pg)) != NULL) {
        if (rc == LT_PG_OK)
            rc = lt_pg_report(pg, res, copy_sql, errstr, errstr_size);
        PQclear(res);
    }
    return rc;
}

/* COPY text rows into a table; nothing to do for none. */
static lt_pg_rc_t lt_store_copy(PGconn *pg, const char *copy_sql, const char *text, size_t len,
                                char *errstr, size_t errstr_size)
{
    lt_copy_src_t src = {.text = text, .len = len};
    return len ? lt_store_copy_from(pg, copy_sql, &src, errstr, errstr_size) : LT_PG_OK;
}

static const char lt_store_begin_sql[] =
    "BEGIN;"
    "CREATE TEMP TABLE IF NOT EXISTS lt_stage_offset (topic text,"
    " partition int, next_offset bigint) ON COMMIT DELETE ROWS;"
    "CREATE TEMP TABLE IF NOT EXISTS lt_stage_progress ("
    " commune_code text, last_seq bigint, last_batch_hash bytea,"
    " events bigint, batches bigint, duplicates bigint,"
    " recorded_us bigint) ON COMMIT DELETE ROWS;"
    "CREATE TEMP TABLE IF NOT EXISTS lt_stage_digest (commune_code text, seq bigint,"
    " bucket smallint, count bigint, h0 bigint, h1 bigint, h2 bigint, h3 bigint)"
    " ON COMMIT DELETE ROWS;"
    "CREATE TEMP TABLE IF NOT EXISTS lt_stage_manifest (commune_code text, bucket smallint,"
    " entity_type text, entity_id text) ON COMMIT DELETE ROWS;"
    /* Each entity of a completed bucket is looked up in the manifest: a
     * snapshot round completes dozens of buckets, and without an index the
     * lookups scanned the whole manifest (100,000 records took 241 s). */
    "CREATE INDEX IF NOT EXISTS lt_stage_manifest_key ON lt_stage_manifest"
    " (commune_code, entity_type, entity_id);"
    "CREATE TEMP TABLE IF NOT EXISTS lt_stage_complete (commune_code text, bucket smallint,"
    " upto_seq bigint, entity_type text, entity_id text) ON COMMIT DELETE ROWS;"
    "CREATE TEMP TABLE IF NOT EXISTS lt_stage_resync (commune_code text, request_id text,"
    " buckets int, events bigint, done boolean) ON COMMIT DELETE ROWS;"
    "CREATE TEMP TABLE IF NOT EXISTS lt_stage_heartbeat (commune_code text, at_us bigint,"
    " outbox_pending bigint, oldest_unsent_us bigint, rows_refused bigint, agent_version text,"
    " agent_id text, acked_seq bigint, next_seq bigint) ON COMMIT DELETE ROWS";

static const char lt_store_stage_sql[] =
    "CREATE TEMP TABLE IF NOT EXISTS lt_stage ("
    /* The database's default collation on purpose: compared with a column
     * of a real table, that column's collation wins (C in lt.entity and the
     * typed tables, see province_schema.sql), so joins use its index. */
    " commune_code text, seq bigint, entity_type text, entity_id text, version bigint,"
    " op text, content_hash bytea, payload jsonb, occurred_us bigint, recorded_us bigint,"
    " subject_name text, subject_name_key text, personal_id text, late boolean,"
    " bucket smallint, h0 bigint, h1 bigint, h2 bigint, h3 bigint, force boolean)"
    " ON COMMIT DELETE ROWS";

#define LT_EVENT_LOG_COLUMNS                                                           \
    "(commune_code, seq, entity_type, entity_id, version, op, content_hash, occurred_at," \
    " recorded_at)"

static const char lt_store_replay_stage_sql[] =
    "CREATE TEMP TABLE IF NOT EXISTS lt_stage_log AS"
    " SELECT commune_code, seq, entity_type, entity_id, version, op,"
    " content_hash, occurred_at, recorded_at FROM lt.event_log"
    " WITH NO DATA; TRUNCATE lt_stage_log";

/* Replay: the event log keeps what it holds already; count the rest as applied. */
static const char lt_store_replay_log_sql[] =
    "WITH fresh AS (INSERT INTO lt.event_log " LT_EVENT_LOG_COLUMNS
    " SELECT * FROM lt_stage_log ON CONFLICT DO NOTHING RETURNING commune_code)"
    " INSERT INTO lt.commune_progress AS p (commune_code, last_seq, events_applied)"
    " SELECT commune_code, 0, count(*) FROM fresh GROUP BY 1"
    " ON CONFLICT (commune_code) DO UPDATE"
    " SET events_applied = p.events_applied + EXCLUDED.events_applied";

/* Close the gaps the event log now holds entirely. */
static const char lt_store_resolve_gaps_sql[] =
    "UPDATE lt.seq_gap g SET resolved_at = now()"
    " WHERE resolved_at IS NULL AND (SELECT count(*) FROM lt.event_log e"
    "  WHERE e.commune_code = g.commune_code"
    "  AND e.seq BETWEEN g.from_seq AND g.to_seq)"
    " = g.to_seq - g.from_seq + 1";

static const char lt_store_offsets_sql[] =
    "INSERT INTO lt.kafka_offset AS k (topic, partition, next_offset)"
    " SELECT topic, partition, max(next_offset) FROM lt_stage_offset"
    " GROUP BY topic, partition"
    " ON CONFLICT (topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset,"
    " updated_at = now()";

static const char lt_store_progress_sql[] =
    "INSERT INTO lt.commune_progress AS p (commune_code, last_seq, last_batch_hash,"
    " events_applied, batches_applied, duplicates_skipped, last_recorded_at, last_applied_at)"
    " SELECT commune_code, last_seq, last_batch_hash, events, batches, duplicates,"
    " CASE WHEN recorded_us > 0 THEN 'epoch'::timestamptz"
    "  + recorded_us * interval '1 microsecond' END,"
    " CASE WHEN events > 0 THEN now() END FROM lt_stage_progress"
    " ON CONFLICT (commune_code) DO UPDATE SET"
    " last_seq = GREATEST(p.last_seq, EXCLUDED.last_seq),"
    " last_batch_hash = CASE WHEN EXCLUDED.last_seq >= p.last_seq"
    "  THEN EXCLUDED.last_batch_hash ELSE p.last_batch_hash END,"
    " events_applied = p.events_applied + EXCLUDED.events_applied,"
    " batches_applied = p.batches_applied + EXCLUDED.batches_applied,"
    " duplicates_skipped = p.duplicates_skipped + EXCLUDED.duplicates_skipped,"
    " last_recorded_at = coalesce(EXCLUDED.last_recorded_at, p.last_recorded_at),"
    " last_applied_at = CASE WHEN EXCLUDED.events_applied > 0 THEN now()"
    "  ELSE p.last_applied_at END,"
    " updated_at = now()";

/* The event log rows: straight into the table; a second application of an
 * event fails loudly on its primary key. A replay goes through a staging
 * table instead and skips what the log holds. */
static lt_pg_rc_t lt_store_write_event_log(PGconn *pg, const lt_plan_t *plan, char *errstr,
                                           size_t errstr_size)
{
    size_t len;
    const char *rows = lt_plan_event_rows(plan, &len);
    if (lt_plan_mode(plan) != LT_PLAN_REPLAY)
        return lt_store_copy(pg, "COPY lt.event_log " LT_EVENT_LOG_COLUMNS " FROM STDIN", rows,
                             len, errstr, errstr_size);
    if (!len)
        return LT_PG_OK;
    lt_pg_rc_t rc = lt_pg_exec(pg, lt_store_replay_stage_sql, 0, NULL, errstr, errstr_size);
    if (rc == LT_PG_OK)
        rc = lt_store_copy(pg, "COPY lt_stage_log FROM STDIN", rows, len, errstr, errstr_size);
    if (rc == LT_PG_OK)
        rc = lt_pg_exec(pg, lt_store_replay_log_sql, 0, NULL, errstr, errstr_size);
    return rc;
}

/* The newest version of each entity, upserted, and the typed tables the
 * changed ones drive (sql/apply_round.sql). */
static lt_pg_rc_t lt_store_write_entities(PGconn *pg, const lt_plan_t *plan, char *errstr,
                                          size_t errstr_size)
{
    lt_copy_src_t src = {.newest = lt_plan_entity_rows(plan)};
    if (!lt_newest_count(src.newest))
        return LT_PG_OK;
    lt_pg_rc_t rc = lt_store_copy_from(pg, "COPY lt_stage FROM STDIN", &src, errstr, errstr_size);
    if (rc == LT_PG_OK)
        rc = lt_pg_exec(pg, lt_apply_round_sql, 0, NULL, errstr, errstr_size);
    return rc;
}

static lt_pg_rc_t lt_store_mark_replayed(PGconn *pg, int64_t quarantine_id, char *errstr,
                                         size_t errstr_size)
{
    char id[24];
    snprintf(id, sizeof(id), "%" PRId64, quarantine_id);
    const char *params[] = {id};
    return lt_pg_exec(pg, "UPDATE lt.quarantine SET replayed_at = now() WHERE id = $1", 1,
                      params, errstr, errstr_size);
}

/* COPY rows into a staging table, then merge them with merge_sql. */
static lt_pg_rc_t lt_store_merge(PGconn *pg, const char *copy_sql, const char *rows, size_t len,
                                 const char *merge_sql, char *errstr, size_t errstr_size)
{
    if (!len)
        return LT_PG_OK;
    lt_pg_rc_t rc = lt_store_copy(pg, copy_sql, rows, len, errstr, errstr_size);
    return rc == LT_PG_OK ? lt_pg_exec(pg, merge_sql, 0, NULL, errstr, errstr_size) : rc;
}

/* The plan's rows that go straight into their tables: gaps, quarantined
 * messages, the batch chain. */
static const struct {
    const char *(*rows)(const lt_plan_t *plan, size_t *len);
    const char *copy_sql;
} lt_store_logs[] = {
    {lt_plan_gap_rows, "COPY lt.seq_gap (commune_code, from_seq, to_seq) FROM STDIN"},
    {lt_plan_quarantine_rows, "COPY lt.quarantine (topic, partition, kafka_offset, commune_code,"
                              " reason_code, reason, message_key, raw) FROM STDIN"},
    {lt_plan_batch_rows, "COPY lt.batch_log (commune_code, first_seq, last_seq, batch_hash,"
                         " prev_batch_hash, key_id, signature, topic, kafka_offset) FROM STDIN"},
};

static lt_pg_rc_t lt_store_write_logs(PGconn *pg, const lt_plan_t *plan, char *errstr,
                                      size_t errstr_size)
{
    lt_pg_rc_t rc = LT_PG_OK;
    for (size_t i = 0; rc == LT_PG_OK && i < sizeof(lt_store_logs) / sizeof(*lt_store_logs);
         i++) {
        size_t len;
        const char *rows = lt_store_logs[i].rows(plan, &len);
        rc = lt_store_copy(pg, lt_store_logs[i].copy_sql, rows, len, errstr, errstr_size);
    }
    return rc;
}

/* A commune's digest as its agent sent it, against the province's as the
 * round leaves it: equal, or the buckets that differ (a missing bucket row
 * is an empty bucket). */
static const char lt_store_digest_check_sql[] =
    "WITH cmp AS (SELECT s.commune_code, s.seq, s.bucket,"
    "  s.count <> coalesce(g.count, 0) OR s.h0 <> coalesce(g.h0, 0)"
    "  OR s.h1 <> coalesce(g.h1, 0) OR s.h2 <> coalesce(g.h2, 0)"
    "  OR s.h3 <> coalesce(g.h3, 0) AS differs"
    "  FROM lt_stage_digest s LEFT JOIN lt.digest_bucket g"
    "  ON g.commune_code = s.commune_code AND g.bucket = s.bucket),"
    " res AS (INSERT INTO lt.digest_check AS c (commune_code, seq, equal, diverged)"
    "  SELECT commune_code, seq, NOT bool_or(differs),"
    "  coalesce(array_agg(bucket ORDER BY bucket) FILTER (WHERE differs), '{}')"
    "  FROM cmp GROUP BY commune_code, seq"
    "  ON CONFLICT (commune_code, seq) DO UPDATE SET checked_at = now(),"
    "  equal = EXCLUDED.equal, diverged = EXCLUDED.diverged"
    "  RETURNING commune_code, seq, equal, cardinality(diverged))"
    " SELECT * FROM res";

/* Compare the digests the round carried; each result is logged after the
 * query (the transaction may still roll back: the next digest says again). */
static lt_pg_rc_t lt_store_check_digests(PGconn *pg, const lt_plan_t *plan, char *errstr,
                                         size_t errstr_size)
{
    size_t len;
    const char *rows = lt_plan_digest_rows(plan, &len);
    if (!len)
        return LT_PG_OK;
    lt_pg_rc_t rc = lt_store_copy(pg, "COPY lt_stage_digest FROM STDIN", rows, len, errstr,
                                  errstr_size);
    PGresult *res;
    if (rc == LT_PG_OK)
        rc = lt_pg_query(pg, lt_store_digest_check_sql, 0, NULL, &res, errstr, errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    for (int row = 0; row < PQntuples(res); row++) {
        int equal = PQgetvalue(res, row, 2)[0] == 't';
        lt_log(equal ? LT_LOG_INFO : LT_LOG_WARN,
               equal ? "commune digest equal" : "commune digest differs",
               "commune=%s seq=%s diverged_buckets=%s", PQgetvalue(res, row, 0),
               PQgetvalue(res, row, 1), PQgetvalue(res, row, 3));
    }
    PQclear(res);
    return LT_PG_OK;
}

/* Resync: in each bucket a part completes, what the commune no longer holds
 * (not in the manifest, and not newer than it) leaves lt.entity, the typed
 * tables and the digest, and is recorded in lt.resync_removed; so does each
 * entity a request named that the commune said it does not hold (a
 * completion limited to that entity). */
static const char lt_store_resync_drop_sql[] =
    "WITH gone AS (DELETE FROM lt.entity e USING lt_stage_complete k"
    "  WHERE e.commune_code = k.commune_code AND e.bucket = k.bucket AND e.seq <= k.upto_seq"
    "  AND (k.entity_id IS NULL OR (e.entity_type = k.entity_type AND e.entity_id = k.entity_id))"
    "  AND e.origin_code IS NULL" /* moved by a merger: the new commune may not hold it yet */
    "  AND NOT EXISTS (SELECT 1 FROM lt_stage_manifest m WHERE m.commune_code = e.commune_code"
    "   AND m.entity_type = e.entity_type AND m.entity_id = e.entity_id)"
    "  RETURNING e.commune_code, e.entity_type, e.entity_id, e.version, e.bucket,"
    "  e.h0, e.h1, e.h2, e.h3),"
    " audit AS (INSERT INTO lt.resync_removed (commune_code, entity_type, entity_id, version)"
    "  SELECT commune_code, entity_type, entity_id, version FROM gone),"
    " cr AS (DELETE FROM lt.civil_record t USING gone g WHERE g.entity_type = 'civil_record'"
    "  AND t.commune_code = g.commune_code AND t.entity_id = g.entity_id),"
    " dh AS (DELETE FROM lt.dossier_history t USING gone g WHERE g.entity_type = 'dossier'"
    "  AND t.commune_code = g.commune_code AND t.entity_id = g.entity_id),"
    " ds AS (DELETE FROM lt.dossier t USING gone g WHERE g.entity_type = 'dossier'"
    "  AND t.commune_code = g.commune_code AND t.entity_id = g.entity_id)"
    " UPDATE lt.digest_bucket d SET count = d.count - x.n, h0 = d.h0 # x.h0,"
    "  h1 = d.h1 # x.h1, h2 = d.h2 # x.h2, h3 = d.h3 # x.h3"
    " FROM (SELECT commune_code, bucket, count(*) AS n, bit_xor(h0) AS h0, bit_xor(h1) AS h1,"
    "  bit_xor(h2) AS h2, bit_xor(h3) AS h3 FROM gone GROUP BY commune_code, bucket) x"
    " WHERE d.commune_code = x.commune_code AND d.bucket = x.bucket";

/* Each part counts toward its request (recorded by lienthong-reconcile repair;
 * a request made by hand or lost is recorded now). */
static const char lt_store_resync_progress_sql[] =
    "INSERT INTO lt.resync AS r (request_id, commune_code, parts, events, done_at)"
    " SELECT request_id, commune_code, count(*), sum(events),"
    "  CASE WHEN bool_or(done) THEN now() END FROM lt_stage_resync"
    "  GROUP BY request_id, commune_code"
    " ON CONFLICT (request_id) DO UPDATE SET parts = r.parts + EXCLUDED.parts,"
    "  events = r.events + EXCLUDED.events, done_at = coalesce(EXCLUDED.done_at, r.done_at)";

/* The newest heartbeat per commune (the last read: an agent clock that
 * jumps back is still heard), with when the province read it. */
static const char lt_store_heartbeat_sql[] =
    "INSERT INTO lt.commune_heartbeat AS h (commune_code, agent_at, received_at,"
    " outbox_pending, oldest_unsent_at, rows_refused, agent_version, agent_id, acked_seq,"
    " next_seq)"
    " SELECT commune_code, 'epoch'::timestamptz + at_us * interval '1 microsecond',"
    "  clock_timestamp(), outbox_pending,"
    "  CASE WHEN oldest_unsent_us > 0 THEN 'epoch'::timestamptz"
    "   + oldest_unsent_us * interval '1 microsecond' END,"
    "  rows_refused, agent_version, agent_id, acked_seq, next_seq FROM lt_stage_heartbeat"
    " ON CONFLICT (commune_code) DO UPDATE SET agent_at = EXCLUDED.agent_at,"
    "  received_at = EXCLUDED.received_at, outbox_pending = EXCLUDED.outbox_pending,"
    "  oldest_unsent_at = EXCLUDED.oldest_unsent_at, rows_refused = EXCLUDED.rows_refused,"
    "  agent_version = EXCLUDED.agent_version, agent_id = EXCLUDED.agent_id,"
    "  acked_seq = EXCLUDED.acked_seq, next_seq = EXCLUDED.next_seq";

static lt_pg_rc_t lt_store_apply_resync(PGconn *pg, const lt_plan_t *plan, char *errstr,
                                        size_t errstr_size)
{
    size_t len;
    const char *rows = lt_plan_resync_rows(plan, &len);
    if (!len)
        return LT_PG_OK;
    lt_pg_rc_t rc = lt_store_merge(pg, "COPY lt_stage_resync FROM STDIN", rows, len,
                                   lt_store_resync_progress_sql, errstr, errstr_size);
    rows = lt_plan_manifest_rows(plan, &len);
    if (rc == LT_PG_OK && len)
        rc = lt_store_copy(pg, "COPY lt_stage_manifest FROM STDIN", rows, len, errstr,
                           errstr_size);
    rows = lt_plan_complete_rows(plan, &len);
    if (rc == LT_PG_OK)
        rc = lt_store_merge(pg, "COPY lt_stage_complete FROM STDIN", rows, len,
                            lt_store_resync_drop_sql, errstr, errstr_size);
    return rc;
}

/* Where each partition resumes and how far each commune got. */
static lt_pg_rc_t lt_store_write_progress(PGconn *pg, const lt_plan_t *plan, char *errstr,
                                          size_t errstr_size)
{
    size_t len;
    const char *rows = lt_plan_offset_rows(plan, &len);
    lt_pg_rc_t rc = lt_store_merge(pg, "COPY lt_stage_offset FROM STDIN", rows, len,
                                   lt_store_offsets_sql, errstr, errstr_size);
    rows = lt_plan_progress_rows(plan, &len);
    if (rc == LT_PG_OK)
        rc = lt_store_merge(pg, "COPY lt_stage_progress FROM STDIN", rows, len,
                            lt_store_progress_sql, errstr, errstr_size);
    return rc;
}

/* The whole plan, BEGIN to COMMIT; quarantine_id > 0 marks a replayed message. */
static lt_pg_rc_t lt_store_run(PGconn *pg, const lt_plan_t *plan, int64_t quarantine_id,
                               char *errstr, size_t errstr_size)
{
    int replay = lt_plan_mode(plan) == LT_PLAN_REPLAY;
    lt_pg_rc_t rc = lt_pg_exec(pg, lt_store_begin_sql, 0, NULL, errstr, errstr_size);
    if (rc == LT_PG_OK)
        rc = lt_pg_exec(pg, lt_store_stage_sql, 0, NULL, errstr, errstr_size);
    if (rc == LT_PG_OK)
        rc = lt_store_write_event_log(pg, plan, errstr, errstr_size);
    if (rc == LT_PG_OK)
        rc = lt_store_write_entities(pg, plan, errstr, errstr_size);
    if (rc == LT_PG_OK && quarantine_id > 0)
        rc = lt_store_mark_replayed(pg, quarantine_id, errstr, errstr_size);
    if (rc == LT_PG_OK && (replay || lt_plan_fills_gaps(plan)))
        rc = lt_pg_exec(pg, lt_store_resolve_gaps_sql, 0, NULL, errstr, errstr_size);
    if (rc == LT_PG_OK)
        rc = lt_store_write_logs(pg, plan, errstr, errstr_size);
    if (rc == LT_PG_OK)
        rc = lt_store_apply_resync(pg, plan, errstr, errstr_size);
    size_t hb_len;
    const char *hb_rows = lt_plan_heartbeat_rows(plan, &hb_len);
    if (rc == LT_PG_OK)
        rc = lt_store_merge(pg, "COPY lt_stage_heartbeat FROM STDIN", hb_rows, hb_len,
                            lt_store_heartbeat_sql, errstr, errstr_size);
    if (rc == LT_PG_OK)
        rc = lt_store_check_digests(pg, plan, errstr, errstr_size);
    if (rc == LT_PG_OK)
        rc = lt_store_write_progress(pg, plan, errstr, errstr_size);
    if (rc == LT_PG_OK) {
        lt_fault_point("sink.before_commit");
        rc = lt_pg_exec(pg, "COMMIT", 0, NULL, errstr, errstr_size);
    }
    return rc;
}

static lt_pg_rc_t lt_store_apply(PGconn *pg, const lt_plan_t *plan, int64_t quarantine_id,
                                 char *errstr, size_t errstr_size)
{
    lt_pg_rc_t rc = lt_store_run(pg, plan, quarantine_id, errstr, errstr_size);
    if (rc != LT_PG_OK && PQstatus(pg) == CONNECTION_OK)
        lt_pg_exec(pg, "ROLLBACK", 0, NULL, NULL, 0);
    return rc;
}

lt_pg_rc_t lt_store_commit(PGconn *pg, const lt_plan_t *plan, char *errstr,
                           size_t errstr_size)
{
    return lt_store_apply(pg, plan, 0, errstr, errstr_size);
}

lt_pg_rc_t lt_store_commit_replay(PGconn *pg, const lt_plan_t *plan, int64_t quarantine_id,
                                  char *errstr, size_t errstr_size)
{
    return lt_store_apply(pg, plan, quarantine_id, errstr, errstr_size);
}

/* --------------------------------------------------------------- offsets */

struct lt_store_offsets {
    PGresult *res; /* topic, partition, next_offset */
};

lt_pg_rc_t lt_store_read_offsets(PGconn *pg, lt_store_offsets_t **offsets, char *errstr,
                                 size_t errstr_size)
{
    PGresult *res;
    lt_pg_rc_t rc = lt_pg_query(pg, "SELECT topic, partition, next_offset FROM lt.kafka_offset",
                                0, NULL, &res, errstr, errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    *offsets = malloc(sizeof(**offsets));
    if (!*offsets)
        abort();
    (*offsets)->res = res;
    return LT_PG_OK;
}

int64_t lt_store_offset_of(const lt_store_offsets_t *offsets, const char *topic,
                           int32_t partition, int64_t if_unknown)
{
    const PGresult *res = offsets->res;
    for (int row = 0; row < PQntuples(res); row++)
        if (strcmp(PQgetvalue(res, row, 0), topic) == 0 &&
            atoi(PQgetvalue(res, row, 1)) == partition)
            return lt_store_int(res, row, 2);
    return if_unknown;
}

void lt_store_offsets_destroy(lt_store_offsets_t *offsets)
{
    if (!offsets)
        return;
    PQclear(offsets->res);
    free(offsets);
}

/* ---------------------------------------------------------- provisioning */

lt_pg_rc_t lt_store_listen_communes(PGconn *pg, char *errstr, size_t errstr_size)
{
    return lt_pg_exec(pg, "LISTEN " LT_STORE_COMMUNE_CHANNEL, 0, NULL, errstr, errstr_size);
}

int lt_store_next_registered(PGconn *pg, char *code, size_t code_size)
{
    PQconsumeInput(pg);
    PGnotify *note = PQnotifies(pg);
    if (!note)
        return 0;
    lt_strlcpy(code, note->extra, code_size);
    PQfreemem(note);
    return 1;
}

static const char lt_store_register_sql[] =
    "INSERT INTO lt.commune (commune_code, province_code, name,"
    " events_topic, control_topic, key_id, public_key)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7)"
    " ON CONFLICT (commune_code) DO UPDATE SET"
    " key_id = coalesce(EXCLUDED.key_id, lt.commune.key_id),"
    " public_key = coalesce(EXCLUDED.public_key, lt.commune.public_key);";

lt_pg_rc_t lt_store_register_commune(PGconn *pg, const lt_store_commune_t *commune,
                                     char *errstr, size_t errstr_size)
{
    const char *params[] = {commune->code,          commune->province,      commune->name,
                            commune->events_topic,  commune->control_topic, commune->key_id,
                            commune->public_key};
    lt_pg_rc_t rc = lt_pg_exec(pg, lt_store_register_sql, 7, params, errstr, errstr_size);
    /* A running sink listens: it loads the commune and looks for its topic now. */
    const char *notify[] = {commune->code};
    if (rc == LT_PG_OK)
        rc = lt_pg_exec(pg, "SELECT pg_notify('" LT_STORE_COMMUNE_CHANNEL "', $1)", 1, notify,
                        errstr, errstr_size);
    return rc;
}

/* ---------------------------------------------------------------- status */

#define LT_STORE_OLDEST_UNSENT_AT                                                                 \
    "CASE WHEN " LT_STORE_BACKLOG_NOW " > 0 THEN h.oldest_unsent_at END"

static const char lt_store_status_sql[] =
    "SELECT c.commune_code, c.name, c.events_topic, coalesce(p.last_seq, 0),"
    " coalesce(p.events_applied, 0), coalesce(k.next_offset, 0),"
    " to_char(p.updated_at, 'YYYY-MM-DD HH24:MI:SS'),"
    " (SELECT count(*) FROM lt.seq_gap g WHERE g.commune_code = c.commune_code"
    "   AND g.resolved_at IS NULL),"
    " (SELECT count(*) FROM lt.quarantine q WHERE q.commune_code = c.commune_code"
    "   AND q.replayed_at IS NULL),"
    " extract(epoch FROM clock_timestamp() - h.received_at),"
    " extract(epoch FROM h.received_at - h.agent_at), " LT_STORE_BACKLOG_NOW ","
    " extract(epoch FROM clock_timestamp() - " LT_STORE_OLDEST_UNSENT_AT "), h.rows_refused,"
    " h.agent_version, extract(epoch FROM clock_timestamp() - p.last_applied_at),"
    " (SELECT count(*) FROM lt.quarantine q WHERE q.commune_code = c.commune_code"
    "   AND q.replayed_at IS NULL AND q.quarantined_at > clock_timestamp() - interval '10 min'),"
    " (SELECT d.equal FROM lt.digest_check d WHERE d.commune_code = c.commune_code"
    "   ORDER BY d.seq DESC LIMIT 1)"
    " FROM lt.commune c LEFT JOIN lt.commune_progress p USING (commune_code)"
    " LEFT JOIN lt.kafka_offset k ON k.topic = c.events_topic AND k.partition = 0"
    " LEFT JOIN lt.commune_heartbeat h USING (commune_code)"
    " WHERE c.province_code = $1 AND c.merged_into IS NULL ORDER BY c.commune_code";

static double lt_store_seconds(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? -1 : strtod(PQgetvalue(res, row, col), NULL);
}

static void lt_store_status_row(lt_store_status_t *s, const PGresult *res, int row)
{
    *s = (lt_store_status_t){.code = lt_store_text(res, row, 0),
                             .name = lt_store_text(res, row, 1),
                             .events_topic = lt_store_text(res, row, 2),
                             .last_seq = lt_store_int(res, row, 3),
                             .events_applied = lt_store_int(res, row, 4),
                             .next_offset = lt_store_int(res, row, 5),
                             .last_applied_at = lt_store_text(res, row, 6),
                             .open_gaps = lt_store_int(res, row, 7),
                             .quarantined = lt_store_int(res, row, 8),
                             .heartbeat_age_s = lt_store_seconds(res, row, 9),
                             .clock_skew_s = PQgetisnull(res, row, 10)
                                                 ? 0
                                                 : lt_store_seconds(res, row, 10),
                             .outbox_pending = PQgetisnull(res, row, 11)
                                                   ? -1
                                                   : lt_store_int(res, row, 11),
                             .oldest_unsent_age_s = lt_store_seconds(res, row, 12),
                             .rows_refused = PQgetisnull(res, row, 13)
                                                 ? -1
                                                 : lt_store_int(res, row, 13),
                             .agent_version = lt_store_text(res, row, 14),
                             .last_applied_age_s = lt_store_seconds(res, row, 15),
                             .quarantined_recent = lt_store_int(res, row, 16),
                             .digest_equal = PQgetisnull(res, row, 17)
                                                 ? -1
                                                 : PQgetvalue(res, row, 17)[0] == 't'};
}

lt_pg_rc_t lt_store_status(PGconn *pg, const char *province, lt_store_status_t **rows,
                           size_t *n, char *errstr, size_t errstr_size)
{
    const char *params[] = {province};
    PGresult *res;
    lt_pg_rc_t rc = lt_pg_query(pg, lt_store_status_sql, 1, params, &res, errstr, errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    *n = (size_t)PQntuples(res);
    *rows = calloc(*n ? *n : 1, sizeof(**rows));
    if (!*rows)
        abort();
    for (size_t i = 0; i < *n; i++)
        lt_store_status_row(&(*rows)[i], res, (int)i);
    PQclear(res);
    return LT_PG_OK;
}

void lt_store_status_free(lt_store_status_t *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++) {
        free(rows[i].code);
        free(rows[i].name);
        free(rows[i].events_topic);
        free(rows[i].last_applied_at);
        free(rows[i].agent_version);
    }
    free(rows);
}

/* -------------------------------------------------------------- retention */

/* An open gap withholds confirmation: the commune keeps every row until
 * the province holds every sequence. */
static const char lt_store_confirmable_sql[] =
    "SELECT c.commune_code, c.control_topic, d.seq FROM lt.commune c"
    " CROSS JOIN LATERAL (SELECT x.seq FROM lt.digest_check x"
    "  WHERE x.commune_code = c.commune_code AND x.equal ORDER BY x.seq DESC LIMIT 1) d"
    " WHERE c.province_code = $1 AND c.merged_into IS NULL"
    " AND NOT EXISTS (SELECT 1 FROM lt.seq_gap g WHERE g.commune_code = c.commune_code"
    "  AND g.resolved_at IS NULL)";

lt_pg_rc_t lt_store_confirmable(PGconn *pg, const char *province, lt_store_confirmable_t **rows,
                                size_t *n, char *errstr, size_t errstr_size)
{
    const char *params[] = {province};
    PGresult *res;
    lt_pg_rc_t rc = lt_pg_query(pg, lt_store_confirmable_sql, 1, params, &res, errstr,
                                errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    *n = (size_t)PQntuples(res);
    *rows = calloc(*n ? *n : 1, sizeof(**rows));
    if (!*rows)
        abort();
    for (size_t i = 0; i < *n; i++) {
        lt_strlcpy((*rows)[i].code, PQgetvalue(res, (int)i, 0), sizeof((*rows)[i].code));
        lt_strlcpy((*rows)[i].control_topic, PQgetvalue(res, (int)i, 1),
                   sizeof((*rows)[i].control_topic));
        (*rows)[i].seq = strtoull(PQgetvalue(res, (int)i, 2), NULL, 10);
    }
    PQclear(res);
    return LT_PG_OK;
}

/* ----------------------------------------------------------------- report */

static const char lt_store_report_sql[] =
    "SELECT c.commune_code, c.name, coalesce(p.last_seq, 0),"
    " to_char(greatest(p.updated_at, h.received_at) AT TIME ZONE 'UTC',"
    "  'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
    " extract(epoch FROM now() - greatest(p.updated_at, h.received_at))::bigint,"
    " (SELECT count(*) FROM lt.seq_gap g WHERE g.commune_code = c.commune_code"
    "   AND g.resolved_at IS NULL),"
    " (SELECT coalesce(sum(g.to_seq - g.from_seq + 1), 0) FROM lt.seq_gap g"
    "   WHERE g.commune_code = c.commune_code AND g.resolved_at IS NULL),"
    " (SELECT count(*) FROM lt.quarantine q WHERE q.commune_code = c.commune_code"
    "   AND q.replayed_at IS NULL),"
    " d.seq, to_char(d.checked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
    " d.equal, array_to_string(d.diverged, ','), cardinality(d.diverged),"
    " extract(epoch FROM h.received_at), " LT_STORE_BACKLOG_NOW ","
    " extract(epoch FROM h.received_at - " LT_STORE_OLDEST_UNSENT_AT "), c.merged_into"
    " FROM lt.commune c LEFT JOIN lt.commune_progress p USING (commune_code)"
    " LEFT JOIN lt.commune_heartbeat h USING (commune_code)"
    " LEFT JOIN LATERAL (SELECT * FROM lt.digest_check x WHERE x.commune_code = c.commune_code"
    "   ORDER BY x.seq DESC LIMIT 1) d ON true"
    " WHERE $1::text IS NULL OR c.commune_code = $1"
    " ORDER BY c.commune_code";

static void lt_store_report_row(lt_store_report_t *r, const PGresult *res, int row)
{
    *r = (lt_store_report_t){
        .code = lt_store_text(res, row, 0),
        .name = lt_store_text(res, row, 1),
        .last_seq = lt_store_int(res, row, 2),
        .last_heard_at = lt_store_text(res, row, 3),
        .last_heard_age_s = PQgetisnull(res, row, 4) ? -1 : lt_store_int(res, row, 4),
        .open_gaps = lt_store_int(res, row, 5),
        .missing_events = lt_store_int(res, row, 6),
        .quarantined = lt_store_int(res, row, 7),
        .digest_seq = PQgetisnull(res, row, 8) ? 0 : lt_store_int(res, row, 8),
        .digest_checked_at = lt_store_text(res, row, 9),
        .digest_equal = PQgetisnull(res, row, 10) ? -1 : PQgetvalue(res, row, 10)[0] == 't',
        .diverged = lt_store_text(res, row, 11),
        .n_diverged = PQgetisnull(res, row, 12) ? 0 : lt_store_int(res, row, 12),
        .heartbeat_at = lt_store_seconds(res, row, 13),
        .backlog_rows = PQgetisnull(res, row, 14) ? -1 : lt_store_int(res, row, 14),
        .oldest_unsent_age_at_heartbeat_s = lt_store_seconds(res, row, 15),
        .merged_into = lt_store_text(res, row, 16),
    };
}

lt_pg_rc_t lt_store_report(PGconn *pg, const char *commune, lt_store_report_t **rows,
                           size_t *n, char *errstr, size_t errstr_size)
{
    const char *params[] = {commune};
    PGresult *res;
    lt_pg_rc_t rc = lt_pg_query(pg, lt_store_report_sql, 1, params, &res, errstr, errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    *n = (size_t)PQntuples(res);
    *rows = calloc(*n ? *n : 1, sizeof(**rows));
    if (!*rows)
        abort();
    for (size_t i = 0; i < *n; i++)
        lt_store_report_row(&(*rows)[i], res, (int)i);
    PQclear(res);
    return LT_PG_OK;
}

void lt_store_report_free(lt_store_report_t *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++) {
        free(rows[i].code);
        free(rows[i].name);
        free(rows[i].last_heard_at);
        free(rows[i].digest_checked_at);
        free(rows[i].diverged);
        free(rows[i].merged_into);
    }
    free(rows);
}

lt_pg_rc_t lt_store_communes(PGconn *pg, char ***codes, size_t *n, char *errstr,
                             size_t errstr_size)
{
    PGresult *res;
    lt_pg_rc_t rc = lt_pg_query(pg, "SELECT commune_code FROM lt.commune WHERE merged_into IS NULL ORDER BY 1", 0, NULL,
                                &res, errstr, errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    *n = (size_t)PQntuples(res);
    *codes = calloc(*n ? *n : 1, sizeof(**codes));
    if (!*codes)
        abort();
    for (size_t i = 0; i < *n; i++)
        (*codes)[i] = lt_store_text(res, (int)i, 0);
    PQclear(res);
    return LT_PG_OK;
}

/* ----------------------------------------------------------------- repair */

lt_pg_rc_t lt_store_repair_targets(PGconn *pg, const char *commune, lt_store_repair_t *t,
                                   char *errstr, size_t errstr_size)
{
    const char *params[] = {commune};
    PGresult *res;
    memset(t, 0, sizeof(*t));
    lt_pg_rc_t rc = lt_pg_query(pg,
                                "SELECT c.control_topic, (SELECT array_to_string(d.diverged, ',')"
                                "  FROM lt.digest_check d WHERE d.commune_code = c.commune_code"
                                "  AND NOT d.equal AND d.seq = (SELECT max(seq) FROM"
                                "  lt.digest_check x WHERE x.commune_code = c.commune_code))"
                                " FROM lt.commune c WHERE c.commune_code = $1",
                                1, params, &res, errstr, errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    if (PQntuples(res) != 1) {
        PQclear(res);
        lt_err(errstr, errstr_size, "commune %s is not registered at this province", commune);
        return LT_PG_FATAL;
    }
    t->control_topic = lt_store_text(res, 0, 0);
    for (const char *p = PQgetisnull(res, 0, 1) ? "" : PQgetvalue(res, 0, 1); *p;) {
        t->buckets[t->n_buckets++] = (uint32_t)strtoul(p, NULL, 10) % 256;
        p = strchr(p, ',');
        p = p ? p + 1 : "";
    }
    PQclear(res);
    rc = lt_pg_query(pg,
                     "SELECT from_seq, to_seq FROM lt.seq_gap WHERE commune_code = $1"
                     " AND resolved_at IS NULL ORDER BY from_seq LIMIT 64",
                     1, params, &res, errstr, errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    for (int row = 0; row < PQntuples(res); row++) {
        t->gaps[t->n_gaps].from = (uint64_t)lt_store_int(res, row, 0);
        t->gaps[t->n_gaps++].to = (uint64_t)lt_store_int(res, row, 1);
    }
    PQclear(res);
    return LT_PG_OK;
}

void lt_store_repair_free(lt_store_repair_t *t)
{
    free(t->control_topic);
    t->control_topic = NULL;
}

lt_pg_rc_t lt_store_resync_record(PGconn *pg, const char *request_id, const char *commune,
                                  const uint32_t *buckets, size_t n_buckets, uint64_t first_seq,
                                  uint64_t last_seq, char *errstr, size_t errstr_size)
{
    lt_buf_t list = {0};
    char first[24], last[24];
    lt_buf_puts(&list, "{");
    for (size_t i = 0; i < n_buckets; i++)
        lt_buf_printf(&list, "%s%u", i ? "," : "", buckets[i]);
    lt_buf_puts(&list, "}");
    snprintf(first, sizeof(first), "%" PRIu64, first_seq);
    snprintf(last, sizeof(last), "%" PRIu64, last_seq);
    const char *params[] = {request_id, commune, lt_buf_cstr(&list), first, last};
    lt_pg_rc_t rc = lt_pg_exec(pg,
                               "INSERT INTO lt.resync (request_id, commune_code, buckets,"
                               " first_seq, last_seq) VALUES ($1, $2, $3::smallint[],"
                               " nullif($4::bigint, 0), nullif($5::bigint, 0))",
                               5, params, errstr, errstr_size);
    lt_buf_free(&list);
    return rc;
}

lt_pg_rc_t lt_store_repair_progress(PGconn *pg, const char *commune, const char *since,
                                    lt_store_repair_progress_t *p, char *errstr,
                                    size_t errstr_size)
{
    const char *params[] = {commune, since};
    PGresult *res;
    lt_pg_rc_t rc = lt_pg_query(pg,
                                "SELECT count(*), count(done_at), coalesce(sum(parts), 0),"
                                " coalesce(sum(events), 0),"
                                " (SELECT count(*) FROM lt.seq_gap g WHERE g.commune_code = $1"
                                "  AND g.resolved_at IS NULL),"
                                " (SELECT d.equal FROM lt.digest_check d WHERE d.commune_code = $1"
                                "  AND d.checked_at > $2::timestamptz ORDER BY d.seq DESC LIMIT 1),"
                                " (SELECT count(*) FROM lt.resync_removed r WHERE"
                                "  r.commune_code = $1 AND r.removed_at > $2::timestamptz)"
                                " FROM lt.resync WHERE commune_code = $1"
                                " AND requested_at >= $2::timestamptz",
                                2, params, &res, errstr, errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    *p = (lt_store_repair_progress_t){.requests = lt_store_int(res, 0, 0),
                                      .done = lt_store_int(res, 0, 1),
                                      .parts = lt_store_int(res, 0, 2),
                                      .states = lt_store_int(res, 0, 3),
                                      .open_gaps = lt_store_int(res, 0, 4),
                                      .digest_equal = PQgetisnull(res, 0, 5)
                                                          ? -1
                                                          : PQgetvalue(res, 0, 5)[0] == 't',
                                      .removed = lt_store_int(res, 0, 6)};
    PQclear(res);
    return LT_PG_OK;
}

lt_pg_rc_t lt_store_now(PGconn *pg, char *out, size_t size, char *errstr, size_t errstr_size)
{
    PGresult *res;
    lt_pg_rc_t rc = lt_pg_query(pg, "SELECT now()::text", 0, NULL, &res, errstr, errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    lt_strlcpy(out, PQgetvalue(res, 0, 0), size);
    PQclear(res);
    return LT_PG_OK;
}

/* ------------------------------------------------------------ quarantine */

#define LT_QUARANTINE_HEADER_COLUMNS                                                   \
    "id, quarantined_at, to_char(quarantined_at, 'YYYY-MM-DD HH24:MI:SS'),"             \
    " commune_code, topic, partition, kafka_offset, reason_code, reason, replayed_at"

/* $1 commune, $2 reason, $3 replayed too, $4 limit, $5 one id (0: any). */
#define LT_QUARANTINE_WHERE                                                            \
    " FROM lt.quarantine WHERE ($1::text IS NULL OR commune_code = $1)"                 \
    " AND ($2::text IS NULL OR reason_code = $2) AND ($3::bool OR replayed_at IS NULL)"  \
    " AND ($5::bigint = 0 OR id = $5) ORDER BY id LIMIT $4"

static const char lt_store_quarantine_sql[] =
    "SELECT " LT_QUARANTINE_HEADER_COLUMNS LT_QUARANTINE_WHERE;

static const char lt_store_quarantine_bytes_sql[] =
    "SELECT " LT_QUARANTINE_HEADER_COLUMNS ", message_key, raw" LT_QUARANTINE_WHERE;

static void lt_store_quarantined_row(lt_quarantined_t *q, const PGresult *res, int row,
                                     lt_quarantine_detail_t detail)
{
    *q = (lt_quarantined_t){.id = lt_store_int(res, row, 0),
                            .quarantined_at = lt_store_text(res, row, 1),
                            .quarantined_at_secs = lt_store_text(res, row, 2),
                            .commune_code = lt_store_text(res, row, 3),
                            .topic = lt_store_text(res, row, 4),
                            .partition = (int32_t)lt_store_int(res, row, 5),
                            .kafka_offset = lt_store_int(res, row, 6),
                            .reason_code = lt_store_text(res, row, 7),
                            .reason = lt_store_text(res, row, 8),
                            .replayed_at = lt_store_text(res, row, 9)};
    if (detail == LT_QUARANTINE_WITH_BYTES) {
        q->message_key = lt_store_bytes(res, row, 10, &q->message_key_len);
        q->raw = lt_store_bytes(res, row, 11, &q->raw_len);
    }
}

lt_pg_rc_t lt_store_quarantine_find(PGconn *pg, const lt_quarantine_filter_t *filter,
                                    int64_t id, lt_quarantine_detail_t detail,
                                    lt_quarantined_t **rows, size_t *n, char *errstr,
                                    size_t errstr_size)
{
    char limit[24], idtext[24];
    const lt_quarantine_filter_t *f = filter;
    snprintf(limit, sizeof(limit), "%ld", f && f->limit > 0 ? f->limit : 1000000L);
    snprintf(idtext, sizeof(idtext), "%" PRId64, id);
    const char *params[] = {f ? f->commune : NULL, f ? f->reason_code : NULL,
                            (f ? f->include_replayed : id != 0) ? "true" : "false", limit,
                            idtext};
    PGresult *res;
    lt_pg_rc_t rc = lt_pg_query(pg,
                                detail == LT_QUARANTINE_WITH_BYTES ? lt_store_quarantine_bytes_sql
                                                                   : lt_store_quarantine_sql,
                                5, params, &res, errstr, errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    *n = (size_t)PQntuples(res);
    *rows = calloc(*n ? *n : 1, sizeof(**rows));
    if (!*rows)
        abort();
    for (size_t i = 0; i < *n; i++)
        lt_store_quarantined_row(&(*rows)[i], res, (int)i, detail);
    PQclear(res);
    return LT_PG_OK;
}

void lt_store_quarantine_free(lt_quarantined_t *rows, size_t n)
{
    for (size_t i = 0; rows && i < n; i++) {
        lt_quarantined_t *q = &rows[i];
        char *texts[] = {q->quarantined_at, q->quarantined_at_secs, q->commune_code, q->topic,
                         q->reason_code,    q->reason,              q->replayed_at};
        for (size_t t = 0; t < sizeof(texts) / sizeof(*texts); t++)
            free(texts[t]);
        PQfreemem(q->message_key);
        PQfreemem(q->raw);
    }
    free(rows);
}
