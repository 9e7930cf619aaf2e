/* lt_import — bulk intake of exports and typed-in paper records.
 *
 * Reads NDJSON (one object per line) or CSV (a header row of field paths),
 * checks every row exactly as the agent would before sending, writes the good
 * rows to the outbox in chunks and reports each bad row with its line number,
 * field and reason. A row is identified by (entity type, entity id, version):
 * importing the same file again adds nothing.
 *
 * Row shape (NDJSON; in CSV the same names are header columns, payload fields
 * as dotted paths such as payload.birth.child.name.full or payload.history.0.status):
 *   {"entityType": "civil_record", "entityId": "KS-2025-000123", "version": 1,
 *    "op": "upsert", "occurredAt": "2025-06-30T09:15:00+07:00", "payload": {...}}
 * entity_type, entity_id and occurred_at (the outbox column names) are accepted
 * too. Nothing is silently dropped: any other top-level name (an NDJSON
 * "comment") makes its row bad, like an unknown payload field; a CSV header
 * column that names no field (a column renamed to "colour") or repeats one
 * refuses the whole file before any row is read, since it would spoil every row.
 */
#ifndef LT_IMPORT_H
#define LT_IMPORT_H

#include <stdint.h>
#include <stdio.h>

#include <libpq-fe.h>

#include "lt_validate.h"

typedef enum { LT_IMPORT_AUTO = 0, LT_IMPORT_NDJSON, LT_IMPORT_CSV } lt_import_format_t;

typedef struct lt_import_opts {
    const char *path;
    lt_import_format_t format;
    int chunk_rows;      /* rows per outbox transaction */
    int progress;        /* draw a progress line on stderr */
    FILE *rejects;       /* if set, each bad row as an NDJSON line {line, field, reason, row} */
    long max_reported;   /* bad rows printed to stderr at most (all go to rejects) */
    const lt_validate_ctx_t *vctx; /* the rules rows must pass; NULL = type checks only */
} lt_import_opts_t;

typedef struct lt_import_stats {
    uint64_t rows;      /* data rows read */
    uint64_t inserted;  /* new outbox rows */
    uint64_t present;   /* already in the outbox (same entity and version) */
    uint64_t bad;       /* refused, with a reason */
    double seconds;
} lt_import_stats_t;

/* Import a file into the outbox of pg. Returns 0 when the file was read to
 * the end (bad rows included), -1 when it could not be (errstr says why, e.g.
 * "x.csv:1: column 7 "colour" is not a field of an import row: ..."). */
int lt_import_file(PGconn *pg, const lt_import_opts_t *opts, lt_import_stats_t *stats,
                   char *errstr, size_t errstr_size);

#endif
