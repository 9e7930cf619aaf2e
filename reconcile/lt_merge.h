/* lt_merge — `lienthong-reconcile merge`: an administrative merger at the
 * province. The old communes' records move to the new commune, which owns
 * them from then on; the old communes are retired (their agents must stop:
 * anything new on their topics is quarantined naming the merger).
 *
 * A merger only goes ahead when nothing of an old commune is still on its
 * way (no open gap, no backlog at its last heartbeat, no quarantined
 * message, no resync answering), unless forced: what is moved is then
 * everything the commune sent. */
#ifndef LT_MERGE_H
#define LT_MERGE_H

#include <stddef.h>
#include <stdio.h>

#include <libpq-fe.h>

#include "lt_units.h"

typedef struct lt_merge_request {
    const char *into;        /* the new commune, registered with its own key */
    const char *const *from; /* the old communes */
    size_t n_from;
    const char *const *partial; /* those of them only partly merged into `into` */
    size_t n_partial;
    int force;               /* merge although something may still be on its way */
    int dry_run;             /* check and say what would be done, change nothing */
} lt_merge_request_t;

/* Exit statuses. */
enum {
    LT_MERGE_DONE = 0,     /* merged (or, dry run, would merge) */
    LT_MERGE_REFUSED = 1,  /* a check failed or the database said no: nothing changed */
};

/* Check, then merge; a line per old commune and a summary go to out, the
 * reasons for a refusal to stderr. */
int lt_merge_run(PGconn *pg, const lt_merge_request_t *req, FILE *out);

/* Merge into req->into the old communes the 2025 mapping (units, with its
 * merges loaded) merged into it, those registered here; the mapping says
 * which only partly went there. req->from is ignored. */
int lt_merge_run_mapped(PGconn *pg, const lt_units_t *units, const lt_merge_request_t *req,
                        FILE *out);

#endif
