/* timegm() */
#define _DEFAULT_SOURCE
#include "lt_import.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "lt_buf.h"
#include "lt_event.h"
#include "lt_json_pb.h"
#include "lt_outbox.h"
#include "lt_pg.h"
#include "lt_util.h"

/* A row waiting for the next insert; its strings are owned. */
typedef struct lt_import_row {
    char *entity_type, *entity_id, *payload_json;
    const char *op; /* a literal */
    uint64_t version;
    int64_t occurred_at_us;
} lt_import_row_t;

typedef struct lt_import {
    PGconn *pg;
    const lt_import_opts_t *opts;
    lt_import_stats_t *stats;
    FILE *fp;
    long file_size;
    lt_import_row_t *rows; /* the pending chunk */
    int pending, rows_cap;
    int64_t start_ms, drawn_ms;
    char **header; /* CSV field paths */
    size_t n_header;
    char errstr[1024];
} lt_import_t;

/* ------------------------------------------------------------- reporting */

static void lt_import_draw(lt_import_t *imp, int final)
{
    int64_t now = lt_monotonic_ms();
    if (!imp->opts->progress || (!final && now - imp->drawn_ms < 200))
        return;
    imp->drawn_ms = now;
    double secs = (double)(now - imp->start_ms) / 1000.0;
    double rate = secs > 0 ? (double)imp->stats->rows / secs : 0;
    long pos = ftell(imp->fp);
    double done = imp->file_size > 0 && pos >= 0 ? (double)pos / (double)imp->file_size : 0;
    long eta = done > 0.01 ? (long)(secs / done - secs) : -1;
    char eta_text[32] = "--:--";
    if (eta >= 0)
        snprintf(eta_text, sizeof(eta_text), "%ld:%02ld", eta / 60, eta % 60);
    fprintf(stderr, "\r  %10" PRIu64 " rows  %8.0f rows/s  %3.0f%%  ETA %s  bad %" PRIu64 "   %s",
            imp->stats->rows, rate, done * 100, eta_text, imp->stats->bad, final ? "\n" : "");
}

static void lt_import_bad(lt_import_t *imp, long line, const char *field, const char *reason,
                          const char *raw)
{
    imp->stats->bad++;
    if ((long)imp->stats->bad <= imp->opts->max_reported) {
        if (imp->opts->progress)
            fprintf(stderr, "\r\033[K");
        fprintf(stderr, "%s:%ld: %s%s%s\n", imp->opts->path, line, field ? field : "",
                field ? ": " : "", reason);
    }
    if (imp->opts->rejects) {
        json_t *rej = json_pack("{s:I, s:s, s:s, s:s}", "line", (json_int_t)line, "field",
                                field ? field : "", "reason", reason, "row", raw ? raw : "");
        if (rej) {
            json_dumpf(rej, imp->opts->rejects, JSON_COMPACT);
            fputc('\n', imp->opts->rejects);
            json_decref(rej);
        }
    }
}

/* ------------------------------------------------------------ the outbox */

static void lt_import_forget_pending(lt_import_t *imp)
{
    for (int i = 0; i < imp->pending; i++) {
        lt_import_row_t *r = &imp->rows[i];
        free(r->entity_type);
        free(r->entity_id);
        free(r->payload_json);
    }
    imp->pending = 0;
}

static int lt_import_flush(lt_import_t *imp)
{
    if (!imp->pending)
        return 0;
    lt_outbox_row_t *rows = calloc((size_t)imp->pending, sizeof(*rows));
    if (!rows)
        abort();
    for (int i = 0; i < imp->pending; i++) {
        const lt_import_row_t *r = &imp->rows[i];
        rows[i] = (lt_outbox_row_t){r->entity_type, r->entity_id, r->version, r->op,
                                    r->occurred_at_us, r->payload_json};
    }
    uint64_t inserted;
    lt_pg_rc_t rc = lt_outbox_import_rows(imp->pg, rows, (size_t)imp->pending, &inserted,
                                          imp->errstr, sizeof(imp->errstr));
    free(rows);
    if (rc != LT_PG_OK)
        return -1;
    imp->stats->inserted += inserted;
    imp->stats->present += (uint64_t)imp->pending - inserted;
    lt_import_forget_pending(imp);
    return 0;
}

