#include "lt_quarantine.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lt_apply.h"
#include "lt_codec.h"
#include "lt_json_pb.h"
#include "lt_pg.h"
#include "lt_util.h"

/* WHERE clause shared by list and replay-all: $1 commune, $2 reason, $3 replayed too. */
#define LT_Q_WHERE                                                                     \
    " WHERE ($1::text IS NULL OR commune_code = $1)"                                   \
    " AND ($2::text IS NULL OR reason_code = $2)"                                      \
    " AND ($3::bool OR replayed_at IS NULL)"

static PGresult *lt_q_select(PGconn *pg, const char *columns, const lt_quarantine_filter_t *f,
                             int64_t id)
{
    char sql[1024], limit[24], idtext[24];
    snprintf(limit, sizeof(limit), "%ld", f && f->limit > 0 ? f->limit : 1000000L);
    snprintf(idtext, sizeof(idtext), "%" PRId64, id);
    snprintf(sql, sizeof(sql),
             "SELECT %s FROM lt.quarantine" LT_Q_WHERE
             " AND ($5::bigint = 0 OR id = $5) ORDER BY id LIMIT $4",
             columns);
    const char *params[] = {f ? f->commune : NULL, f ? f->reason_code : NULL,
                            (f ? f->include_replayed : id != 0) ? "true" : "false", limit,
                            idtext};
    char errstr[1024];
    PGresult *res;
    if (lt_pg_query(pg, sql, 5, params, &res, errstr, sizeof(errstr)) != LT_PG_OK) {
        fprintf(stderr, "error: %s\n", errstr);
        return NULL;
    }
    return res;
}

int lt_quarantine_list(PGconn *pg, const lt_quarantine_filter_t *filter, FILE *out)
{
    PGresult *res = lt_q_select(pg,
                                "id, to_char(quarantined_at, 'YYYY-MM-DD HH24:MI:SS'),"
                                " coalesce(commune_code, '-'), topic || ':' || kafka_offset,"
                                " reason_code, reason, replayed_at IS NOT NULL",
                                filter, 0);
    if (!res)
        return 1;
    fprintf(out, "%6s  %-19s  %-7s  %-26s  %-22s  %s\n", "id", "quarantined (UTC)", "commune",
            "topic:offset", "reason", "detail");
    for (int row = 0; row < PQntuples(res); row++)
        fprintf(out, "%6s  %-19s  %-7s  %-26s  %-22s  %s%s\n", PQgetvalue(res, row, 0),
                PQgetvalue(res, row, 1), PQgetvalue(res, row, 2), PQgetvalue(res, row, 3),
                PQgetvalue(res, row, 4), PQgetvalue(res, row, 5),
                PQgetvalue(res, row, 6)[0] == 't' ? " [replayed]" : "");
    fprintf(out, "%d message(s)\n", PQntuples(res));
    PQclear(res);
    return 0;
}

static uint8_t *lt_q_bytes(PGresult *res, int row, int col, size_t *len)
{
    if (PQgetisnull(res, row, col)) {
        *len = 0;
        return NULL;
    }
    return PQunescapeBytea((const unsigned char *)PQgetvalue(res, row, col), len);
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
            json_t *first = lt_pb_to_json(&batch->events[0]->base);
            char *text = json_dumps(first, JSON_INDENT(2));
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
    PGresult *res = lt_q_select(pg,
                                "id, quarantined_at, coalesce(commune_code, '-'), topic,"
                                " partition, kafka_offset, reason_code, reason,"
                                " coalesce(replayed_at::text, 'no'), raw",
                                NULL, id);
    if (!res)
        return 1;
    if (PQntuples(res) != 1) {
        fprintf(stderr, "error: no quarantined message with id %" PRId64 "\n", id);
        PQclear(res);
        return 1;
    }
    fprintf(out,
            "id:          %s\nquarantined: %s\ncommune:     %s\nposition:    %s partition %s "
            "offset %s\nreason:      %s — %s\nreplayed:    %s\n",
            PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), PQgetvalue(res, 0, 2),
            PQgetvalue(res, 0, 3), PQgetvalue(res, 0, 4), PQgetvalue(res, 0, 5),
            PQgetvalue(res, 0, 6), PQgetvalue(res, 0, 7), PQgetvalue(res, 0, 8));
    size_t len;
    uint8_t *raw = lt_q_bytes(res, 0, 9, &len);
    fprintf(out, "size:        %zu bytes\n", len);
    lt_q_show_content(raw, len, out);
    PQfreemem(raw);
    PQclear(res);
    return 0;
}

