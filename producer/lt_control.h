/* lt_control — the agent's reader of its control topic,
 * lt.<province>.<commune>.control, where the province asks for states again.
 *
 * A plain consumer assigned to partition 0 from the offset the commune
 * database holds (no consumer group): each message is decoded and checked,
 * and a valid request is recorded together with the next offset in one
 * statement (lt_outbox_resync_accept), so every request is taken exactly
 * once, across restarts. A message that is not a valid request is logged
 * and skipped. */
#ifndef LT_CONTROL_H
#define LT_CONTROL_H

#include <stdint.h>

#include <libpq-fe.h>

#include "lt_conf.h"
#include "lt_pg.h"

typedef struct lt_control lt_control_t;

/* A reader for commune's control topic from start_offset. NULL with errstr. */
lt_control_t *lt_control_new(const lt_conf_t *conf, const char *province, const char *commune,
                             int64_t start_offset, char *errstr, size_t errstr_size);
void lt_control_destroy(lt_control_t *ctl); /* NULL is fine */

/* Take what arrived, without waiting: record each request in pg. Returns
 * LT_PG_OK (also when nothing arrived), or the database's error: the
 * message is then read again at the next call. *taken counts requests. */
lt_pg_rc_t lt_control_poll(lt_control_t *ctl, PGconn *pg, int *taken, char *errstr,
                           size_t errstr_size);

#endif