static int lt_import_queue(lt_import_t *imp, const char *type, const char *id, uint64_t version,
                           const char *op, int64_t occurred_us, const char *payload)
{
    if (imp->pending >= imp->rows_cap) {
        imp->rows_cap = imp->rows_cap ? imp->rows_cap * 2 : 256;
        imp->rows = realloc(imp->rows, (size_t)imp->rows_cap * sizeof(*imp->rows));
        if (!imp->rows)
            abort();
    }
    imp->rows[imp->pending++] = (lt_import_row_t){
        .entity_type = strdup(type),
        .entity_id = strdup(id),
        .version = version,
        .op = strcmp(op, "delete") == 0 ? "delete" : "upsert",
        .occurred_at_us = occurred_us,
        .payload_json = payload ? strdup(payload) : NULL,
    };
    return imp->pending >= imp->opts->chunk_rows ? lt_import_flush(imp) : 0;
}

/* ----------------------------------------------------------- row checks */

/* "2025-06-30", "2025-06-30T09:15", "2025-06-30T09:15:00.5+07:00", "...Z". */
static int lt_import_parse_time(const char *s, int64_t *us)
{
    struct tm tm = {0};
    int n = 0, frac_digits = 0;
    long frac = 0;
    if (sscanf(s, "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &n) != 3 || n != 10)
        return -1;
    const char *p = s + 10;
    if (*p == 'T' || *p == ' ') {
        int m = 0;
        if (sscanf(p + 1, "%2d:%2d%n", &tm.tm_hour, &tm.tm_min, &m) != 2 || m != 5)
            return -1;
        p += 6;
        if (*p == ':' && isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2])) {
            tm.tm_sec = (p[1] - '0') * 10 + (p[2] - '0');
            p += 3;
            if (*p == '.')
                for (p++; isdigit((unsigned char)*p); p++)
                    if (frac_digits++ < 6)
                        frac = frac * 10 + (*p - '0');
        }
    }
    while (frac_digits < 6 && frac_digits > 0)
        frac *= 10, frac_digits++;
    long offset = 0;
    if (*p == '+' || *p == '-') {
        int oh, om;
        if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2 || strlen(p) != 6)
            return -1;
        offset = (oh * 3600L + om * 60L) * (*p == '-' ? -1 : 1);
    } else if (*p == 'Z' && p[1] == '\0') {
        offset = 0;
    } else if (*p != '\0') {
        return -1;
    } else {
        offset = 7 * 3600; /* no zone given: Vietnam's local time, UTC+7 */
    }
    int month = tm.tm_mon, day = tm.tm_mday;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    if (month < 1 || month > 12 || day < 1 || day > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
        tm.tm_sec > 60)
        return -1;
    time_t t = timegm(&tm);
    struct tm back;
    gmtime_r(&t, &back);
    if (back.tm_mday != day) /* 2025-02-30 rolled over */
        return -1;
    *us = ((int64_t)t - offset) * 1000000 + frac;
    return 0;
}

static const char *lt_import_str(json_t *row, const char *camel, const char *snake)
{
    json_t *v = json_object_get(row, camel);
    if (!v)
        v = json_object_get(row, snake);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int lt_import_version(json_t *row, uint64_t *version)
{
    json_t *v = json_object_get(row, "version");
    if (json_is_integer(v) && json_integer_value(v) > 0) {
        *version = (uint64_t)json_integer_value(v);
        return 0;
    }
    char *end;
    if (json_is_string(v) && lt_is_digits(json_string_value(v), strlen(json_string_value(v)))) {
        *version = strtoull(json_string_value(v), &end, 10);
        return *version > 0 ? 0 : -1;
    }
    return -1;
}

/* The top-level fields of an import row: its JSON name and, where it differs,
 * its outbox column name. Any other name is refused: its data would be lost. */
typedef struct lt_import_field {
    const char *name, *column;
} lt_import_field_t;

static const lt_import_field_t lt_import_fields[] = {
    {"entityType", "entity_type"}, {"entityId", "entity_id"},     {"version", NULL},
    {"op", NULL},                  {"occurredAt", "occurred_at"}, {"payload", NULL},
};

#define LT_IMPORT_FIELD_LIST "entityType, entityId, version, op, occurredAt and payload"

static const lt_import_field_t *lt_import_field_named(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof(lt_import_fields) / sizeof(*lt_import_fields); i++) {
        const lt_import_field_t *f = &lt_import_fields[i];
        if ((strlen(f->name) == len && !strncmp(name, f->name, len)) ||
            (f->column && strlen(f->column) == len && !strncmp(name, f->column, len)))
            return f;
    }
    return NULL;
}

