/* lt_committer — commits a round's plan on a thread of its own, so the sink
 * decodes, verifies and plans the next round meanwhile: with a backlog both
 * the sink and its PostgreSQL backend stay busy.
 *
 * One round at a time, on a connection the committer is given and that
 * nothing else uses while a round is in flight. Its result is read with
 * lt_committer_wait; everything done with it (promoting the plan, Kafka
 * offsets, retries) stays on the sink's thread. */
#ifndef LT_COMMITTER_H
#define LT_COMMITTER_H

#include <stddef.h>

#include <libpq-fe.h>

#include "lt_pg.h"

struct lt_plan;

typedef struct lt_committer lt_committer_t;

/* NULL when no thread can be started. */
lt_committer_t *lt_committer_new(void);
void lt_committer_destroy(lt_committer_t *c); /* waits for a round in flight; NULL allowed */

/* Commit plan (lt_store_commit) on pg, on the committer's thread; plan and pg
 * are the committer's until lt_committer_wait returns. One round at a time. */
void lt_committer_start(lt_committer_t *c, PGconn *pg, const struct lt_plan *plan);

/* Has the round in flight been committed or failed (or is none in flight)?
 * Never blocks. */
int lt_committer_finished(lt_committer_t *c);

/* Wait for the round in flight: its result, errstr filled when it failed. */
lt_pg_rc_t lt_committer_wait(lt_committer_t *c, char *errstr, size_t errstr_size);

#endif
