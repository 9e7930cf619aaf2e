/* lt_verify — full comparison of one commune's state at both levels.
 *
 * Compares the commune's entity_state with the province's entity rows
 * (entity id, version, content hash, deleted) and the commune's numbered
 * events with the province's event log (count and highest sequence). It
 * reads every row: the bucketed digests are the cheap check; this is the
 * proof. */
#ifndef LT_VERIFY_H
#define LT_VERIFY_H

#include <stdint.h>
#include <stdio.h>

#include <libpq-fe.h>

#include "lt_pg.h"

typedef struct lt_verify_report {
    uint64_t commune_events, commune_max_seq, commune_unsent;
    uint64_t province_events, province_max_seq;
    uint64_t commune_entities, province_entities;
    uint64_t equal, differing, only_commune, only_province;
} lt_verify_report_t;

/* Fill report; the commune is equal at both levels when lt_verify_equal() says so. */
lt_pg_rc_t lt_verify_commune(PGconn *commune_pg, PGconn *province_pg, const char *commune,
                             lt_verify_report_t *report, FILE *diff_out, char *errstr,
                             size_t errstr_size);

int lt_verify_equal(const lt_verify_report_t *report);

#endif
