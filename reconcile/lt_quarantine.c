#include "lt_quarantine.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lt_buf.h"
#include "lt_codec.h"
#include "lt_json_pb.h"
#include "lt_pg.h"
#include "lt_plan.h"
#include "lt_registry.h"
#include "lt_store.h"
#include "lt_topic.h"
#include "lt_units.h"
#include "lt_util.h"

/* The quarantined messages asked for (lt_store_quarantine_free them), or
 * -1 with the error printed. */
static int lt_q_find(PGconn *pg, const lt_quarantine_filter_t *filter, int64_t id,
                     lt_quarantine_detail_t detail, lt_quarantined_t **rows, size_t *n)
{
    char errstr[1024];
    if (lt_store_quarantine_find(pg, filter, id, detail, rows, n, errstr, sizeof(errstr)) !=
        LT_PG_OK) {
        fprintf(stderr, "error: %s\n", errstr);
        return -1;
    }
    return 0;
}

int lt_quarantine_list(PGconn *pg, const lt_quarantine_filter_t *filter, FILE *out)
{
    lt_quarantined_t *rows;
    size_t n;
    if (lt_q_find(pg, filter, 0, LT_QUARANTINE_HEADERS, &rows, &n) != 0)
        return 1;
    fprintf(out, "%6s  %-19s  %-7s  %-26s  %-22s  %s\n", "id", "quarantined (UTC)", "commune",
            "topic:offset", "reason", "detail");
    for (size_t i = 0; i < n; i++) {
        const lt_quarantined_t *q = &rows[i];
        char position[160];
        snprintf(position, sizeof(position), "%s:%" PRId64, q->topic, q->kafka_offset);
        fprintf(out, "%6" PRId64 "  %-19s  %-7s  %-26s  %-22s  %s%s\n", q->id,
                q->quarantined_at_secs, q->commune_code ? q->commune_code : "-", position,
                q->reason_code, q->reason, q->replayed_at ? " [replayed]" : "");
    }
    fprintf(out, "%zu message(s)\n", n);
    lt_store_quarantine_free(rows, n);
    return 0;
}

static void lt_q_show_content(const uint8_t *raw, size_t len, FILE *out)
{
    char detail[512];
    lt_decode_err_t err;
    Lienthong__V1__SignedBatch *sb =
        lt_signed_batch_decode(raw, len, 64u * 1024 * 1024, &err, detail, sizeof(detail));
    if (!sb) {
        fprintf(out, "content:     not a SignedBatch (%s: %s); first bytes:", lt_decode_err_code(err),
                detail);
        for (size_t i = 0; i < len && i < 32; i++)
            fprintf(out, " %02x", raw[i]);
        fprintf(out, "\n");
        return;
    }
    fprintf(out, "signed by:   %s (%zu-byte signature)\n", sb->key_id, sb->signature.len);
    Lienthong__V1__Batch *batch = lt_batch_decode(sb->batch.data, sb->batch.len,
                                                  64u * 1024 * 1024, &err, detail, sizeof(detail));
    if (batch) {
        fprintf(out, "batch:       commune %s, seq %" PRIu64 "..%" PRIu64 ", %zu events\n",
                batch->commune_code, batch->first_seq, batch->last_seq, batch->n_events);
        if (batch->n_events) {
            lt_buf_t compact = {0};
            lt_pb_write_json(&batch->events[0]->base, &compact);
            json_t *first = json_loads(lt_buf_cstr(&compact), 0, NULL);
            char *text = first ? json_dumps(first, JSON_INDENT(2)) : NULL;
            lt_buf_free(&compact);
            fprintf(out, "first event:\n%s\n", text ? text : "?");
            free(text);
            json_decref(first);
        }
        protobuf_c_message_free_unpacked(&batch->base, NULL);
    } else {
        fprintf(out, "batch:       does not decode (%s: %s)\n", lt_decode_err_code(err), detail);
    }
    protobuf_c_message_free_unpacked(&sb->base, NULL);
}

int lt_quarantine_show(PGconn *pg, int64_t id, FILE *out)
{
    lt_quarantined_t *rows;
    size_t n;
    if (lt_q_find(pg, NULL, id, LT_QUARANTINE_WITH_BYTES, &rows, &n) != 0)
        return 1;
    if (n != 1) {
        fprintf(stderr, "error: no quarantined message with id %" PRId64 "\n", id);
        lt_store_quarantine_free(rows, n);
        return 1;
    }
    const lt_quarantined_t *q = &rows[0];
    fprintf(out,
            "id:          %" PRId64 "\nquarantined: %s\ncommune:     %s\nposition:    %s "
            "partition %" PRId32 " offset %" PRId64 "\nreason:      %s — %s\nreplayed:    %s\n",
            q->id, q->quarantined_at, q->commune_code ? q->commune_code : "-", q->topic,
            q->partition, q->kafka_offset, q->reason_code, q->reason,
            q->replayed_at ? q->replayed_at : "no");
    fprintf(out, "size:        %zu bytes\n", q->raw_len);
    lt_q_show_content(q->raw, q->raw_len, out);
    lt_store_quarantine_free(rows, n);
    return 0;
}