/* A name from the file, safe to print: control characters become '?', and a
 * long one is cut (at a character boundary) with "...". */
static const char *lt_import_excerpt(const char *s, char *out, size_t size)
{
    size_t len = strlen(s), n = len < size - 4 ? len : size - 4;
    while (n < len && n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
        n--;
    for (size_t i = 0; i < n; i++)
        out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7F ? '?' : s[i];
    strcpy(out + n, n < len ? "..." : "");
    return out;
}

/* The first top-level name of row that is not a field of an import row, or
 * that gives a field a second time under its column name; NULL if none. why
 * gets the reason. */
static const char *lt_import_bad_name(json_t *row, char *why, size_t why_size)
{
    const char *key;
    json_t *value;
    json_object_foreach(row, key, value) {
        const lt_import_field_t *f = lt_import_field_named(key, strlen(key));
        if (!f) {
            lt_strlcpy(why, "unknown field: an import row has " LT_IMPORT_FIELD_LIST,
                       why_size);
            return key;
        }
        if (f->column && !strcmp(key, f->column) && json_object_get(row, f->name)) {
            snprintf(why, why_size, "field given twice, as %s and as %s", f->name,
                     f->column);
            return key;
        }
    }
    return NULL;
}

/* Check one row like the agent will, and queue it. Returns -1 only on a
 * database error; a bad row is reported and counted. */
static int lt_import_row(lt_import_t *imp, json_t *row, long line, const char *raw)
{
    const char *type = lt_import_str(row, "entityType", "entity_type");
    const char *id = lt_import_str(row, "entityId", "entity_id");
    const char *op = lt_import_str(row, "op", "op");
    const char *occurred = lt_import_str(row, "occurredAt", "occurred_at");
    uint64_t version;
    int64_t occurred_us;
    op = op ? op : "upsert";
    imp->stats->rows++;
    if (!json_is_object(row))
        return lt_import_bad(imp, line, NULL, "not a JSON object", raw), 0;
    char why[160], name[80];
    const char *bad_name = lt_import_bad_name(row, why, sizeof(why));
    if (bad_name)
        return lt_import_bad(imp, line, lt_import_excerpt(bad_name, name, sizeof(name)),
                             why, raw), 0;
    if (!type || (strcmp(type, "civil_record") && strcmp(type, "dossier")))
        return lt_import_bad(imp, line, "entityType", "must be \"civil_record\" or \"dossier\"", raw), 0;
    if (!id || !id[0] || strlen(id) > 128)
        return lt_import_bad(imp, line, "entityId", "must be 1 to 128 characters", raw), 0;
    if (lt_import_version(row, &version) != 0)
        return lt_import_bad(imp, line, "version", "must be a positive integer", raw), 0;
    if (strcmp(op, "upsert") && strcmp(op, "delete"))
        return lt_import_bad(imp, line, "op", "must be \"upsert\" or \"delete\"", raw), 0;
    if (!occurred || lt_import_parse_time(occurred, &occurred_us) != 0)
        return lt_import_bad(imp, line, "occurredAt",
                             "must be a date or time like 2025-06-30T09:15:00+07:00", raw), 0;
    json_t *payload = json_object_get(row, "payload");
    char *text = payload && !json_is_null(payload) ? json_dumps(payload, JSON_COMPACT) : NULL;
    if (!strcmp(op, "delete") && text) {
        free(text);
        return lt_import_bad(imp, line, "payload", "a delete carries no payload", raw), 0;
    }
    char reason[1024];
    Lienthong__V1__Event *ev = lt_outbox_make_event(type, id, version, op, occurred_us,
                                                    lt_now_us(), text, reason, sizeof(reason));
    int rc = 0;
    lt_validate_result_t vr;
    if (ev && imp->opts->vctx && lt_validate_event(imp->opts->vctx, ev, &vr) != LT_RULE_OK) {
        snprintf(reason, sizeof(reason), "%s (%s)", vr.text, lt_rule_code_name(vr.code));
        protobuf_c_message_free_unpacked(&ev->base, NULL);
        ev = NULL;
    }
    if (!ev) {
        lt_import_bad(imp, line, NULL, reason, raw);
    } else {
        /* Store the canonical form: CSV cells arrive as strings, numbers as text. */
        const ProtobufCMessage *pb = lt_event_payload(ev);
        lt_buf_t canon = {0};
        if (pb)
            lt_pb_write_json(pb, &canon);
        rc = lt_import_queue(imp, type, id, version, op, occurred_us,
                             pb ? lt_buf_cstr(&canon) : NULL);
        lt_buf_free(&canon);
    }
    if (ev)
        protobuf_c_message_free_unpacked(&ev->base, NULL);
    free(text);
    return rc;
}

/* ----------------------------------------------------------------- NDJSON */

static int lt_import_ndjson(lt_import_t *imp)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long lineno = 0;
    int rc = 0;
    while (rc == 0 && (len = getline(&line, &cap, imp->fp)) >= 0 && !lt_stop_requested) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (len == 0)
            continue;
        json_error_t jerr;
        json_t *row = json_loadb(line, (size_t)len, JSON_REJECT_DUPLICATES, &jerr);
        if (!row) {
            char reason[256];
            snprintf(reason, sizeof(reason), "not valid JSON at column %d: %s", jerr.column,
                     jerr.text);
            imp->stats->rows++;
            lt_import_bad(imp, lineno, NULL, reason, line);
        } else {
            rc = lt_import_row(imp, row, lineno, line);
            json_decref(row);
        }
        lt_import_draw(imp, 0);
    }
    free(line);
    return rc;
}

