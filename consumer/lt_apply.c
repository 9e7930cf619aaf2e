#include "lt_apply.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lt_event.h"
#include "lt_fault.h"
#include "lt_json_pb.h"
#include "lt_log.h"
#include "lt_sign.h"
#include "lt_util.h"
#include "lt_validate.h"

extern const char lt_province_schema_sql[];
extern const char lt_apply_round_sql[];

#define LT_ENTITY_ID_MAX 128

/* ------------------------------------------------------------------ setup */

void lt_apply_init(lt_apply_t *apply, const char *province, size_t max_message_bytes,
                   int allow_integrity_only)
{
    memset(apply, 0, sizeof(*apply));
    lt_strlcpy(apply->province, province, sizeof(apply->province));
    apply->max_message_bytes = max_message_bytes;
    apply->allow_integrity_only = allow_integrity_only;
}

static void lt_apply_clear_communes(lt_apply_t *apply)
{
    for (size_t i = 0; i < apply->n_communes; i++) {
        free(apply->communes[i].key_id);
        free(apply->communes[i].public_key);
        lt_ranges_free(&apply->communes[i].missing);
        lt_ranges_free(&apply->communes[i].plan_missing);
    }
    free(apply->communes);
    apply->communes = NULL;
    apply->n_communes = 0;
}

void lt_apply_destroy(lt_apply_t *apply)
{
    lt_apply_clear_communes(apply);
    lt_buf_t *bufs[] = {&apply->events,  &apply->offsets, &apply->gaps,
                        &apply->quarantine, &apply->batches, &apply->duplicates,
                        &apply->scratch, &apply->row};
    for (size_t i = 0; i < sizeof(bufs) / sizeof(*bufs); i++)
        lt_buf_free(bufs[i]);
    lt_newest_free(&apply->newest);
    free(apply->vr);
}

lt_commune_t *lt_apply_add_commune(lt_apply_t *apply, const char *code, const char *key_id,
                                   const char *public_key, uint64_t last_seq)
{
    lt_commune_t *grown = realloc(apply->communes, (apply->n_communes + 1) * sizeof(*grown));
    if (!grown)
        abort();
    apply->communes = grown;
    lt_commune_t *c = &apply->communes[apply->n_communes++];
    memset(c, 0, sizeof(*c));
    lt_strlcpy(c->code, code, sizeof(c->code));
    snprintf(c->events_topic, sizeof(c->events_topic), "lt.%s.%s.events", apply->province, code);
    c->key_id = key_id ? strdup(key_id) : NULL;
    c->public_key = public_key ? strdup(public_key) : NULL;
    c->last_seq = last_seq;
    return c;
}

lt_commune_t *lt_apply_commune_by_topic(lt_apply_t *apply, const char *topic)
{
    for (size_t i = 0; i < apply->n_communes; i++)
        if (strcmp(apply->communes[i].events_topic, topic) == 0)
            return &apply->communes[i];
    return NULL;
}

lt_pg_rc_t lt_apply_migrate(PGconn *pg, char *errstr, size_t errstr_size)
{
    return lt_pg_exec(pg, lt_province_schema_sql, 0, NULL, errstr, errstr_size);
}

/* The sequences each commune's open gaps still miss: the gap ranges less
 * what the event log holds of them (a gap may be partly filled). */
static const char lt_missing_sql[] =
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

static lt_commune_t *lt_apply_commune_by_code(lt_apply_t *apply, const char *code)
{
    for (size_t i = 0; i < apply->n_communes; i++)
        if (strcmp(apply->communes[i].code, code) == 0)
            return &apply->communes[i];
    return NULL;
}

