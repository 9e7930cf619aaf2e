/* lt_quarantine — looking at and replaying messages the sink quarantined.
 *
 * Replay takes the sink's path from a quarantine row instead of Kafka: the
 * envelope opened with the key registered now, the plan (in replay mode, with
 * the rules in force now), and the store's commit, in one transaction that
 * also marks the row replayed. Events the event log already holds are
 * skipped, so a message replayed twice, or one whose events arrived again
 * later, is never applied twice. */
#ifndef LT_QUARANTINE_H
#define LT_QUARANTINE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <libpq-fe.h>

#include "lt_store.h" /* lt_quarantine_filter_t */

/* Print a table of quarantined messages. Returns 0 or 1 (error printed). */
int lt_quarantine_list(PGconn *pg, const lt_quarantine_filter_t *filter, FILE *out);

/* Print one message: reason, position, and as much of its content as decodes. */
int lt_quarantine_show(PGconn *pg, int64_t id, FILE *out);

/* Replay one message (id > 0) or every unreplayed one matching filter (id 0).
 * Returns 0 if every replayed message applied, 1 if some are still invalid,
 * 2 on a database error. */
int lt_quarantine_replay(PGconn *pg, int64_t id, const lt_quarantine_filter_t *filter,
                         int allow_integrity_only, size_t max_message_bytes, FILE *out);

#endif