/* -------------------------------------------------------------------- CSV */

/* Read one RFC 4180 record into fields. Returns the field count, 0 at EOF,
 * -1 on an unterminated quote. *lines gets the physical lines consumed. */
static int lt_csv_record(FILE *fp, lt_buf_t *raw, char ***fields, size_t *cap, long *lines)
{
    lt_buf_reset(raw);
    int c, quoted = 0, n = 0, at_start = 1;
    *lines = 0;
    lt_buf_t cell = {0};
    while ((c = fgetc(fp)) != EOF) {
        char ch = (char)c;
        if (c != '\n' || quoted)
            lt_buf_append(raw, &ch, 1); /* the record as written, for reports */
        if (at_start && c == '"' && cell.len == 0) {
            quoted = 1;
            at_start = 0;
            continue;
        }
        at_start = 0;
        if (quoted && c == '"') {
            int next = fgetc(fp);
            if (next == '"') {
                lt_buf_append(&cell, "\"", 1);
                continue;
            }
            quoted = 0;
            if (next == EOF)
                break;
            c = next;
        }
        if (!quoted && (c == ',' || c == '\n')) {
            if ((size_t)n >= *cap) {
                *cap = *cap ? *cap * 2 : 32;
                *fields = realloc(*fields, *cap * sizeof(**fields));
            }
            size_t len = cell.len;
            if (len && cell.data[len - 1] == '\r' && c == '\n')
                len--;
            (*fields)[n] = strndup(len ? cell.data : "", len);
            n++;
            lt_buf_reset(&cell);
            at_start = 1;
            if (c == '\n') {
                (*lines)++;
                lt_buf_free(&cell);
                return n;
            }
            continue;
        }
        if (c == '\n')
            (*lines)++;
        ch = (char)c;
        lt_buf_append(&cell, &ch, 1);
    }
    if (quoted) {
        lt_buf_free(&cell);
        return -1;
    }
    if (n == 0 && cell.len == 0) {
        lt_buf_free(&cell);
        return 0;
    }
    if ((size_t)n >= *cap) {
        *cap = *cap ? *cap * 2 : 32;
        *fields = realloc(*fields, *cap * sizeof(**fields));
    }
    (*fields)[n++] = strndup(cell.len ? cell.data : "", cell.len);
    (*lines)++;
    lt_buf_free(&cell);
    return n;
}