/* The message a quarantine row holds, as the sink received it. */
static lt_msg_t lt_q_message(const lt_quarantined_t *q)
{
    return (lt_msg_t){.topic = q->topic,
                      .partition = q->partition,
                      .offset = q->kafka_offset,
                      .key = q->message_key,
                      .key_len = q->message_key_len,
                      .value = q->raw,
                      .len = q->raw_len};
}

/* What replaying needs, whatever the row: the rules and the limits. */
typedef struct lt_q_replayer {
    PGconn *pg;
    const lt_units_t *units;
    int allow_integrity_only;
    size_t max_message_bytes;
    FILE *out;
} lt_q_replayer_t;

/* Open, plan in replay mode and commit one quarantined message, against the
 * communes and keys registered now. Returns 0 applied, 1 still invalid,
 * 2 database error (errstr). */
static int lt_q_replay_message(const lt_q_replayer_t *rp, lt_registry_t *reg,
                               const lt_quarantined_t *q, char *errstr, size_t errstr_size)
{
    lt_plan_t *plan = NULL;
    int rc = 2;
    if (lt_store_load_registry(rp->pg, reg, errstr, errstr_size) != LT_PG_OK)
        goto done;
    plan = lt_plan_new(reg, rp->max_message_bytes, rp->allow_integrity_only, rp->units);
    lt_msg_t msg = lt_q_message(q);
    lt_plan_messages(plan, &msg, 1, LT_PLAN_REPLAY);
    const char *code, *why = lt_plan_refusal(plan, &code);
    if (why) {
        fprintf(rp->out, "%" PRId64 ": still invalid (%s: %s); left quarantined\n", q->id, code,
                why);
        rc = 1;
        goto done;
    }
    size_t staged = lt_plan_counts(plan).events;
    if (lt_store_commit_replay(rp->pg, plan, q->id, errstr, errstr_size) != LT_PG_OK)
        goto done;
    lt_plan_committed(plan);
    fprintf(rp->out,
            "%" PRId64 ": replayed; %zu event(s) checked, those not yet in the event log applied\n",
            q->id, staged);
    rc = 0;
done:
    lt_plan_destroy(plan);
    return rc;
}

/* Replay one row. Returns 0 applied, 1 still invalid, 2 database error. */
static int lt_q_replay_row(const lt_q_replayer_t *rp, const lt_quarantined_t *q)
{
    char errstr[1024];
    lt_topic_parts_t topic;
    if (lt_topic_parse(q->topic, &topic) != 0) {
        fprintf(rp->out,
                "%" PRId64 ": topic %s is not a lienthong events topic; left quarantined\n", q->id,
                q->topic);
        return 1;
    }
    lt_registry_t *reg = lt_registry_new(topic.province);
    int rc = lt_q_replay_message(rp, reg, q, errstr, sizeof(errstr));
    if (rc == 2)
        fprintf(stderr, "error: replay of %" PRId64 ": %s\n", q->id, errstr);
    lt_registry_destroy(reg);
    return rc;
}

int lt_quarantine_replay(PGconn *pg, int64_t id, const lt_quarantine_filter_t *filter,
                         int allow_integrity_only, size_t max_message_bytes, FILE *out)
{
    lt_quarantine_filter_t unreplayed = filter ? *filter : (lt_quarantine_filter_t){0};
    unreplayed.include_replayed = 0;
    lt_quarantined_t *rows;
    size_t n;
    if (lt_q_find(pg, &unreplayed, id, LT_QUARANTINE_WITH_BYTES, &rows, &n) != 0)
        return 2;
    if (n == 0 && id)
        fprintf(out, "no quarantined message %" PRId64 " awaiting replay\n", id);
    else if (n == 0)
        fprintf(out, "nothing awaits replay\n");
    char errstr[512];
    lt_units_t *units = n ? lt_units_open(NULL, errstr, sizeof(errstr)) : NULL;
    int worst = n && !units ? 2 : 0;
    if (worst)
        fprintf(stderr, "error: %s\n", errstr);
    lt_q_replayer_t rp = {.pg = pg,
                          .units = units,
                          .allow_integrity_only = allow_integrity_only,
                          .max_message_bytes = max_message_bytes,
                          .out = out};
    for (size_t i = 0; i < n && worst < 2; i++) {
        int rc = lt_q_replay_row(&rp, &rows[i]);
        worst = rc > worst ? rc : worst;
    }
    lt_units_destroy(units);
    lt_store_quarantine_free(rows, n);
    return worst;
}
