/* lt_verify — full comparison of one commune's state at both levels.
 *
 * The province can only hold what the commune has sent and the sink has
 * applied, so the comparison is made up to the province's last applied
 * sequence N:
 *  - events: the commune numbered exactly seq 1..N, and the province's event
 *    log holds each of them once;
 *  - entities: the province holds each entity as the commune held it after
 *    seq N: the commune's newest (version, content hash, deleted) when that
 *    version was numbered at or below N; otherwise the newest version the
 *    commune numbered at or below N (compared by version and deleted flag:
 *    the commune keeps the content hash of its newest version only), or no
 *    row at all when the entity began after N.
 * Events still at the commune (not yet sent, or sent and not yet applied) make
 * the result PENDING rather than EQUAL; any difference up to N is DIFFERENT.
 * It reads every row: the bucketed digests are the cheap check; this is the
 * proof. */
#ifndef LT_VERIFY_H
#define LT_VERIFY_H

#include <stdint.h>
#include <stdio.h>

#include <libpq-fe.h>

#include "lt_pg.h"

typedef enum {
    LT_VERIFY_EQUAL,     /* nothing pending, both levels hold the same */
    LT_VERIFY_PENDING,   /* equal up to seq N; events still on their way */
    LT_VERIFY_DIFFERENT, /* a difference up to seq N */
} lt_verify_verdict_t;

typedef struct lt_verify_report {
    uint64_t upto_seq;                        /* N: the province's last applied sequence */
    uint64_t commune_events, commune_max_seq; /* numbered at the commune */
    uint64_t commune_events_upto;             /* numbered at the commune with seq <= N */
    uint64_t commune_unsent;    /* not acknowledged by Kafka (numbered or not), not refused */
    uint64_t commune_unapplied; /* acknowledged by Kafka, seq > N: not yet applied */
    uint64_t province_events, province_max_seq;
    uint64_t commune_entities;  /* entities the province should hold after seq N */
    uint64_t province_entities;
    uint64_t equal, differing, only_commune, only_province;
} lt_verify_report_t;

/* Fill report; lt_verify_verdict() then says what it means. Up to 10
 * differing entities are listed on diff_out (may be NULL). */
lt_pg_rc_t lt_verify_commune(PGconn *commune_pg, PGconn *province_pg, const char *commune,
                             lt_verify_report_t *report, FILE *diff_out, char *errstr,
                             size_t errstr_size);

lt_verify_verdict_t lt_verify_verdict(const lt_verify_report_t *report);

#endif