/* Put child at key seg of node: an object key, or an array index (the array
 * grows with nulls up to it). Steals child. Returns child, or NULL. */
static json_t *lt_csv_put(json_t *node, const char *seg, json_t *child)
{
    if (!lt_is_digits(seg, strlen(seg)) || !strlen(seg))
        return json_is_object(node) && json_object_set_new(node, seg, child) == 0 ? child : NULL;
    size_t index = (size_t)atoi(seg);
    if (!json_is_array(node) || index > 10000) {
        json_decref(child);
        return NULL;
    }
    while (json_array_size(node) < index)
        json_array_append_new(node, json_null());
    int rc = index < json_array_size(node) ? json_array_set_new(node, index, child)
                                           : json_array_append_new(node, child);
    return rc == 0 ? child : NULL;
}

static json_t *lt_csv_get(json_t *node, const char *seg)
{
    if (lt_is_digits(seg, strlen(seg)) && strlen(seg))
        return json_array_get(node, (size_t)atoi(seg));
    return json_object_get(node, seg);
}

/* Set value at a dotted path ("payload.history.0.status") inside root. */
static int lt_csv_set_path(json_t *root, const char *path, const char *value)
{
    char buf[512];
    lt_strlcpy(buf, path, sizeof(buf));
    json_t *node = root;
    char *save = NULL, *seg = strtok_r(buf, ".", &save);
    while (seg) {
        char *next = strtok_r(NULL, ".", &save);
        if (!next)
            return lt_csv_put(node, seg, json_string(value)) ? 0 : -1;
        json_t *child = lt_csv_get(node, seg);
        if (!child || json_is_null(child)) {
            int next_is_index = lt_is_digits(next, strlen(next));
            child = lt_csv_put(node, seg, next_is_index ? json_array() : json_object());
            if (!child)
                return -1;
        }
        node = child;
        seg = next;
    }
    return 0;
}

static void lt_csv_free_fields(char **fields, int n)
{
    for (int i = 0; i < n; i++)
        free(fields[i]);
}

/* The import row field a column path starts with ("payload" for
 * "payload.birth.child.name.full"), or NULL. */
static const lt_import_field_t *lt_csv_column_field(const char *path)
{
    return lt_import_field_named(path, strcspn(path, "."));
}

static int lt_csv_header_error(lt_import_t *imp, size_t column, const char *problem)
{
    char name[80];
    return lt_err(imp->errstr, sizeof(imp->errstr),
                  "%s:1: column %zu \"%s\" %s; nothing was imported", imp->opts->path,
                  column + 1, lt_import_excerpt(imp->header[column], name, sizeof(name)),
                  problem);
}

/* Every column of the header names a field of an import row, once. An unknown
 * column (one renamed to "colour") or a repeated one would lose its data on
 * every row, so the whole file is refused before a row is read: the person
 * fixes the header once instead of reading a reject for every row. */
static int lt_csv_check_header(lt_import_t *imp)
{
    for (size_t i = 0; i < imp->n_header; i++) {
        const lt_import_field_t *field = lt_csv_column_field(imp->header[i]);
        if (!field)
            return lt_csv_header_error(
                imp, i,
                "is not a field of an import row: the header names " LT_IMPORT_FIELD_LIST
                " (payload as paths such as payload.birth.child.name.full)");
        for (size_t j = 0; j < i; j++) {
            int same_path = !strcmp(imp->header[i], imp->header[j]);
            int same_field = strcmp(field->name, "payload") != 0 &&
                             lt_csv_column_field(imp->header[j]) == field;
            if (same_path || same_field) {
                char problem[64];
                snprintf(problem, sizeof(problem), "gives the same field as column %zu",
                         j + 1);
                return lt_csv_header_error(imp, i, problem);
            }
        }
    }
    return 0;
}

