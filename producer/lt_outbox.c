#include "lt_outbox.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lt_buf.h"
#include "lt_codec.h"
#include "lt_digest.h"
#include "lt_event.h"
#include "lt_json_pb.h"
#include "lt_util.h"
#include "lt_validate.h"

extern const char lt_commune_schema_sql[];

#define LT_ROW_COLUMNS                                                                  \
    "entity_type, entity_id, version, op, "                                             \
    "(extract(epoch FROM occurred_at) * 1000000)::bigint, "                             \
    "(extract(epoch FROM recorded_at) * 1000000)::bigint, payload::text"

lt_pg_rc_t lt_outbox_init_schema(PGconn *conn, const char *commune, char *errstr,
                                 size_t errstr_size)
{
    lt_pg_rc_t rc = lt_pg_exec(conn, lt_commune_schema_sql, 0, NULL, errstr, errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    int needed;
    uint64_t filled;
    rc = lt_outbox_digest_needs_rebuild(conn, &needed, errstr, errstr_size);
    if (rc == LT_PG_OK && needed)
        rc = lt_outbox_digest_rebuild(conn, &filled, errstr, errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    const char *params[] = {commune};
    return lt_pg_exec(conn,
                      "INSERT INTO lt.agent_state (commune_code) VALUES ($1) "
                      "ON CONFLICT DO NOTHING",
                      1, params, errstr, errstr_size);
}

/* Run sql, whose $1 is the commune, and expect the one row it reads from the
 * commune's agent_state (*res, PQclear it); without that row, a hint. */
static lt_pg_rc_t lt_outbox_query_state(PGconn *conn, const char *sql, const char *commune,
                                        PGresult **res, char *errstr, size_t errstr_size)
{
    const char *params[] = {commune};
    lt_pg_rc_t rc = lt_pg_query(conn, sql, 1, params, res, errstr, errstr_size);
    if (rc == LT_PG_OK && PQntuples(*res) != 1) {
        PQclear(*res);
        *res = NULL;
        lt_err(errstr, errstr_size,
               "commune %s has no agent_state row: run `lienthong-agent init` first", commune);
        rc = LT_PG_FATAL;
    }
    return rc;
}

lt_pg_rc_t lt_outbox_load_state(PGconn *conn, const char *commune, lt_outbox_state_t *st,
                                char *errstr, size_t errstr_size)
{
    PGresult *res;
    lt_pg_rc_t rc = lt_outbox_query_state(conn,
                                          "SELECT next_seq, acked_seq, last_batch_hash "
                                          "FROM lt.agent_state WHERE commune_code = $1",
                                          commune, &res, errstr, errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    memset(st, 0, sizeof(*st));
    st->next_seq = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    st->acked_seq = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
    if (!PQgetisnull(res, 0, 2)) {
        size_t len;
        unsigned char *raw = PQunescapeBytea((const unsigned char *)PQgetvalue(res, 0, 2), &len);
        if (raw && len == 32) {
            memcpy(st->last_batch_hash, raw, 32);
            st->has_last_batch_hash = 1;
        }
        PQfreemem(raw);
    }
    PQclear(res);
    return LT_PG_OK;
}

static ProtobufCMessage *lt_outbox_parse_payload(Lienthong__V1__EntityType type,
                                                 const char *json_text, char *errstr,
                                                 size_t errstr_size)
{
    json_error_t jerr;
    json_t *json = json_loads(json_text, JSON_REJECT_DUPLICATES, &jerr);
    if (!json) {
        lt_err(errstr, errstr_size, "payload is not valid JSON: %s", jerr.text);
        return NULL;
    }
    char inner[512];
    ProtobufCMessage *msg = lt_json_to_pb(lt_entity_payload_desc(type), json, inner,
                                          sizeof(inner));
    json_decref(json);
    if (!msg)
        lt_err(errstr, errstr_size, "payload: %s", inner);
    return msg;
}

Lienthong__V1__Event *lt_outbox_make_event(const char *entity_type, const char *entity_id,
                                           uint64_t version, const char *op,
                                           int64_t occurred_at_us, int64_t recorded_at_us,
                                           const char *payload_json, char *errstr,
                                           size_t errstr_size)
{
    Lienthong__V1__Event *ev = malloc(sizeof(*ev));
    lienthong__v1__event__init(ev);
    ev->entity_type = lt_entity_type_parse(entity_type);
    ev->op = lt_op_parse(op);
    ev->entity_id = strdup(entity_id);
    ev->version = version;
    ev->occurred_at_us = occurred_at_us;
    ev->recorded_at_us = recorded_at_us;
    if (ev->entity_type == LIENTHONG__V1__ENTITY_TYPE__ENTITY_TYPE_UNSPECIFIED) {
        lt_err(errstr, errstr_size, "unknown entity_type \"%s\"", entity_type);
        goto fail;
    }
    if (ev->op == LIENTHONG__V1__OP__OP_DELETE)
        return ev;
    ProtobufCMessage *payload = lt_outbox_parse_payload(ev->entity_type, payload_json ? payload_json : "null",
                                                        errstr, errstr_size);
    if (!payload)
        goto fail;
    lt_event_set_payload(ev, payload);
    char check[512];
    /* NFC before hashing: both levels then store and hash the same bytes. */
    if (lt_pb_check(payload, check, sizeof(check)) != LT_DECODE_OK ||
        lt_pb_normalize_text(payload, check, sizeof(check)) != 0) {
        lt_err(errstr, errstr_size, "payload: %s", check);
        goto fail;
    }
    ev->content_hash.data = malloc(LT_SHA256_LEN);
    ev->content_hash.len = LT_SHA256_LEN;
    lt_event_payload_hash(ev, ev->content_hash.data);
    return ev;
fail:
    protobuf_c_message_free_unpacked(&ev->base, NULL);
    return NULL;
}

static Lienthong__V1__Event *lt_outbox_row_event(PGresult *res, int row, int col,
                                                 char *errstr, size_t errstr_size)
{
    return lt_outbox_make_event(
        PQgetvalue(res, row, col), PQgetvalue(res, row, col + 1),
        strtoull(PQgetvalue(res, row, col + 2), NULL, 10), PQgetvalue(res, row, col + 3),
        strtoll(PQgetvalue(res, row, col + 4), NULL, 10),
        strtoll(PQgetvalue(res, row, col + 5), NULL, 10),
        PQgetisnull(res, row, col + 6) ? NULL : PQgetvalue(res, row, col + 6), errstr,
        errstr_size);
}

/* The arrays of one claim, as PostgreSQL array literals. */
typedef struct lt_claim_arrays {
    lt_buf_t ids, seqs;                          /* numbered rows */
    lt_buf_t bad_ids, bad_reasons;               /* refused rows */
    lt_buf_t types, entity_ids, versions, deleted, hashes, state_seqs; /* entity_state */
    lt_buf_t buckets, h[4]; /* each state's digest member (lt_digest.h) */
} lt_claim_arrays_t;

#define LT_CLAIM_ARRAYS(a)                                                              \
    {&(a)->ids,      &(a)->seqs,       &(a)->bad_ids, &(a)->bad_reasons, &(a)->types,   \
     &(a)->entity_ids, &(a)->versions, &(a)->deleted, &(a)->hashes,    &(a)->state_seqs, \
     &(a)->buckets,  &(a)->h[0],       &(a)->h[1],    &(a)->h[2],        &(a)->h[3]}

static void lt_claim_arrays_open(lt_claim_arrays_t *a)
{
    lt_buf_t *all[] = LT_CLAIM_ARRAYS(a);
    for (size_t i = 0; i < sizeof(all) / sizeof(*all); i++) {
        memset(all[i], 0, sizeof(*all[i]));
        lt_buf_puts(all[i], "{");
    }
}

static void lt_claim_arrays_close(lt_claim_arrays_t *a, int free_them)
{
    lt_buf_t *all[] = LT_CLAIM_ARRAYS(a);
    for (size_t i = 0; i < sizeof(all) / sizeof(*all); i++) {
        if (free_them)
            lt_buf_free(all[i]);
        else
            lt_buf_puts(all[i], "}");
    }
}

/* The claim arrays take one element per row, over a dozen numbers each:
 * appended without printf (a few per cent of the agent's CPU in a backlog). */
static void lt_claim_sep(lt_buf_t *b, int first)
{
    if (!first)
        lt_buf_append(b, ",", 1);
}

static void lt_claim_add_good(lt_claim_arrays_t *a, const char *id, uint64_t seq,
                              const Lienthong__V1__Event *ev, int first)
{
    lt_buf_t *all[] = LT_CLAIM_ARRAYS(a);
    for (size_t i = 0; i < sizeof(all) / sizeof(*all); i++)
        if (all[i] != &a->bad_ids && all[i] != &a->bad_reasons)
            lt_claim_sep(all[i], first);
    int deleted = ev->op == LIENTHONG__V1__OP__OP_DELETE;
    lt_buf_puts(&a->ids, id);
    lt_buf_u64(&a->seqs, seq);
    lt_buf_array_str(&a->types, lt_entity_type_name(ev->entity_type));
    lt_buf_array_str(&a->entity_ids, ev->entity_id);
    lt_buf_u64(&a->versions, ev->version);
    lt_buf_puts(&a->deleted, deleted ? "t" : "f");
    lt_buf_puts(&a->hashes, "\"");
    lt_buf_hex(&a->hashes, ev->content_hash.data, ev->content_hash.len);
    lt_buf_puts(&a->hashes, "\"");
    lt_buf_u64(&a->state_seqs, seq);
    lt_digest_member_t m;
    lt_digest_member(lt_entity_type_name(ev->entity_type), ev->entity_id, ev->version, deleted,
                     ev->content_hash.data, ev->content_hash.len, &m);
    lt_buf_u64(&a->buckets, m.bucket);
    for (int w = 0; w < 4; w++)
        lt_buf_i64(&a->h[w], m.h[w]);
}

static void lt_claim_add_bad(lt_claim_arrays_t *a, const char *id, const char *reason,
                             int first)
{
    lt_claim_sep(&a->bad_ids, first);
    lt_buf_puts(&a->bad_ids, id);
    lt_claim_sep(&a->bad_reasons, first);
    lt_buf_array_str(&a->bad_reasons, reason);
}

/* The entity states a claim changes, and the digest with them, in one
 * statement: every part of it sees the table as it was before. `uo` holds
 * each claimed state with the one it replaces (a primary-key probe per row:
 * a join the planner may run once per claimed row instead costs seconds),
 * `ch` those that are newer, whose members join the digest as the replaced
 * ones leave it (lt_digest.h). The agent is the table's only writer, so the
 * upsert changes exactly `ch`; the two counts returned prove it. */
static const char lt_claim_state_sql[] =
    "WITH u AS (SELECT DISTINCT ON (t, i) t, i, v, d, decode(h, 'hex') AS h, q, b,"
    "  m0, m1, m2, m3"
    " FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bool[], $5::text[], $6::bigint[],"
    "  $7::smallint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[])"
    "  AS u(t, i, v, d, h, q, b, m0, m1, m2, m3)"
    " ORDER BY t, i, v DESC),"
    " uo AS MATERIALIZED (SELECT u.*, s.version AS ov, s.h0 AS o0, s.h1 AS o1, s.h2 AS o2,"
    "  s.h3 AS o3 FROM u LEFT JOIN LATERAL (SELECT version, h0, h1, h2, h3"
    "  FROM lt.entity_state s WHERE s.entity_type = u.t AND s.entity_id = u.i) s ON true),"
    " ch AS MATERIALIZED (SELECT * FROM uo WHERE ov IS NULL OR ov < v),"
    " up AS (INSERT INTO lt.entity_state AS s (entity_type, entity_id, version, deleted,"
    "  content_hash, seq, bucket, h0, h1, h2, h3)"
    "  SELECT t, i, v, d, h, q, b, m0, m1, m2, m3 FROM ch"
    "  ON CONFLICT (entity_type, entity_id) DO UPDATE SET"
    "  version = EXCLUDED.version, deleted = EXCLUDED.deleted,"
    "  content_hash = EXCLUDED.content_hash, seq = EXCLUDED.seq, bucket = EXCLUDED.bucket,"
    "  h0 = EXCLUDED.h0, h1 = EXCLUDED.h1, h2 = EXCLUDED.h2, h3 = EXCLUDED.h3"
    "  WHERE s.version < EXCLUDED.version RETURNING 1),"
    " dg AS (INSERT INTO lt.digest_bucket AS g (bucket, count, h0, h1, h2, h3)"
    "  SELECT b, count(*) FILTER (WHERE ov IS NULL), bit_xor(m0 # coalesce(o0, 0)),"
    "  bit_xor(m1 # coalesce(o1, 0)), bit_xor(m2 # coalesce(o2, 0)),"
    "  bit_xor(m3 # coalesce(o3, 0))"
    "  FROM ch GROUP BY b"
    "  ON CONFLICT (bucket) DO UPDATE SET count = g.count + EXCLUDED.count,"
    "  h0 = g.h0 # EXCLUDED.h0, h1 = g.h1 # EXCLUDED.h1, h2 = g.h2 # EXCLUDED.h2,"
    "  h3 = g.h3 # EXCLUDED.h3 RETURNING 1)"
    " SELECT (SELECT count(*) FROM up), (SELECT count(*) FROM ch), (SELECT count(*) FROM dg)";

/* The claim's states and digest (lt_claim_state_sql). Should another writer
 * have changed a state since the statement's snapshot, the digest would be
 * wrong: the claim is rolled back and tried again. */
static lt_pg_rc_t lt_claim_write_states(PGconn *conn, lt_claim_arrays_t *a, char *errstr,
                                        size_t errstr_size)
{
    const char *state[] = {lt_buf_cstr(&a->types),    lt_buf_cstr(&a->entity_ids),
                           lt_buf_cstr(&a->versions), lt_buf_cstr(&a->deleted),
                           lt_buf_cstr(&a->hashes),   lt_buf_cstr(&a->state_seqs),
                           lt_buf_cstr(&a->buckets),  lt_buf_cstr(&a->h[0]),
                           lt_buf_cstr(&a->h[1]),     lt_buf_cstr(&a->h[2]),
                           lt_buf_cstr(&a->h[3])};
    PGresult *res;
    lt_pg_rc_t rc = lt_pg_query(conn, lt_claim_state_sql, 11, state, &res, errstr, errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    if (strcmp(PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1)) != 0) {
        lt_err(errstr, errstr_size,
               "lt.entity_state changed during the claim (%s of %s states written; is a "
               "second agent running for this commune?); the claim is tried again",
               PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
        rc = LT_PG_RETRY;
    }
    PQclear(res);
    return rc;
}

static lt_pg_rc_t lt_claim_write(PGconn *conn, const char *commune, lt_claim_arrays_t *a,
                                 uint64_t next_seq, char *errstr, size_t errstr_size)
{
    const char *numbered[] = {lt_buf_cstr(&a->ids), lt_buf_cstr(&a->seqs)};
    lt_pg_rc_t rc = lt_pg_exec(conn,
                               "UPDATE lt.outbox o SET seq = v.seq "
                               "FROM unnest($1::bigint[], $2::bigint[]) AS v(id, seq) "
                               "WHERE o.id = v.id",
                               2, numbered, errstr, errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    const char *refused[] = {lt_buf_cstr(&a->bad_ids), lt_buf_cstr(&a->bad_reasons)};
    rc = lt_pg_exec(conn,
                    "UPDATE lt.outbox o SET rejected_at = now(), reject_reason = v.reason "
                    "FROM unnest($1::bigint[], $2::text[]) AS v(id, reason) WHERE o.id = v.id",
                    2, refused, errstr, errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    /* Newest version wins; within one claim the same entity may appear twice. */
    rc = lt_claim_write_states(conn, a, errstr, errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    char next[24];
    snprintf(next, sizeof(next), "%" PRIu64, next_seq);
    const char *params[] = {next, commune};
    return lt_pg_exec(conn,
                      "UPDATE lt.agent_state SET next_seq = $1, updated_at = now() "
                      "WHERE commune_code = $2",
                      2, params, errstr, errstr_size);
}

/* NULL if ev passes the rules and fits a Kafka message, else the reason (in buf). */
static const char *lt_claim_rule_failure(const lt_claim_rules_t *rules, const char *id,
                                         const Lienthong__V1__Event *ev, char *buf, size_t size)
{
    lt_validate_result_t r;
    size_t bytes = lt_batch_event_bytes(ev);
    if (rules->max_event_bytes && bytes > rules->max_event_bytes) {
        snprintf(buf, size,
                 "too_large: outbox id %s: the event is %zu bytes, a Kafka message of this "
                 "commune holds at most %zu bytes of events",
                 id, bytes, rules->max_event_bytes);
        return buf;
    }
    if (!rules->vctx || lt_validate_event(rules->vctx, ev, &r) == LT_RULE_OK)
        return NULL;
    snprintf(buf, size, "%s: %s", lt_rule_code_name(r.code), r.text);
    return buf;
}

/* Sort the rows into numbered and refused; the numbered events are kept in
 * kept[0..*claimed) (seq set) when kept is not NULL, else freed. */
static void lt_claim_sort_rows(PGresult *res, const lt_claim_rules_t *rules,
                               lt_claim_arrays_t *a, uint64_t *next_seq, int *claimed,
                               int *rejected, Lienthong__V1__Event **kept)
{
    for (int row = 0; row < PQntuples(res); row++) {
        char reason[768];
        Lienthong__V1__Event *ev = lt_outbox_row_event(res, row, 1, reason, sizeof(reason));
        const char *id = PQgetvalue(res, row, 0);
        if (ev && lt_claim_rule_failure(rules, id, ev, reason, sizeof(reason))) {
            protobuf_c_message_free_unpacked(&ev->base, NULL);
            ev = NULL;
        }
        if (ev) {
            ev->seq = *next_seq;
            lt_claim_add_good(a, id, (*next_seq)++, ev, *claimed == 0);
            if (kept)
                kept[*claimed] = ev;
            else
                protobuf_c_message_free_unpacked(&ev->base, NULL);
            (*claimed)++;
        } else {
            lt_claim_add_bad(a, id, reason, *rejected == 0);
            (*rejected)++;
        }
    }
}

lt_pg_rc_t lt_outbox_claim(PGconn *conn, const char *commune, const lt_claim_rules_t *rules,
                           lt_outbox_state_t *st, int limit, int *claimed, int *rejected,
                           Lienthong__V1__Event ***events, char *errstr, size_t errstr_size)
{
    char limit_text[16];
    snprintf(limit_text, sizeof(limit_text), "%d", limit);
    const char *params[] = {limit_text};
    PGresult *res = NULL;
    lt_claim_arrays_t arrays;
    uint64_t next_seq = st->next_seq;
    Lienthong__V1__Event **kept = NULL;
    *claimed = *rejected = 0;
    if (events)
        *events = NULL;
    lt_pg_rc_t rc = lt_pg_exec(conn, "BEGIN", 0, NULL, errstr, errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    /* Only committed rows are visible, and only rows without a sequence are
     * taken: a row that commits after a higher id is numbered later, never lost. */
    rc = lt_pg_query(conn,
                     "SELECT id, " LT_ROW_COLUMNS " FROM lt.outbox "
                     "WHERE seq IS NULL AND rejected_at IS NULL ORDER BY id LIMIT $1 "
                     "FOR UPDATE",
                     1, params, &res, errstr, errstr_size);
    if (rc != LT_PG_OK || PQntuples(res) == 0)
        goto done;
    if (events && !(kept = calloc((size_t)PQntuples(res) + 1, sizeof(*kept))))
        abort();
    lt_claim_arrays_open(&arrays);
    lt_claim_sort_rows(res, rules, &arrays, &next_seq, claimed, rejected, kept);
    lt_claim_arrays_close(&arrays, 0);
    rc = lt_claim_write(conn, commune, &arrays, next_seq, errstr, errstr_size);
    lt_claim_arrays_close(&arrays, 1);
done:
    PQclear(res);
    if (rc == LT_PG_OK)
        rc = lt_pg_exec(conn, "COMMIT", 0, NULL, errstr, errstr_size);
    else
        lt_pg_exec(conn, "ROLLBACK", 0, NULL, NULL, 0);
    if (rc == LT_PG_OK) {
        st->next_seq = next_seq;
        if (events)
            *events = kept;
        else
            lt_outbox_events_free(kept, (size_t)*claimed);
    } else {
        lt_outbox_events_free(kept, (size_t)*claimed);
        *claimed = *rejected = 0;
    }
    return rc;
}

lt_pg_rc_t lt_outbox_read(PGconn *conn, uint64_t from_seq, int limit,
                          Lienthong__V1__Event ***events, size_t *count, char *errstr,
                          size_t errstr_size)
{
    char from[24], lim[16];
    snprintf(from, sizeof(from), "%" PRIu64, from_seq);
    snprintf(lim, sizeof(lim), "%d", limit);
    const char *params[] = {from, lim};
    PGresult *res;
    *events = NULL;
    *count = 0;
    lt_pg_rc_t rc = lt_pg_query(conn,
                                "SELECT seq, " LT_ROW_COLUMNS " FROM lt.outbox "
                                "WHERE seq >= $1 ORDER BY seq LIMIT $2",
                                2, params, &res, errstr, errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    int n = PQntuples(res);
    Lienthong__V1__Event **out = calloc((size_t)n + 1, sizeof(*out));
    for (int row = 0; row < n; row++) {
        char reason[512];
        uint64_t seq = strtoull(PQgetvalue(res, row, 0), NULL, 10);
        /* Rows were valid when claimed; failing now means the row was edited. */
        out[row] = lt_outbox_row_event(res, row, 1, reason, sizeof(reason));
        if (!out[row] || seq != from_seq + (uint64_t)row) {
            lt_err(errstr, errstr_size, "outbox row seq=%" PRIu64 " %s", seq,
                   out[row] ? "breaks the sequence (was seq edited?)" : reason);
            lt_outbox_events_free(out, (size_t)row + 1);
            PQclear(res);
            return LT_PG_FATAL;
        }
        out[row]->seq = seq;
    }
    PQclear(res);
    *events = out;
    *count = (size_t)n;
    return LT_PG_OK;
}

void lt_outbox_events_free(Lienthong__V1__Event **events, size_t count)
{
    if (!events)
        return;
    for (size_t i = 0; i < count; i++)
        if (events[i])
            protobuf_c_message_free_unpacked(&events[i]->base, NULL);
    free(events);
}

/* One statement, so the two updates commit together without BEGIN. */
static const char lt_mark_sent_sql[] =
    "WITH sent AS (UPDATE lt.outbox SET sent_at = now() "
    "  WHERE seq BETWEEN $1 AND $2 AND sent_at IS NULL) "
    "UPDATE lt.agent_state SET acked_seq = GREATEST(acked_seq, $2::bigint), "
    "last_batch_hash = decode($3, 'hex'), updated_at = now() "
    "WHERE commune_code = $4";

lt_pg_rc_t lt_outbox_mark_sent_begin(PGconn *conn, const char *commune, uint64_t first_seq,
                                     uint64_t last_seq, const uint8_t hash[32], char *errstr,
                                     size_t errstr_size)
{
    char first[24], last[24], hex[65];
    snprintf(first, sizeof(first), "%" PRIu64, first_seq);
    snprintf(last, sizeof(last), "%" PRIu64, last_seq);
    lt_hex(hash, 32, hex);
    const char *params[] = {first, last, hex, commune};
    if (!PQsendQueryParams(conn, lt_mark_sent_sql, 4, NULL, params, NULL, NULL, 0))
        return lt_pg_report(conn, NULL, lt_mark_sent_sql, errstr, errstr_size);
    return LT_PG_OK;
}

lt_pg_rc_t lt_outbox_mark_sent_end(PGconn *conn, int wait, int *done, char *errstr,
                                   size_t errstr_size)
{
    *done = 0;
    if (!wait && PQconsumeInput(conn) && PQisBusy(conn))
        return LT_PG_OK;
    /* The first result tells; a lost connection gives none (LT_PG_RETRY). */
    PGresult *res, *first = NULL;
    while ((res = PQgetResult(conn)) != NULL) {
        if (!first)
            first = res;
        else
            PQclear(res);
    }
    lt_pg_rc_t rc = lt_pg_report(conn, first, lt_mark_sent_sql, errstr, errstr_size);
    PQclear(first);
    *done = 1;
    return rc;
}

lt_pg_rc_t lt_outbox_first_unsent(PGconn *conn, const lt_outbox_state_t *st, uint64_t *seq,
                                  char *errstr, size_t errstr_size)
{
    return lt_pg_query_u64(conn,
                           "SELECT min(seq) FROM lt.outbox WHERE seq IS NOT NULL AND sent_at IS NULL",
                           0, NULL, st->next_seq, seq, errstr, errstr_size);
}

/* Members of states written before the digest existed (or by hand). */
static lt_pg_rc_t lt_outbox_digest_fill(PGconn *conn, uint64_t *filled, char *errstr,
                                        size_t errstr_size)
{
    PGresult *res;
    lt_pg_rc_t rc = lt_pg_query(conn,
                                "SELECT entity_type, entity_id, version, deleted, content_hash"
                                " FROM lt.entity_state WHERE bucket IS NULL",
                                0, NULL, &res, errstr, errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    *filled = (uint64_t)PQntuples(res);
    for (int row = 0; rc == LT_PG_OK && row < PQntuples(res); row++) {
        size_t len = 0;
        unsigned char *hash =
            PQunescapeBytea((const unsigned char *)PQgetvalue(res, row, 4), &len);
        lt_digest_member_t m;
        lt_digest_member(PQgetvalue(res, row, 0), PQgetvalue(res, row, 1),
                         strtoull(PQgetvalue(res, row, 2), NULL, 10),
                         PQgetvalue(res, row, 3)[0] == 't', hash, hash ? len : 0, &m);
        PQfreemem(hash);
        char b[8], h[4][24];
        snprintf(b, sizeof(b), "%u", m.bucket);
        for (int w = 0; w < 4; w++)
            snprintf(h[w], sizeof(h[w]), "%" PRId64, m.h[w]);
        const char *params[] = {b, h[0], h[1], h[2], h[3], PQgetvalue(res, row, 0),
                                PQgetvalue(res, row, 1)};
        rc = lt_pg_exec(conn,
                        "UPDATE lt.entity_state SET bucket = $1, h0 = $2, h1 = $3, h2 = $4,"
                        " h3 = $5 WHERE entity_type = $6 AND entity_id = $7",
                        7, params, errstr, errstr_size);
    }
    PQclear(res);
    return rc;
}

lt_pg_rc_t lt_outbox_digest_rebuild(PGconn *conn, uint64_t *filled, char *errstr,
                                    size_t errstr_size)
{
    lt_pg_rc_t rc = lt_pg_exec(conn, "BEGIN; LOCK TABLE lt.entity_state IN EXCLUSIVE MODE", 0,
                               NULL, errstr, errstr_size);
    if (rc == LT_PG_OK)
        rc = lt_outbox_digest_fill(conn, filled, errstr, errstr_size);
    if (rc == LT_PG_OK)
        rc = lt_pg_exec(conn,
                        "DELETE FROM lt.digest_bucket;"
                        " INSERT INTO lt.digest_bucket (bucket, count, h0, h1, h2, h3)"
                        " SELECT bucket, count(*), bit_xor(h0), bit_xor(h1), bit_xor(h2),"
                        " bit_xor(h3) FROM lt.entity_state GROUP BY bucket; COMMIT",
                        0, NULL, errstr, errstr_size);
    if (rc != LT_PG_OK)
        lt_pg_exec(conn, "ROLLBACK", 0, NULL, NULL, 0);
    return rc;
}

lt_pg_rc_t lt_outbox_digest_check(PGconn *conn, uint64_t *differing, char *errstr,
                                  size_t errstr_size)
{
    lt_pg_rc_t rc = lt_pg_query_u64(conn,
                                    "WITH r AS (SELECT bucket, count(*) AS count, bit_xor(h0) AS h0,"
                                    " bit_xor(h1) AS h1, bit_xor(h2) AS h2, bit_xor(h3) AS h3"
                                    " FROM lt.entity_state GROUP BY bucket)"
                                    " SELECT count(*) FROM r FULL JOIN lt.digest_bucket g USING (bucket)"
                                    " WHERE (r.count, r.h0, r.h1, r.h2, r.h3) IS DISTINCT FROM"
                                    " (g.count, g.h0, g.h1, g.h2, g.h3)"
                                    " AND coalesce(r.count, g.count, 0) + coalesce(g.count, 0) > 0",
                                    0, NULL, 0, differing, errstr, errstr_size);
    if (rc != LT_PG_OK || !*differing)
        return rc;
    uint64_t filled;
    return lt_outbox_digest_rebuild(conn, &filled, errstr, errstr_size);
}

lt_pg_rc_t lt_outbox_digest_needs_rebuild(PGconn *conn, int *needed, char *errstr,
                                          size_t errstr_size)
{
    uint64_t missing;
    lt_pg_rc_t rc = lt_pg_query_u64(conn,
                                    "SELECT count(*) FROM (SELECT 1 FROM lt.entity_state"
                                    " WHERE bucket IS NULL LIMIT 1) x",
                                    0, NULL, 0, &missing, errstr, errstr_size);
    *needed = rc == LT_PG_OK && missing > 0;
    return rc;
}

lt_pg_rc_t lt_outbox_digest_read(PGconn *conn, lt_digest_t *d, char *errstr,
                                 size_t errstr_size)
{
    PGresult *res;
    lt_pg_rc_t rc = lt_pg_query(conn, "SELECT bucket, count, h0, h1, h2, h3 FROM lt.digest_bucket",
                                0, NULL, &res, errstr, errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    memset(d, 0, sizeof(*d));
    for (int row = 0; row < PQntuples(res); row++) {
        unsigned bucket = (unsigned)atoi(PQgetvalue(res, row, 0)) % LT_DIGEST_BUCKETS;
        d->b[bucket].count = strtoll(PQgetvalue(res, row, 1), NULL, 10);
        for (int w = 0; w < 4; w++)
            d->b[bucket].h[w] = strtoll(PQgetvalue(res, row, 2 + w), NULL, 10);
    }
    PQclear(res);
    return LT_PG_OK;
}

lt_pg_rc_t lt_outbox_listen(PGconn *conn, int *has_trigger, char *errstr, size_t errstr_size)
{
    uint64_t n = 0;
    lt_pg_rc_t rc = lt_pg_exec(conn, "LISTEN lt_outbox", 0, NULL, errstr, errstr_size);
    if (rc == LT_PG_OK)
        rc = lt_pg_query_u64(conn,
                             "SELECT count(*) FROM pg_trigger "
                             "WHERE tgrelid = 'lt.outbox'::regclass AND tgname = 'outbox_notify'",
                             0, NULL, 0, &n, errstr, errstr_size);
    *has_trigger = n > 0;
    return rc;
}

int lt_outbox_notified(PGconn *conn)
{
    if (!PQconsumeInput(conn))
        return 1;
    int got = 0;
    PGnotify *n;
    while ((n = PQnotifies(conn)) != NULL) {
        got = 1;
        PQfreemem(n);
    }
    return got;
}

void lt_outbox_analyze(PGconn *conn)
{
    lt_pg_exec(conn, "ANALYZE lt.outbox", 0, NULL, NULL, 0);
}

lt_pg_rc_t lt_outbox_pending(PGconn *conn, uint64_t *pending, char *errstr,
                             size_t errstr_size)
{
    return lt_pg_query_u64(conn,
                           "SELECT count(*) FROM lt.outbox WHERE sent_at IS NULL AND rejected_at IS NULL",
                           0, NULL, 0, pending, errstr, errstr_size);
}

/* PostgreSQL takes at most 65,535 parameters a statement: 6 a row. */
#define LT_INSERT_CHUNK_ROWS 10000

/* "($1,$2,...,$6::jsonb),(...)": one row of placeholders per row, in order. */
static void lt_insert_values(lt_buf_t *sql, size_t n)
{
    for (size_t i = 0, p = 1; i < n; i++, p += 6)
        lt_buf_printf(sql,
                      "%s($%zu,$%zu,$%zu::bigint,$%zu,"
                      "'epoch'::timestamptz + $%zu::bigint * interval '1 microsecond',"
                      "$%zu::jsonb)",
                      i ? "," : "", p, p + 1, p + 2, p + 3, p + 4, p + 5);
}

/* A row's numbers as parameter text. */
typedef struct lt_insert_numbers {
    char version[24], occurred_at_us[24];
} lt_insert_numbers_t;

/* One INSERT of n <= LT_INSERT_CHUNK_ROWS rows. With inserted, rows present
 * already are skipped and *inserted counts the others. */
static lt_pg_rc_t lt_insert_chunk(PGconn *conn, const lt_outbox_row_t *rows, size_t n,
                                  uint64_t *inserted, char *errstr, size_t errstr_size)
{
    lt_buf_t sql = {0};
    const char **params = calloc(n * 6, sizeof(*params));
    lt_insert_numbers_t *numbers = calloc(n, sizeof(*numbers));
    lt_pg_rc_t rc = LT_PG_FATAL;
    if (!params || !numbers) {
        lt_err(errstr, errstr_size, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        lt_insert_numbers_t *num = &numbers[i];
        snprintf(num->version, sizeof(num->version), "%" PRIu64, rows[i].version);
        snprintf(num->occurred_at_us, sizeof(num->occurred_at_us), "%" PRId64,
                 rows[i].occurred_at_us);
        const char *row[6] = {rows[i].entity_type, rows[i].entity_id, num->version,
                              rows[i].op, num->occurred_at_us, rows[i].payload_json};
        memcpy(&params[i * 6], row, sizeof(row));
    }
    lt_buf_puts(&sql, "INSERT INTO lt.outbox (entity_type, entity_id, version, op, "
                      "occurred_at, payload) VALUES ");
    lt_insert_values(&sql, n);
    if (!inserted) {
        rc = lt_pg_exec(conn, lt_buf_cstr(&sql), (int)n * 6, params, errstr, errstr_size);
        goto done;
    }
    /* A version names one change: a re-run import adds only what is new. */
    lt_buf_t counted = {0};
    lt_buf_puts(&counted, "WITH ins AS (");
    lt_buf_append(&counted, sql.data, sql.len);
    lt_buf_puts(&counted, " ON CONFLICT (entity_type, entity_id, version) DO NOTHING"
                          " RETURNING 1) SELECT count(*) FROM ins");
    uint64_t added = 0;
    rc = lt_pg_query_u64(conn, lt_buf_cstr(&counted), (int)n * 6, params, 0, &added, errstr,
                         errstr_size);
    lt_buf_free(&counted);
    *inserted += added;
done:
    lt_buf_free(&sql);
    free(params);
    free(numbers);
    return rc;
}

lt_pg_rc_t lt_outbox_insert_rows(PGconn *conn, const lt_outbox_row_t *rows, size_t n,
                                 char *errstr, size_t errstr_size)
{
    lt_pg_rc_t rc = LT_PG_OK;
    for (size_t done = 0; rc == LT_PG_OK && done < n; done += LT_INSERT_CHUNK_ROWS) {
        size_t chunk = n - done < LT_INSERT_CHUNK_ROWS ? n - done : LT_INSERT_CHUNK_ROWS;
        rc = lt_insert_chunk(conn, rows + done, chunk, NULL, errstr, errstr_size);
    }
    return rc;
}

lt_pg_rc_t lt_outbox_import_rows(PGconn *conn, const lt_outbox_row_t *rows, size_t n,
                                 uint64_t *inserted, char *errstr, size_t errstr_size)
{
    lt_pg_rc_t rc = LT_PG_OK;
    *inserted = 0;
    for (size_t done = 0; rc == LT_PG_OK && done < n; done += LT_INSERT_CHUNK_ROWS) {
        size_t chunk = n - done < LT_INSERT_CHUNK_ROWS ? n - done : LT_INSERT_CHUNK_ROWS;
        rc = lt_insert_chunk(conn, rows + done, chunk, inserted, errstr, errstr_size);
    }
    return rc;
}

/* Each count is its own subquery, so each scans one index: outbox_unsent, the
 * partial index of numbered unsent rows; outbox_unassigned, that of rows
 * waiting for a sequence; the unique index on seq for the rows without one.
 * A row is refused before it is numbered, so the refused rows are those
 * without a seq less those waiting for one. The cost grows with the backlog
 * and the refused rows, not with the outbox. The oldest unsent row is the
 * one first in line: the lowest unsent seq, else the lowest unnumbered id. */
static const char lt_outbox_status_sql[] =
    "SELECT a.next_seq, a.acked_seq,"
    " (SELECT count(*) FROM lt.outbox WHERE seq IS NOT NULL AND sent_at IS NULL),"
    " (SELECT count(*) FROM lt.outbox WHERE seq IS NULL AND rejected_at IS NULL),"
    " (SELECT count(*) FROM lt.outbox WHERE seq IS NULL),"
    " extract(epoch FROM clock_timestamp() - least("
    "   (SELECT recorded_at FROM lt.outbox WHERE seq IS NOT NULL AND sent_at IS NULL"
    "    ORDER BY seq LIMIT 1),"
    "   (SELECT recorded_at FROM lt.outbox WHERE seq IS NULL AND rejected_at IS NULL"
    "    ORDER BY id LIMIT 1))),"
    " to_char(s.sent_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
    " extract(epoch FROM clock_timestamp() - s.sent_at)"
    " FROM lt.agent_state a LEFT JOIN lt.outbox s ON s.seq = a.acked_seq"
    " WHERE a.commune_code = $1";

/* The newest refused rows, through the unique index on seq (their seq is NULL). */
static const char lt_outbox_refused_sql[] =
    "SELECT id, entity_type, entity_id, version, left(reject_reason, 200) FROM lt.outbox"
    " WHERE seq IS NULL AND rejected_at IS NOT NULL ORDER BY id DESC LIMIT $1";

static lt_pg_rc_t lt_outbox_refused_latest(PGconn *conn, lt_outbox_status_t *st, char *errstr,
                                           size_t errstr_size)
{
    char limit[8];
    snprintf(limit, sizeof(limit), "%d", LT_OUTBOX_REFUSED_SHOWN);
    const char *params[] = {limit};
    PGresult *res = NULL;
    lt_pg_rc_t rc = lt_pg_query(conn, lt_outbox_refused_sql, 1, params, &res, errstr, errstr_size);
    for (int row = 0; rc == LT_PG_OK && row < PQntuples(res); row++) {
        lt_outbox_refused_t *r = &st->refused_latest[st->n_refused_latest++];
        r->id = strtoll(PQgetvalue(res, row, 0), NULL, 10);
        lt_strlcpy(r->entity_type, PQgetvalue(res, row, 1), sizeof(r->entity_type));
        lt_strlcpy(r->entity_id, PQgetvalue(res, row, 2), sizeof(r->entity_id));
        r->version = strtoull(PQgetvalue(res, row, 3), NULL, 10);
        lt_strlcpy(r->reason, PQgetvalue(res, row, 4), sizeof(r->reason));
    }
    if (rc == LT_PG_OK)
        PQclear(res);
    return rc;
}

lt_pg_rc_t lt_outbox_status(PGconn *conn, const char *commune, lt_outbox_status_t *st,
                            char *errstr, size_t errstr_size)
{
    PGresult *res;
    lt_pg_rc_t rc = lt_outbox_query_state(conn, lt_outbox_status_sql, commune, &res, errstr,
                                          errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    memset(st, 0, sizeof(*st));
    st->next_seq = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    st->acked_seq = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
    st->numbered_unsent = strtoull(PQgetvalue(res, 0, 2), NULL, 10);
    st->unnumbered = strtoull(PQgetvalue(res, 0, 3), NULL, 10);
    uint64_t without_seq = strtoull(PQgetvalue(res, 0, 4), NULL, 10);
    st->refused = without_seq > st->unnumbered ? without_seq - st->unnumbered : 0;
    st->oldest_unsent_age_s = PQgetisnull(res, 0, 5) ? -1 : strtod(PQgetvalue(res, 0, 5), NULL);
    if (!PQgetisnull(res, 0, 6))
        lt_strlcpy(st->last_sent_at, PQgetvalue(res, 0, 6), sizeof(st->last_sent_at));
    st->last_sent_age_s = PQgetisnull(res, 0, 7) ? -1 : strtod(PQgetvalue(res, 0, 7), NULL);
    PQclear(res);
    return st->refused ? lt_outbox_refused_latest(conn, st, errstr, errstr_size) : LT_PG_OK;
}

/* ---------------------------------------------------------------- resync */

lt_pg_rc_t lt_outbox_control_offset(PGconn *conn, const char *commune, int64_t *offset,
                                    char *errstr, size_t errstr_size)
{
    const char *params[] = {commune};
    uint64_t value;
    lt_pg_rc_t rc = lt_pg_query_u64(conn,
                                    "SELECT control_offset FROM lt.agent_state"
                                    " WHERE commune_code = $1",
                                    1, params, 0, &value, errstr, errstr_size);
    *offset = (int64_t)value;
    return rc;
}

/* "{3,17,200}" from buckets, or every bucket when n == 0 and all. */
static void lt_outbox_bucket_array(lt_buf_t *b, const uint32_t *buckets, size_t n, int all)
{
    lt_buf_puts(b, "{");
    size_t count = all ? LT_DIGEST_BUCKETS : n;
    for (size_t i = 0; i < count; i++)
        lt_buf_printf(b, "%s%u", i ? "," : "", all ? (unsigned)i : buckets[i]);
    lt_buf_puts(b, "}");
}

lt_pg_rc_t lt_outbox_resync_accept(PGconn *conn, const char *commune,
                                   const lt_resync_request_t *req, int64_t next_offset,
                                   char *errstr, size_t errstr_size)
{
    lt_buf_t buckets = {0};
    char first[24], last[24], offset[24];
    lt_outbox_bucket_array(&buckets, req->buckets, req->n_buckets, req->all_buckets);
    snprintf(first, sizeof(first), "%" PRIu64, req->first_seq);
    snprintf(last, sizeof(last), "%" PRIu64, req->last_seq);
    snprintf(offset, sizeof(offset), "%" PRId64, next_offset);
    const char *params[] = {req->request_id, lt_buf_cstr(&buckets), first, last, offset,
                            commune, req->entities_json};
    /* One statement: the request is recorded exactly when the offset moves. */
    lt_pg_rc_t rc = lt_pg_exec(conn,
                               "WITH r AS (INSERT INTO lt.resync_request"
                               " (request_id, buckets, first_seq, last_seq, entities)"
                               " VALUES ($1, $2::smallint[], nullif($3::bigint, 0),"
                               " nullif($4::bigint, 0), $7::jsonb) ON CONFLICT DO NOTHING)"
                               " UPDATE lt.agent_state SET control_offset = $5"
                               " WHERE commune_code = $6",
                               7, params, errstr, errstr_size);
    lt_buf_free(&buckets);
    return rc;
}

lt_pg_rc_t lt_outbox_confirm(PGconn *conn, const char *commune, uint64_t seq,
                             int64_t next_offset, char *errstr, size_t errstr_size)
{
    char confirmed[24], offset[24];
    snprintf(confirmed, sizeof(confirmed), "%" PRIu64, seq);
    snprintf(offset, sizeof(offset), "%" PRId64, next_offset);
    const char *params[] = {confirmed, offset, commune};
    /* Never beyond what Kafka acknowledged: a confirmation is only taken for
     * what this commune sent. */
    return lt_pg_exec(conn,
                      "UPDATE lt.agent_state SET confirmed_seq = greatest(confirmed_seq,"
                      " least($1::bigint, acked_seq)), control_offset = $2"
                      " WHERE commune_code = $3",
                      3, params, errstr, errstr_size);
}

lt_pg_rc_t lt_outbox_purge(PGconn *conn, const char *commune, long older_than_s, int limit,
                           uint64_t *purged, char *errstr, size_t errstr_size)
{
    char age[24], max[24];
    snprintf(age, sizeof(age), "%ld", older_than_s);
    snprintf(max, sizeof(max), "%d", limit);
    const char *params[] = {commune, age, max};
    return lt_pg_query_u64(conn,
                           "WITH gone AS (DELETE FROM lt.outbox WHERE id IN ("
                           "  SELECT o.id FROM lt.outbox o, lt.agent_state a"
                           "  WHERE a.commune_code = $1 AND o.seq <= a.confirmed_seq"
                           "  AND o.seq <= a.acked_seq AND o.sent_at IS NOT NULL"
                           "  AND o.sent_at < now() - make_interval(secs => $2::bigint)"
                           "  AND NOT EXISTS (SELECT 1 FROM lt.entity_state s WHERE s.seq = o.seq)"
                           "  ORDER BY o.seq LIMIT $3::int) RETURNING 1),"
                           " n AS (SELECT count(*) AS n FROM gone),"
                           " st AS (UPDATE lt.agent_state SET purged_rows = purged_rows + n.n"
                           "  FROM n WHERE commune_code = $1)"
                           " SELECT n FROM n",
                           3, params, 0, purged, errstr, errstr_size);
}

lt_pg_rc_t lt_outbox_control_skip(PGconn *conn, const char *commune, int64_t next_offset,
                                  char *errstr, size_t errstr_size)
{
    char offset[24];
    snprintf(offset, sizeof(offset), "%" PRId64, next_offset);
    const char *params[] = {offset, commune};
    return lt_pg_exec(conn, "UPDATE lt.agent_state SET control_offset = $1 WHERE commune_code = $2",
                      2, params, errstr, errstr_size);
}

lt_pg_rc_t lt_outbox_resync_next(PGconn *conn, lt_resync_work_t *work, int *found,
                                 char *errstr, size_t errstr_size)
{
    PGresult *res;
    lt_pg_rc_t rc = lt_pg_query(conn,
                                "SELECT request_id, coalesce(buckets[1], -1),"
                                " coalesce(first_seq, 0), coalesce(last_seq, 0),"
                                " cardinality(buckets), entities IS NOT NULL, entities_done"
                                " FROM lt.resync_request WHERE done_at IS NULL"
                                " ORDER BY received_at, request_id LIMIT 1",
                                0, NULL, &res, errstr, errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    *found = PQntuples(res) == 1;
    if (*found) {
        lt_strlcpy(work->request_id, PQgetvalue(res, 0, 0), sizeof(work->request_id));
        work->bucket = atoi(PQgetvalue(res, 0, 1));
        work->first_seq = strtoull(PQgetvalue(res, 0, 2), NULL, 10);
        work->last_seq = strtoull(PQgetvalue(res, 0, 3), NULL, 10);
        work->buckets_left = atoi(PQgetvalue(res, 0, 4));
        work->entities = PQgetvalue(res, 0, 5)[0] == 't';
        work->entities_done = atoi(PQgetvalue(res, 0, 6));
    }
    PQclear(res);
    return LT_PG_OK;
}

lt_pg_rc_t lt_outbox_resync_states(PGconn *conn, int bucket, const char *after_type,
                                   const char *after_id, int limit,
                                   Lienthong__V1__Event ***events, size_t *count, char *errstr,
                                   size_t errstr_size)
{
    char b[8], lim[16];
    snprintf(b, sizeof(b), "%d", bucket);
    snprintf(lim, sizeof(lim), "%d", limit);
    const char *params[] = {b, after_type, after_id, lim};
    PGresult *res;
    *events = NULL;
    *count = 0;
    lt_pg_rc_t rc = lt_pg_query(conn,
                                "WITH s AS (SELECT seq AS state_seq, entity_type AS t,"
                                " entity_id AS i FROM lt.entity_state WHERE bucket = $1"
                                " AND (entity_type, entity_id) > ($2, $3)"
                                " ORDER BY entity_type, entity_id LIMIT $4)"
                                " SELECT o.seq, " LT_ROW_COLUMNS " FROM s"
                                " JOIN lt.outbox o ON o.seq = s.state_seq ORDER BY s.t, s.i",
                                4, params, &res, errstr, errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    int n = PQntuples(res);
    Lienthong__V1__Event **out = calloc((size_t)n + 1, sizeof(*out));
    if (!out)
        abort();
    for (int row = 0; row < n; row++) {
        char reason[512];
        out[row] = lt_outbox_row_event(res, row, 1, reason, sizeof(reason));
        if (!out[row]) {
            lt_err(errstr, errstr_size, "outbox row seq=%s: %s", PQgetvalue(res, row, 0), reason);
            lt_outbox_events_free(out, (size_t)row);
            PQclear(res);
            return LT_PG_FATAL;
        }
        out[row]->seq = strtoull(PQgetvalue(res, row, 0), NULL, 10);
    }
    PQclear(res);
    *events = out;
    *count = (size_t)n;
    return LT_PG_OK;
}

lt_pg_rc_t lt_outbox_resync_entities(PGconn *conn, const char *request_id, int done, int limit,
                                     PGresult **res, char *errstr, size_t errstr_size)
{
    char d[16], lim[16];
    snprintf(d, sizeof(d), "%d", done);
    snprintf(lim, sizeof(lim), "%d", limit);
    const char *params[] = {request_id, d, lim};
    return lt_pg_query(conn,
                       "WITH e AS (SELECT a.n, a.x->>0 AS t, a.x->>1 AS i"
                       "  FROM lt.resync_request r,"
                       "  jsonb_array_elements(r.entities) WITH ORDINALITY AS a(x, n)"
                       "  WHERE r.request_id = $1 AND a.n > $2::int ORDER BY a.n LIMIT $3::int)"
                       " SELECT e.n, e.t, e.i, o.seq, " LT_ROW_COLUMNS " FROM e"
                       " LEFT JOIN (SELECT entity_type AS st, entity_id AS si, seq AS sseq"
                       "  FROM lt.entity_state) s ON s.st = e.t AND s.si = e.i"
                       " LEFT JOIN lt.outbox o ON o.seq = s.sseq ORDER BY e.n",
                       3, params, res, errstr, errstr_size);
}

Lienthong__V1__Event *lt_outbox_resync_entity_event(PGresult *res, int row, char *errstr,
                                                   size_t errstr_size)
{
    Lienthong__V1__Event *ev = lt_outbox_row_event(res, row, 4, errstr, errstr_size);
    if (ev)
        ev->seq = strtoull(PQgetvalue(res, row, 3), NULL, 10);
    return ev;
}

lt_pg_rc_t lt_outbox_resync_entities_advance(PGconn *conn, const char *request_id, int n,
                                             char *errstr, size_t errstr_size)
{
    char k[16];
    snprintf(k, sizeof(k), "%d", n);
    const char *params[] = {request_id, k};
    return lt_pg_exec(conn,
                      "UPDATE lt.resync_request SET entities_done = entities_done + $2::int,"
                      " done_at = CASE WHEN entities_done + $2::int >= jsonb_array_length(entities)"
                      "  THEN now() END WHERE request_id = $1",
                      2, params, errstr, errstr_size);
}

lt_pg_rc_t lt_outbox_resync_manifest(PGconn *conn, int bucket, PGresult **res, char *errstr,
                                     size_t errstr_size)
{
    char b[8];
    snprintf(b, sizeof(b), "%d", bucket);
    const char *params[] = {b};
    return lt_pg_query(conn,
                       "SELECT entity_type, entity_id, version FROM lt.entity_state"
                       " WHERE bucket = $1 ORDER BY entity_type, entity_id",
                       1, params, res, errstr, errstr_size);
}

lt_pg_rc_t lt_outbox_resync_advance(PGconn *conn, const lt_resync_work_t *work,
                                    uint64_t next_first_seq, char *errstr, size_t errstr_size)
{
    char b[8], next[24];
    snprintf(b, sizeof(b), "%d", work->bucket);
    snprintf(next, sizeof(next), "%" PRIu64, next_first_seq);
    const char *params[] = {work->request_id, b, next};
    /* A bucket sent leaves the list; a range moves its start; nothing left
     * to send is done. */
    return lt_pg_exec(conn,
                      "UPDATE lt.resync_request SET"
                      " buckets = array_remove(buckets, $2::smallint),"
                      " first_seq = CASE WHEN first_seq IS NULL THEN NULL ELSE $3::bigint END,"
                      " done_at = CASE WHEN cardinality(array_remove(buckets, $2::smallint)) = 0"
                      "  AND (first_seq IS NULL OR $3::bigint > last_seq) THEN now() END"
                      " WHERE request_id = $1",
                      3, params, errstr, errstr_size);
}

lt_pg_rc_t lt_outbox_resync_snapshot(PGconn *conn, const char *request_id, char *errstr,
                                     size_t errstr_size)
{
    lt_buf_t buckets = {0};
    lt_outbox_bucket_array(&buckets, NULL, 0, 1);
    const char *params[] = {request_id, lt_buf_cstr(&buckets)};
    lt_pg_rc_t rc = lt_pg_exec(conn,
                               "INSERT INTO lt.resync_request (request_id, buckets)"
                               " VALUES ($1, $2::smallint[])",
                               2, params, errstr, errstr_size);
    lt_buf_free(&buckets);
    return rc;
}
