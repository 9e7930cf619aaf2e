/* lt_repair — ask communes to send again what the province lacks, and follow
 * the answer until the commune is consistent again.
 *
 * For each commune: the buckets its last digest comparison found different
 * and its open gaps become resync requests, recorded in the province
 * database and published on the commune's control topic. The agent answers
 * between its live batches; the sink applies the answers and compares the
 * digest that follows. Repair reports progress once a second and ends when
 * every request is answered, the gaps are closed and the digest compared
 * after them is equal — or when the time is up. */
#ifndef LT_REPAIR_H
#define LT_REPAIR_H

#include <stddef.h>
#include <stdio.h>

#include <libpq-fe.h>

#include "lt_conf.h"

/* Entities named for a repair, as "civil_record/ID" or "dossier/ID". */
typedef struct lt_repair_entities {
    const char *const *keys;
    size_t n;
} lt_repair_entities_t;

/* Exit statuses: 0 every commune repaired (or nothing to repair), 1 error,
 * 3 not converged within timeout_s. With named entities (one commune): only
 * their current states are asked for, and the ones the commune no longer
 * holds leave the province. */
int lt_repair_run(PGconn *pg, const lt_conf_t *conf, const char *commune, int all_buckets,
                  const lt_repair_entities_t *named, int timeout_s, FILE *out);

#endif