static int lt_import_csv(lt_import_t *imp)
{
    char **fields = NULL;
    size_t cap = 0;
    long lines, lineno = 1;
    lt_buf_t raw = {0};
    int n = lt_csv_record(imp->fp, &raw, &fields, &cap, &lines), rc = 0;
    if (n <= 0) {
        lt_err(imp->errstr, sizeof(imp->errstr), "%s:1: expected a header row of field paths",
               imp->opts->path);
        free(fields);
        lt_buf_free(&raw);
        return -1;
    }
    imp->header = fields;
    imp->n_header = (size_t)n;
    fields = NULL;
    cap = 0;
    lineno += lines;
    if (lt_csv_check_header(imp) != 0) {
        lt_buf_free(&raw);
        return -1;
    }
    while (rc == 0 && !lt_stop_requested) {
        long start = lineno;
        n = lt_csv_record(imp->fp, &raw, &fields, &cap, &lines);
        lineno += lines;
        if (n == 0)
            break;
        if (n < 0) {
            imp->stats->rows++;
            lt_import_bad(imp, start, NULL, "unterminated quoted field", lt_buf_cstr(&raw));
            break;
        }
        if (n == 1 && fields[0][0] == '\0') {
            lt_csv_free_fields(fields, n);
            continue; /* blank line */
        }
        if ((size_t)n != imp->n_header) {
            char reason[128];
            snprintf(reason, sizeof(reason), "%d fields where the header has %zu", n,
                     imp->n_header);
            imp->stats->rows++;
            lt_import_bad(imp, start, NULL, reason, lt_buf_cstr(&raw));
        } else {
            json_t *row = json_object();
            int bad_col = -1;
            for (int i = 0; i < n && bad_col < 0; i++)
                if (fields[i][0] && lt_csv_set_path(row, imp->header[i], fields[i]) != 0)
                    bad_col = i;
            if (bad_col >= 0) {
                imp->stats->rows++;
                lt_import_bad(imp, start, imp->header[bad_col],
                              "this column's path clashes with another column's", lt_buf_cstr(&raw));
            } else {
                rc = lt_import_row(imp, row, start, lt_buf_cstr(&raw));
            }
            json_decref(row);
        }
        lt_csv_free_fields(fields, n);
        lt_import_draw(imp, 0);
    }
    free(fields);
    lt_buf_free(&raw);
    return rc;
}

/* --------------------------------------------------------------- the file */

static lt_import_format_t lt_import_guess(const char *path)
{
    const char *dot = strrchr(path, '.');
    return dot && !strcmp(dot, ".csv") ? LT_IMPORT_CSV : LT_IMPORT_NDJSON;
}

int lt_import_file(PGconn *pg, const lt_import_opts_t *opts, lt_import_stats_t *stats,
                   char *errstr, size_t errstr_size)
{
    lt_import_t imp = {.pg = pg, .opts = opts, .stats = stats};
    memset(stats, 0, sizeof(*stats));
    imp.fp = fopen(opts->path, "rb");
    if (!imp.fp)
        return lt_err(errstr, errstr_size, "%s: %s", opts->path, strerror(errno));
    if (fseek(imp.fp, 0, SEEK_END) == 0)
        imp.file_size = ftell(imp.fp);
    rewind(imp.fp);
    imp.start_ms = lt_monotonic_ms();
    lt_import_format_t format = opts->format ? opts->format : lt_import_guess(opts->path);
    int rc = format == LT_IMPORT_CSV ? lt_import_csv(&imp) : lt_import_ndjson(&imp);
    if (rc == 0)
        rc = lt_import_flush(&imp);
    lt_import_draw(&imp, 1);
    stats->seconds = (double)(lt_monotonic_ms() - imp.start_ms) / 1000.0;
    if (rc != 0)
        lt_err(errstr, errstr_size, "%s", imp.errstr);
    if (imp.header) {
        lt_csv_free_fields(imp.header, (int)imp.n_header);
        free(imp.header);
    }
    lt_import_forget_pending(&imp);
    free(imp.rows);
    fclose(imp.fp);
    return rc;
}
