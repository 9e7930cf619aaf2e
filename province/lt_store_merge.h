/* lt_store_merge — the province side of an administrative merger: the
 * statements that check old communes can be retired and then move their
 * records to the new commune in one transaction (part of the store: every
 * statement on the province schema lives under province/).
 *
 * After the merger the new commune owns the records (its agent sends their
 * later changes; newest version wins wherever two communes held one record),
 * the new commune's digest covers them, and the old communes are retired:
 * their history stays, their progress is final, and a running sink is told
 * to quarantine whatever their topics still bring. */
#ifndef LT_STORE_MERGE_H
#define LT_STORE_MERGE_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "lt_pg.h"

/* What the province knows of a commune about to be merged or merged into. */
typedef struct lt_store_merge_unit {
    int registered;        /* 0: not registered here (the rest is empty) */
    char province[4];      /* its province */
    char name[160];        /* as provisioned */
    char merged_into[8];   /* "" unless already retired */
    int64_t last_seq;      /* the last sequence applied */
    int64_t entities;      /* records held for it */
    int64_t open_gaps;     /* sequence gaps not filled */
    int64_t backlog;       /* rows its last heartbeat had not yet in Kafka, less what
                              was applied since; -1 no heartbeat */
    int64_t resync_open;   /* resync requests still answering */
    int64_t quarantined;   /* messages quarantined and not replayed */
} lt_store_merge_unit_t;

lt_pg_rc_t lt_store_merge_inspect(PGconn *pg, const char *code, lt_store_merge_unit_t *out,
                                  char *errstr, size_t errstr_size);

/* One old commune of a merger, and what moving it did. */
typedef struct lt_store_merge_source {
    const char *code;
    int partial;         /* the mapping says only part of it went into the new one */
    int64_t moved;       /* records now the new commune's */
    int64_t superseded;  /* records both held: the older copy dropped */
} lt_store_merge_source_t;

/* Retire every source into new_code and move their records, in one
 * transaction; fills moved and superseded. The sources and new_code must
 * have passed lt_store_merge_inspect (checked again under lock: a commune
 * merged meanwhile fails with errstr). */
lt_pg_rc_t lt_store_merge_apply(PGconn *pg, const char *new_code,
                                lt_store_merge_source_t *sources, size_t n, char *errstr,
                                size_t errstr_size);

#endif