static lt_pg_rc_t lt_apply_load_gaps(lt_apply_t *apply, PGconn *pg, char *errstr,
                                     size_t errstr_size)
{
    const char *params[] = {apply->province};
    PGresult *res;
    lt_pg_rc_t rc = lt_pg_query(pg, lt_missing_sql, 1, params, &res, errstr, errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    for (int row = 0; row < PQntuples(res); row++) {
        lt_commune_t *c = lt_apply_commune_by_code(apply, PQgetvalue(res, row, 0));
        if (c)
            lt_ranges_append(&c->missing, strtoull(PQgetvalue(res, row, 1), NULL, 10),
                             strtoull(PQgetvalue(res, row, 2), NULL, 10));
    }
    PQclear(res);
    return LT_PG_OK;
}

lt_pg_rc_t lt_apply_load(lt_apply_t *apply, PGconn *pg, char *errstr, size_t errstr_size)
{
    const char *params[] = {apply->province};
    PGresult *res;
    lt_pg_rc_t rc = lt_pg_query(pg,
                                "SELECT c.commune_code, c.key_id, c.public_key, "
                                "coalesce(p.last_seq, 0), p.last_batch_hash "
                                "FROM lt.commune c LEFT JOIN lt.commune_progress p "
                                "USING (commune_code) WHERE c.province_code = $1",
                                1, params, &res, errstr, errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    lt_apply_clear_communes(apply);
    for (int row = 0; row < PQntuples(res); row++) {
        lt_commune_t *c = lt_apply_add_commune(
            apply, PQgetvalue(res, row, 0),
            PQgetisnull(res, row, 1) ? NULL : PQgetvalue(res, row, 1),
            PQgetisnull(res, row, 2) ? NULL : PQgetvalue(res, row, 2),
            strtoull(PQgetvalue(res, row, 3), NULL, 10));
        if (!PQgetisnull(res, row, 4)) {
            size_t len;
            unsigned char *raw =
                PQunescapeBytea((const unsigned char *)PQgetvalue(res, row, 4), &len);
            if (raw && len == LT_SHA256_LEN)
                memcpy(c->last_hash, raw, LT_SHA256_LEN);
            PQfreemem(raw);
        }
    }
    PQclear(res);
    rc = lt_apply_load_gaps(apply, pg, errstr, errstr_size);
    lt_apply_reset_plan(apply);
    return rc;
}

void lt_apply_reset_plan(lt_apply_t *apply)
{
    lt_buf_t *bufs[] = {&apply->events,     &apply->offsets,    &apply->gaps,
                        &apply->quarantine, &apply->batches,    &apply->duplicates};
    for (size_t i = 0; i < sizeof(bufs) / sizeof(*bufs); i++)
        lt_buf_reset(bufs[i]);
    lt_newest_reset(&apply->newest);
    apply->plan_rows = apply->plan_quarantined = apply->plan_gaps = 0;
    apply->plan_batches = apply->plan_offsets = 0;
    for (size_t i = 0; i < apply->n_communes; i++) {
        lt_commune_t *c = &apply->communes[i];
        c->in_plan = 0;
        c->plan_events = c->plan_batches = c->plan_duplicates = c->plan_fills = 0;
        c->plan_last_recorded_us = 0;
    }
}

/* ------------------------------------------------------------ validation */

typedef struct lt_reject {
    const char *code;
    char text[512];
} lt_reject_t;

static int lt_reject(lt_reject_t *rej, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int lt_reject(lt_reject_t *rej, const char *code, const char *fmt, ...)
{
    va_list ap;
    rej->code = code;
    va_start(ap, fmt);
    vsnprintf(rej->text, sizeof(rej->text), fmt, ap);
    va_end(ap);
    return -1;
}

static int lt_apply_check_event(const Lienthong__V1__Event *ev, uint64_t expect_seq,
                                size_t index, lt_reject_t *rej)
{
    if (ev->seq != expect_seq)
        return lt_reject(rej, "bad_sequence",
                         "events[%zu]: seq %" PRIu64 " where %" PRIu64 " was expected", index,
                         ev->seq, expect_seq);
    const char *type = lt_entity_type_name(ev->entity_type);
    if (!type)
        return lt_reject(rej, "bad_event", "events[%zu] (seq %" PRIu64 "): unknown entity_type %d",
                         index, ev->seq, (int)ev->entity_type);
    size_t id_len = strlen(ev->entity_id);
    if (id_len == 0 || id_len > LT_ENTITY_ID_MAX)
        return lt_reject(rej, "bad_event", "events[%zu] (seq %" PRIu64 "): entity_id length %zu "
                         "is outside 1..%d", index, ev->seq, id_len, LT_ENTITY_ID_MAX);
    if (ev->version == 0)
        return lt_reject(rej, "bad_event", "events[%zu] (seq %" PRIu64 "): version 0", index,
                         ev->seq);
    const ProtobufCMessage *payload = lt_event_payload(ev);
    if (ev->op == LIENTHONG__V1__OP__OP_DELETE)
        return payload ? lt_reject(rej, "bad_event",
                                   "events[%zu] (seq %" PRIu64 "): a delete carries a payload",
                                   index, ev->seq)
                       : 0;
    if (ev->op != LIENTHONG__V1__OP__OP_UPSERT)
        return lt_reject(rej, "bad_event", "events[%zu] (seq %" PRIu64 "): unknown op %d", index,
                         ev->seq, (int)ev->op);
    if (!payload || payload->descriptor != lt_entity_payload_desc(ev->entity_type))
        return lt_reject(rej, "bad_event",
                         "events[%zu] (seq %" PRIu64 "): %s upsert without a %s payload", index,
                         ev->seq, type, type);
    uint8_t hash[LT_SHA256_LEN];
    lt_event_payload_hash(ev, hash);
    if (ev->content_hash.len != LT_SHA256_LEN || memcmp(hash, ev->content_hash.data, LT_SHA256_LEN))
        return lt_reject(rej, "content_hash_mismatch",
                         "events[%zu] (seq %" PRIu64 "): content_hash does not match the payload",
                         index, ev->seq);
    return 0;
}

static int lt_apply_check_batch(const lt_commune_t *c, const Lienthong__V1__Batch *batch,
                                lt_reject_t *rej)
{
    if (strcmp(batch->commune_code, c->code) != 0)
        return lt_reject(rej, "commune_mismatch",
                         "batch says commune \"%s\" but arrived on the topic of %s",
                         batch->commune_code, c->code);
    if (batch->n_events == 0)
        return lt_reject(rej, "bad_batch", "batch %" PRIu64 "..%" PRIu64 " has no events",
                         batch->first_seq, batch->last_seq);
    if (batch->first_seq == 0 || batch->last_seq != batch->first_seq + batch->n_events - 1)
        return lt_reject(rej, "bad_sequence",
                         "batch claims seq %" PRIu64 "..%" PRIu64 " but holds %zu events",
                         batch->first_seq, batch->last_seq, batch->n_events);
    for (size_t i = 0; i < batch->n_events; i++)
        if (lt_apply_check_event(batch->events[i], batch->first_seq + i, i, rej) != 0)
            return -1;
    return 0;
}

static int lt_apply_check_signature(const lt_apply_t *apply, const lt_commune_t *c,
                                    const Lienthong__V1__SignedBatch *sb, lt_reject_t *rej)
{
    const char *pem = NULL;
    if (c->key_id) {
        if (strcmp(sb->key_id, c->key_id) != 0)
            return lt_reject(rej, "wrong_signer", "signed by key \"%s\"; commune %s uses \"%s\"",
                             sb->key_id, c->code, c->key_id);
        pem = c->public_key;
    } else if (!apply->allow_integrity_only || strcmp(sb->key_id, "sha256:") != 0) {
        return lt_reject(rej, "wrong_signer",
                         "signed by key \"%s\" but commune %s has no registered key", sb->key_id,
                         c->code);
    }
    int ok = lt_sign_verify(sb->key_id, pem, sb->batch.data, sb->batch.len, sb->signature.data,
                            sb->signature.len);
    return ok == 1 ? 0 : lt_reject(rej, "bad_signature", "signature does not verify (key %s)",
                                   sb->key_id);
}

/* ---------------------------------------------------------------- staging */

static void lt_apply_put_hash(lt_buf_t *b, const Lienthong__V1__Event *ev)
{
    if (ev->content_hash.len) {
        lt_buf_puts(b, "\\\\x");
        lt_buf_hex(b, ev->content_hash.data, ev->content_hash.len);
    } else {
        lt_buf_puts(b, "\\N");
    }
}

/* "commune \t seq \t type \t id \t version \t op \t hash": how both rows start. */
static void lt_apply_put_head(lt_buf_t *b, const lt_commune_t *c, const Lienthong__V1__Event *ev)
{
    lt_buf_puts(b, c->code);
    lt_buf_append(b, "\t", 1);
    lt_buf_u64(b, ev->seq);
    lt_buf_append(b, "\t", 1);
    lt_buf_puts(b, lt_entity_type_name(ev->entity_type));
    lt_buf_append(b, "\t", 1);
    lt_buf_copy_str(b, ev->entity_id);
    lt_buf_append(b, "\t", 1);
    lt_buf_u64(b, ev->version);
    lt_buf_append(b, "\t", 1);
    lt_buf_puts(b, lt_op_name(ev->op));
    lt_buf_append(b, "\t", 1);
    lt_apply_put_hash(b, ev);
}

/* One lt.event_log row per event, COPYed straight into the table. */
static void lt_apply_stage_log(lt_apply_t *apply, const lt_commune_t *c,
                               const Lienthong__V1__Event *ev)
{
    lt_buf_t *b = &apply->events;
    lt_apply_put_head(b, c, ev);
    lt_buf_append(b, "\t", 1);
    lt_buf_utc_us(b, ev->occurred_at_us);
    lt_buf_append(b, "\t", 1);
    lt_buf_utc_us(b, ev->recorded_at_us);
    lt_buf_append(b, "\n", 1);
    apply->plan_rows++;
}

/* The lt_stage row of an entity, offered to the newest-per-entity table.
 * Hot path: built without printf or JSON trees. */
static void lt_apply_stage_entity(lt_apply_t *apply, const lt_commune_t *c,
                                  const Lienthong__V1__Event *ev, const lt_validate_result_t *vr)
{
    lt_buf_t *b = &apply->row;
    lt_buf_reset(b);
    lt_apply_put_head(b, c, ev);
    lt_buf_append(b, "\t", 1);
    const ProtobufCMessage *payload = lt_event_payload(ev);
    if (payload) {
        lt_buf_reset(&apply->scratch);
        lt_pb_write_json(payload, &apply->scratch);
        lt_buf_copy_strn(b, apply->scratch.data, apply->scratch.len);
    } else {
        lt_buf_puts(b, "\\N");
    }
    lt_buf_append(b, "\t", 1);
    lt_buf_i64(b, ev->occurred_at_us);
    lt_buf_append(b, "\t", 1);
    lt_buf_i64(b, ev->recorded_at_us);
    lt_buf_append(b, "\t", 1);
    lt_buf_copy_str(b, vr->subject_name);
    lt_buf_append(b, "\t", 1);
    lt_buf_copy_str(b, vr->subject_name_key);
    lt_buf_append(b, "\t", 1);
    lt_buf_copy_str(b, vr->personal_id);
    lt_buf_puts(b, vr->late ? "\tt\n" : "\tf\n");
    /* The key: commune, type, id, separated by a byte no id contains. */
    lt_buf_reset(&apply->scratch);
    lt_buf_puts(&apply->scratch, c->code);
    lt_buf_append(&apply->scratch, "\x1f", 1);
    lt_buf_puts(&apply->scratch, lt_entity_type_name(ev->entity_type));
    lt_buf_append(&apply->scratch, "\x1f", 1);
    lt_buf_puts(&apply->scratch, ev->entity_id);
    lt_newest_offer(&apply->newest, apply->scratch.data, apply->scratch.len, ev->version,
                    ev->seq, b->data, b->len);
}

static void lt_apply_stage_bytea(lt_buf_t *b, const uint8_t *data, size_t len)
{
    lt_buf_puts(b, "\\\\x");
    lt_buf_hex(b, data, len);
}

static void lt_apply_quarantine(lt_apply_t *apply, const lt_msg_t *msg, const char *commune,
                                const lt_reject_t *rej)
{
    lt_buf_t *b = &apply->quarantine;
    lt_buf_copy_str(b, msg->topic);
    lt_buf_printf(b, "\t%" PRId32 "\t%" PRId64 "\t%s\t%s\t", msg->partition, msg->offset,
                  commune ? commune : "\\N", rej->code);
    lt_buf_copy_str(b, rej->text);
    lt_buf_puts(b, "\t");
    if (msg->key)
        lt_apply_stage_bytea(b, msg->key, msg->key_len);
    else
        lt_buf_puts(b, "\\N");
    lt_buf_puts(b, "\t");
    lt_apply_stage_bytea(b, msg->value ? msg->value : (const uint8_t *)"", msg->len);
    lt_buf_puts(b, "\n");
    apply->plan_quarantined++;
}

static void lt_apply_stage_batch_log(lt_apply_t *apply, const lt_msg_t *msg,
                                     const lt_commune_t *c, const Lienthong__V1__Batch *batch,
                                     const Lienthong__V1__SignedBatch *sb,
                                     const uint8_t hash[LT_SHA256_LEN])
{
    lt_buf_t *b = &apply->batches;
    lt_buf_printf(b, "%s\t%" PRIu64 "\t%" PRIu64 "\t", c->code, batch->first_seq, batch->last_seq);
    lt_apply_stage_bytea(b, hash, LT_SHA256_LEN);
    lt_buf_puts(b, "\t");
    if (batch->prev_batch_hash.len)
        lt_apply_stage_bytea(b, batch->prev_batch_hash.data, batch->prev_batch_hash.len);
    else
        lt_buf_puts(b, "\\N");
    lt_buf_puts(b, "\t");
    lt_buf_copy_str(b, sb->key_id);
    lt_buf_puts(b, "\t");
    lt_apply_stage_bytea(b, sb->signature.data, sb->signature.len);
    lt_buf_puts(b, "\t");
    lt_buf_copy_str(b, msg->topic);
    lt_buf_printf(b, "\t%" PRId64 "\n", msg->offset);
    apply->plan_batches++;
}

static void lt_apply_note_gap(lt_apply_t *apply, const lt_commune_t *c, uint64_t from,
                              uint64_t to)
{
    lt_buf_printf(&apply->gaps, "%s\t%" PRIu64 "\t%" PRIu64 "\n", c->code, from, to);
    apply->plan_gaps++;
}

/* ------------------------------------------------------------------ plan */

static void lt_apply_note_offset(lt_apply_t *apply, const lt_msg_t *msg)
{
    /* One line per message; the commit keeps the highest per partition. */
    lt_buf_copy_str(&apply->offsets, msg->topic);
    lt_buf_printf(&apply->offsets, "\t%" PRId32 "\t%" PRId64 "\n", msg->partition,
                  msg->offset + 1);
    apply->plan_offsets++;
}

/* The rules, as a defence: the agent applied them already. Fills vr with
 * what the typed tables index. Returns 0, or -1 with rej set. */
static int lt_apply_validate(const lt_apply_t *apply, const lt_commune_t *c,
                             const Lienthong__V1__Batch *batch, const Lienthong__V1__Event *ev,
                             size_t index, lt_validate_result_t *vr, lt_reject_t *rej)
{
    char detail[512];
    memset(vr, 0, sizeof(*vr));
    if (!apply->units)
        return 0; /* tests plan without the unit list */
    const ProtobufCMessage *payload = lt_event_payload(ev);
    if (payload && lt_pb_check_nfc(payload, detail, sizeof(detail)) != 0)
        return lt_reject(rej, "bad_text", "events[%zu] (seq %" PRIu64 "): %s", index, ev->seq,
                         detail);
    lt_validate_ctx_t ctx = {apply->units, apply->province, c->code, batch->code_list_version};
    if (lt_validate_event(&ctx, ev, vr) != LT_RULE_OK)
        return lt_reject(rej, lt_rule_code_name(vr->code), "events[%zu] (seq %" PRIu64 "): %s",
                         index, ev->seq, vr->text);
    return 0;
}

/* Is the event new to the province: above the last applied sequence, or
 * inside an open gap? (A replay checks the event log at commit instead.) */
static int lt_apply_wanted(const lt_apply_t *apply, const lt_commune_t *c, uint64_t seq)
{
    if (apply->replay)
        return 1;
    return seq > c->plan_last_seq || lt_ranges_contains(&c->plan_missing, seq);
}

static void lt_apply_note_duplicate(lt_apply_t *apply, lt_commune_t *c, const lt_msg_t *msg,
                                    const Lienthong__V1__Batch *batch)
{
    c->plan_duplicates++;
    lt_buf_printf(&apply->duplicates, "%s %s %" PRId64 " %" PRIu64 " %" PRIu64 "\n", c->code,
                  msg->topic, msg->offset, batch->first_seq, batch->last_seq);
}

static void lt_apply_stage_event(lt_apply_t *apply, lt_commune_t *c,
                                 const Lienthong__V1__Event *ev, const lt_validate_result_t *vr)
{
    if (!apply->replay && ev->seq <= c->plan_last_seq) {
        lt_ranges_remove(&c->plan_missing, ev->seq); /* fills its gap, once */
        c->plan_fills++;
    }
    lt_apply_stage_log(apply, c, ev);
    lt_apply_stage_entity(apply, c, ev, vr);
    c->plan_events++;
    if (ev->recorded_at_us > c->plan_last_recorded_us)
        c->plan_last_recorded_us = ev->recorded_at_us;
}

/* A jump past the last applied sequence opens a gap. */
static void lt_apply_note_jump(lt_apply_t *apply, lt_commune_t *c,
                               const Lienthong__V1__Batch *batch)
{
    if (apply->replay || batch->first_seq <= c->plan_last_seq + 1)
        return;
    lt_apply_note_gap(apply, c, c->plan_last_seq + 1, batch->first_seq - 1);
    lt_ranges_append(&c->plan_missing, c->plan_last_seq + 1, batch->first_seq - 1);
}

/* Stage the events of a checked batch that the province does not hold yet.
 * All or nothing: if one of them breaks a rule the batch is quarantined
 * whole. Returns 0, or -1 with rej set. */
static int lt_apply_events(lt_apply_t *apply, lt_commune_t *c, const lt_msg_t *msg,
                           const Lienthong__V1__SignedBatch *sb,
                           const Lienthong__V1__Batch *batch, lt_reject_t *rej)
{
    if (!c->in_plan) {
        c->in_plan = 1;
        c->plan_last_seq = c->last_seq;
        memcpy(c->plan_last_hash, c->last_hash, LT_SHA256_LEN);
        lt_ranges_copy(&c->plan_missing, &c->missing);
    }
    size_t wanted = 0;
    for (size_t i = 0; i < batch->n_events; i++)
        wanted += lt_apply_wanted(apply, c, batch->events[i]->seq);
    if (!wanted) {
        lt_apply_note_duplicate(apply, c, msg, batch); /* resent or replayed: all held */
        return 0;
    }
    /* Check every wanted event first: a batch is staged whole or not at all. */
    if (apply->vr_cap < batch->n_events) {
        apply->vr_cap = batch->n_events;
        apply->vr = realloc(apply->vr, apply->vr_cap * sizeof(*apply->vr));
        if (!apply->vr)
            abort();
    }
    for (size_t i = 0; i < batch->n_events; i++)
        if (lt_apply_wanted(apply, c, batch->events[i]->seq) &&
            lt_apply_validate(apply, c, batch, batch->events[i], i, &apply->vr[i], rej) != 0)
            return -1;
    lt_apply_note_jump(apply, c, batch);
    for (size_t i = 0; i < batch->n_events; i++)
        if (lt_apply_wanted(apply, c, batch->events[i]->seq))
            lt_apply_stage_event(apply, c, batch->events[i], &apply->vr[i]);
    uint8_t hash[LT_SHA256_LEN];
    lt_sha256(sb->batch.data, sb->batch.len, hash);
    lt_apply_stage_batch_log(apply, msg, c, batch, sb, hash);
    if (batch->last_seq > c->plan_last_seq) {
        memcpy(c->plan_last_hash, hash, LT_SHA256_LEN);
        c->plan_last_seq = batch->last_seq;
    }
    c->plan_batches++;
    return 0;
}

static void lt_apply_message(lt_apply_t *apply, const lt_msg_t *msg)
{
    lt_reject_t rej = {0};
    char detail[512];
    lt_decode_err_t derr;
    Lienthong__V1__SignedBatch *sb = NULL;
    Lienthong__V1__Batch *batch = NULL;
    lt_commune_t *c = lt_apply_commune_by_topic(apply, msg->topic);
    if (!apply->replay)
        lt_apply_note_offset(apply, msg);
    if (!c) {
        lt_reject(&rej, "unknown_commune", "topic %s belongs to no registered commune of "
                  "province %s (run lienthong-sink provision)", msg->topic, apply->province);
        goto quarantine;
    }
    if (msg->key_len != strlen(c->code) || memcmp(msg->key, c->code, msg->key_len) != 0) {
        lt_reject(&rej, "key_mismatch", "message key is not the commune code %s", c->code);
        goto quarantine;
    }
    sb = lt_signed_batch_decode(msg->value, msg->len, apply->max_message_bytes, &derr, detail,
                                sizeof(detail));
    if (!sb) {
        lt_reject(&rej, lt_decode_err_code(derr), "SignedBatch: %s", detail);
        goto quarantine;
    }
    if (lt_apply_check_signature(apply, c, sb, &rej) != 0)
        goto quarantine;
    batch = lt_batch_decode(sb->batch.data, sb->batch.len, apply->max_message_bytes, &derr,
                            detail, sizeof(detail));
    if (!batch) {
        lt_reject(&rej, lt_decode_err_code(derr), "Batch: %s", detail);
        goto quarantine;
    }
    if (lt_apply_check_batch(c, batch, &rej) != 0 ||
        lt_apply_events(apply, c, msg, sb, batch, &rej) != 0)
        goto quarantine;
    goto done;
quarantine:
    if (apply->replay) {
        lt_strlcpy(apply->replay_reason_code, rej.code, sizeof(apply->replay_reason_code));
        lt_strlcpy(apply->replay_reason, rej.text, sizeof(apply->replay_reason));
    } else {
        lt_apply_quarantine(apply, msg, c ? c->code : NULL, &rej);
    }
done:
    if (batch)
        protobuf_c_message_free_unpacked(&batch->base, NULL);
    if (sb)
        protobuf_c_message_free_unpacked(&sb->base, NULL);
}

void lt_apply_plan_refused(lt_apply_t *apply, const lt_msg_t *msg, const char *code,
                           const char *text)
{
    lt_reject_t rej;
    lt_reject(&rej, code, "%s", text);
    lt_commune_t *c = lt_apply_commune_by_topic(apply, msg->topic);
    lt_apply_note_offset(apply, msg);
    lt_apply_quarantine(apply, msg, c ? c->code : NULL, &rej);
}

void lt_apply_plan(lt_apply_t *apply, const lt_msg_t *msgs, size_t n)
{
    lt_apply_reset_plan(apply);
    for (size_t i = 0; i < n; i++)
        lt_apply_message(apply, &msgs[i]);
}

/* ---------------------------------------------------------------- commit */

/* Rows for one COPY come from a buffer, or from the newest-per-entity table
 * (streamed in pieces, so the rows are never held twice). */
typedef struct lt_copy_src {
    const lt_buf_t *buf;
    const lt_newest_t *newest;
} lt_copy_src_t;

static int lt_apply_copy_put(PGconn *pg, const lt_copy_src_t *src)
{
    if (src->buf)
        return PQputCopyData(pg, src->buf->data, (int)src->buf->len) == 1 ? 0 : -1;
    const lt_newest_t *n = src->newest;
    for (size_t i = 0; i < n->n_entries; i++)
        if (PQputCopyData(pg, n->rows.data + n->entries[i].row_off,
                          (int)n->entries[i].row_len) != 1)
            return -1;
    return 0;
}

static lt_pg_rc_t lt_apply_copy_from(PGconn *pg, const char *copy_sql, const lt_copy_src_t *src,
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
    if (lt_apply_copy_put(pg, src) != 0 || PQputCopyEnd(pg, NULL) != 1) {
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

static lt_pg_rc_t lt_apply_copy(PGconn *pg, const char *copy_sql, const lt_buf_t *data,
                                char *errstr, size_t errstr_size)
{
    lt_copy_src_t src = {.buf = data};
    return lt_apply_copy_from(pg, copy_sql, &src, errstr, errstr_size);
}

static const char lt_stage_sql[] =
    "CREATE TEMP TABLE IF NOT EXISTS lt_stage ("
    /* The real tables' collation: joins on these columns must use their indexes. */
    " commune_code text, seq bigint, entity_type text, entity_id text, version bigint,"
    " op text, content_hash bytea, payload jsonb, occurred_us bigint, recorded_us bigint,"
    " subject_name text, subject_name_key text, personal_id text, late boolean)"
    " ON COMMIT DELETE ROWS";

#define LT_EVENT_LOG_COLUMNS                                                           \
    "(commune_code, seq, entity_type, entity_id, version, op, content_hash, occurred_at," \
    " recorded_at)"

/* Replay: the event log keeps what it holds already; count the rest as applied. */
static const char lt_replay_log_sql[] =
    "WITH fresh AS (INSERT INTO lt.event_log " LT_EVENT_LOG_COLUMNS
    " SELECT * FROM lt_stage_log ON CONFLICT DO NOTHING RETURNING commune_code)"
    " INSERT INTO lt.commune_progress AS p (commune_code, last_seq, events_applied)"
    " SELECT commune_code, 0, count(*) FROM fresh GROUP BY 1"
    " ON CONFLICT (commune_code) DO UPDATE"
    " SET events_applied = p.events_applied + EXCLUDED.events_applied";

/* The event log rows: straight into the table; a second application of an
 * event fails loudly on its primary key. A replay goes through a staging
 * table instead and skips what the log holds. */
static lt_pg_rc_t lt_apply_copy_log(lt_apply_t *apply, PGconn *pg, char *errstr,
                                    size_t errstr_size)
{
    if (!apply->replay)
        return lt_apply_copy(pg, "COPY lt.event_log " LT_EVENT_LOG_COLUMNS " FROM STDIN",
                             &apply->events, errstr, errstr_size);
    lt_pg_rc_t rc = lt_pg_exec(pg,
                               "CREATE TEMP TABLE IF NOT EXISTS lt_stage_log AS"
                               " SELECT commune_code, seq, entity_type, entity_id, version, op,"
                               " content_hash, occurred_at, recorded_at FROM lt.event_log"
                               " WITH NO DATA; TRUNCATE lt_stage_log",
                               0, NULL, errstr, errstr_size);
    if (rc == LT_PG_OK)
        rc = lt_apply_copy(pg, "COPY lt_stage_log FROM STDIN", &apply->events, errstr,
                           errstr_size);
    if (rc == LT_PG_OK)
        rc = lt_pg_exec(pg, lt_replay_log_sql, 0, NULL, errstr, errstr_size);
    return rc;
}

/* Close the gaps the event log now holds entirely. */
static lt_pg_rc_t lt_apply_resolve_gaps(PGconn *pg, char *errstr, size_t errstr_size)
{
    return lt_pg_exec(pg,
                      "UPDATE lt.seq_gap g SET resolved_at = now()"
                      " WHERE resolved_at IS NULL AND (SELECT count(*) FROM lt.event_log e"
                      "  WHERE e.commune_code = g.commune_code"
                      "  AND e.seq BETWEEN g.from_seq AND g.to_seq)"
                      " = g.to_seq - g.from_seq + 1",
                      0, NULL, errstr, errstr_size);
}

/* Replay: mark the quarantine row. */
static lt_pg_rc_t lt_apply_replay_close(lt_apply_t *apply, PGconn *pg, char *errstr,
                                        size_t errstr_size)
{
    char id[24];
    snprintf(id, sizeof(id), "%" PRId64, apply->replay_quarantine_id);
    const char *params[] = {id};
    return lt_pg_exec(pg, "UPDATE lt.quarantine SET replayed_at = now() WHERE id = $1", 1,
                      params, errstr, errstr_size);
}

static int lt_apply_plan_fills(const lt_apply_t *apply)
{
    for (size_t i = 0; i < apply->n_communes; i++)
        if (apply->communes[i].in_plan && apply->communes[i].plan_fills)
            return 1;
    return 0;
}

static const char lt_offsets_sql[] =
    "INSERT INTO lt.kafka_offset AS k (topic, partition, next_offset)"
    " SELECT topic, partition, max(next_offset) FROM lt_stage_offset"
    " GROUP BY topic, partition"
    " ON CONFLICT (topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset,"
    " updated_at = now()";

static void lt_apply_progress_rows(lt_apply_t *apply, lt_buf_t *b)
{
    lt_buf_reset(b);
    for (size_t i = 0; i < apply->n_communes; i++) {
        const lt_commune_t *c = &apply->communes[i];
        if (!c->in_plan)
            continue;
        lt_buf_printf(b, "%s\t%" PRIu64 "\t", c->code, c->plan_last_seq);
        lt_apply_stage_bytea(b, c->plan_last_hash, LT_SHA256_LEN);
        lt_buf_printf(b, "\t%" PRIu64 "\t%" PRIu64 "\t%" PRIu64 "\t%" PRId64 "\n",
                      apply->replay ? 0 : c->plan_events, c->plan_batches, c->plan_duplicates,
                      c->plan_last_recorded_us);
    }
}

static const char lt_progress_sql[] =
    "INSERT INTO lt.commune_progress AS p (commune_code, last_seq, last_batch_hash,"
    " events_applied, batches_applied, duplicates_skipped, last_recorded_at)"
    " SELECT commune_code, last_seq, last_batch_hash, events, batches, duplicates,"
    " CASE WHEN recorded_us > 0 THEN 'epoch'::timestamptz"
    "  + recorded_us * interval '1 microsecond' END FROM lt_stage_progress"
    " ON CONFLICT (commune_code) DO UPDATE SET"
    " last_seq = GREATEST(p.last_seq, EXCLUDED.last_seq),"
    " last_batch_hash = CASE WHEN EXCLUDED.last_seq >= p.last_seq"
    "  THEN EXCLUDED.last_batch_hash ELSE p.last_batch_hash END,"
    " events_applied = p.events_applied + EXCLUDED.events_applied,"
    " batches_applied = p.batches_applied + EXCLUDED.batches_applied,"
    " duplicates_skipped = p.duplicates_skipped + EXCLUDED.duplicates_skipped,"
    " last_recorded_at = coalesce(EXCLUDED.last_recorded_at, p.last_recorded_at),"
    " updated_at = now()";

static lt_pg_rc_t lt_apply_run(lt_apply_t *apply, PGconn *pg, char *errstr, size_t errstr_size)
{
    lt_pg_rc_t rc = lt_pg_exec(pg,
                               "BEGIN;"
                               "CREATE TEMP TABLE IF NOT EXISTS lt_stage_offset (topic text,"
                               " partition int, next_offset bigint) ON COMMIT DELETE ROWS;"
                               "CREATE TEMP TABLE IF NOT EXISTS lt_stage_progress ("
                               " commune_code text, last_seq bigint, last_batch_hash bytea,"
                               " events bigint, batches bigint, duplicates bigint,"
                               " recorded_us bigint) ON COMMIT DELETE ROWS",
                               0, NULL, errstr, errstr_size);
    if (rc == LT_PG_OK)
        rc = lt_pg_exec(pg, lt_stage_sql, 0, NULL, errstr, errstr_size);
    if (rc == LT_PG_OK && apply->plan_rows)
        rc = lt_apply_copy_log(apply, pg, errstr, errstr_size);
    if (rc == LT_PG_OK && lt_newest_count(&apply->newest)) {
        lt_copy_src_t src = {.newest = &apply->newest};
        rc = lt_apply_copy_from(pg, "COPY lt_stage FROM STDIN", &src, errstr, errstr_size);
        if (rc == LT_PG_OK)
            rc = lt_pg_exec(pg, lt_apply_round_sql, 0, NULL, errstr, errstr_size);
    }
    if (rc == LT_PG_OK && apply->replay)
        rc = lt_apply_replay_close(apply, pg, errstr, errstr_size);
    if (rc == LT_PG_OK && (apply->replay || lt_apply_plan_fills(apply)))
        rc = lt_apply_resolve_gaps(pg, errstr, errstr_size);
    if (rc == LT_PG_OK && apply->plan_gaps)
        rc = lt_apply_copy(pg, "COPY lt.seq_gap (commune_code, from_seq, to_seq) FROM STDIN",
                           &apply->gaps, errstr, errstr_size);
    if (rc == LT_PG_OK && apply->plan_quarantined)
        rc = lt_apply_copy(pg,
                           "COPY lt.quarantine (topic, partition, kafka_offset, commune_code,"
                           " reason_code, reason, message_key, raw) FROM STDIN",
                           &apply->quarantine, errstr, errstr_size);
    if (rc == LT_PG_OK && apply->plan_batches)
        rc = lt_apply_copy(pg,
                           "COPY lt.batch_log (commune_code, first_seq, last_seq, batch_hash,"
                           " prev_batch_hash, key_id, signature, topic, kafka_offset) FROM STDIN",
                           &apply->batches, errstr, errstr_size);
    if (rc == LT_PG_OK && apply->plan_offsets) {
        rc = lt_apply_copy(pg, "COPY lt_stage_offset FROM STDIN", &apply->offsets, errstr,
                           errstr_size);
        if (rc == LT_PG_OK)
            rc = lt_pg_exec(pg, lt_offsets_sql, 0, NULL, errstr, errstr_size);
    }
    lt_apply_progress_rows(apply, &apply->scratch);
    if (rc == LT_PG_OK && apply->scratch.len) {
        rc = lt_apply_copy(pg, "COPY lt_stage_progress FROM STDIN", &apply->scratch, errstr,
                           errstr_size);
        if (rc == LT_PG_OK)
            rc = lt_pg_exec(pg, lt_progress_sql, 0, NULL, errstr, errstr_size);
    }
    if (rc == LT_PG_OK) {
        lt_fault_point("sink.before_commit");
        rc = lt_pg_exec(pg, "COMMIT", 0, NULL, errstr, errstr_size);
    }
    return rc;
}

/* A batch the province holds already: resent by an agent after a restart or
 * a refused delivery, or replayed by someone else. Harmless, but never silent. */
static void lt_apply_log_duplicates(const lt_apply_t *apply)
{
    const char *line = apply->duplicates.data, *end = line + apply->duplicates.len;
    while (line && line < end) {
        char code[8], topic[128];
        int64_t offset;
        uint64_t first, last;
        if (sscanf(line, "%7s %127s %" SCNd64 " %" SCNu64 " %" SCNu64, code, topic, &offset,
                   &first, &last) == 5)
            lt_info("batch already applied, skipped", "commune=%s topic=%s offset=%" PRId64
                    " first_seq=%" PRIu64 " last_seq=%" PRIu64, code, topic, offset, first, last);
        line = memchr(line, '\n', (size_t)(end - line));
        line = line ? line + 1 : NULL;
    }
}

static void lt_apply_promote(lt_apply_t *apply)
{
    apply->stats.rounds++;
    apply->stats.events_applied += apply->plan_rows;
    apply->stats.quarantined += apply->plan_quarantined;
    apply->stats.gaps += apply->plan_gaps;
    apply->stats.messages += apply->plan_offsets;
    for (size_t i = 0; i < apply->n_communes; i++) {
        lt_commune_t *c = &apply->communes[i];
        if (!c->in_plan)
            continue;
        c->last_seq = c->plan_last_seq;
        memcpy(c->last_hash, c->plan_last_hash, LT_SHA256_LEN);
        lt_ranges_copy(&c->missing, &c->plan_missing);
        apply->stats.batches_applied += c->plan_batches;
        apply->stats.duplicates_skipped += c->plan_duplicates;
        apply->stats.gap_fills += c->plan_fills;
        if (c->plan_fills)
            lt_info("gap filled", "commune=%s events=%" PRIu64 " still_missing=%" PRIu64,
                    c->code, c->plan_fills, lt_ranges_count(&c->missing));
    }
    lt_apply_log_duplicates(apply);
}

lt_pg_rc_t lt_apply_commit(lt_apply_t *apply, PGconn *pg, char *errstr, size_t errstr_size)
{
    lt_pg_rc_t rc = lt_apply_run(apply, pg, errstr, errstr_size);
    if (rc == LT_PG_OK)
        lt_apply_promote(apply);
    else if (PQstatus(pg) == CONNECTION_OK)
        lt_pg_exec(pg, "ROLLBACK", 0, NULL, NULL, 0);
    lt_apply_reset_plan(apply);
    return rc;
}