/* The province code is part of the topic name: lt.<PP>.<CCCCC>.events. */
static int lt_q_province_of(const char *topic, char province[4])
{
    if (strncmp(topic, "lt.", 3) != 0 || strlen(topic) < 6 || topic[5] != '.')
        return -1;
    memcpy(province, topic + 3, 2);
    province[2] = '\0';
    return 0;
}

/* Replay one row. Returns 0 applied, 1 still invalid, 2 database error. */
static int lt_q_replay_row(PGconn *pg, const lt_units_t *units, PGresult *res, int row,
                           int allow_integrity_only, size_t max_message_bytes, FILE *out)
{
    char province[4], errstr[1024];
    const char *id = PQgetvalue(res, row, 0), *topic = PQgetvalue(res, row, 1);
    if (lt_q_province_of(topic, province) != 0) {
        fprintf(out, "%s: topic %s is not a lienthong events topic; left quarantined\n", id, topic);
        return 1;
    }
    size_t key_len, len;
    uint8_t *key = lt_q_bytes(res, row, 4, &key_len), *raw = lt_q_bytes(res, row, 5, &len);
    lt_msg_t msg = {.topic = topic, .partition = atoi(PQgetvalue(res, row, 2)),
                    .offset = strtoll(PQgetvalue(res, row, 3), NULL, 10), .key = key,
                    .key_len = key_len, .value = raw, .len = len};
    lt_apply_t apply;
    lt_apply_init(&apply, province, max_message_bytes, allow_integrity_only);
    int rc = 2;
    apply.units = units;
    if (lt_apply_load(&apply, pg, errstr, sizeof(errstr)) != LT_PG_OK)
        goto done;
    apply.replay = 1;
    apply.replay_quarantine_id = strtoll(id, NULL, 10);
    lt_apply_plan(&apply, &msg, 1);
    if (apply.replay_reason_code[0]) {
        fprintf(out, "%s: still invalid (%s: %s); left quarantined\n", id,
                apply.replay_reason_code, apply.replay_reason);
        rc = 1;
        goto done;
    }
    size_t staged = apply.plan_rows;
    if (lt_apply_commit(&apply, pg, errstr, sizeof(errstr)) != LT_PG_OK)
        goto done;
    fprintf(out, "%s: replayed; %zu event(s) checked, those not yet in the event log applied\n",
            id, staged);
    rc = 0;
done:
    if (rc == 2)
        fprintf(stderr, "error: replay of %s: %s\n", id, errstr);
    lt_apply_destroy(&apply);
    PQfreemem(key);
    PQfreemem(raw);
    return rc;
}

int lt_quarantine_replay(PGconn *pg, int64_t id, const lt_quarantine_filter_t *filter,
                         int allow_integrity_only, size_t max_message_bytes, FILE *out)
{
    lt_quarantine_filter_t unreplayed = filter ? *filter : (lt_quarantine_filter_t){0};
    unreplayed.include_replayed = 0;
    PGresult *res = lt_q_select(pg, "id, topic, partition, kafka_offset, message_key, raw",
                                &unreplayed, id);
    if (!res)
        return 2;
    if (PQntuples(res) == 0 && id)
        fprintf(out, "no quarantined message %" PRId64 " awaiting replay\n", id);
    else if (PQntuples(res) == 0)
        fprintf(out, "nothing awaits replay\n");
    char errstr[512];
    lt_units_t *units = PQntuples(res) ? lt_units_open(NULL, errstr, sizeof(errstr)) : NULL;
    int worst = PQntuples(res) && !units ? 2 : 0;
    if (worst)
        fprintf(stderr, "error: %s\n", errstr);
    for (int row = 0; row < PQntuples(res) && worst < 2; row++) {
        int rc = lt_q_replay_row(pg, units, res, row, allow_integrity_only, max_message_bytes,
                                 out);
        worst = rc > worst ? rc : worst;
    }
    lt_units_destroy(units);
    PQclear(res);
    return worst;
}
