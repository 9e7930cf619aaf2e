/* lt_confirm — the sink tells each commune, on its control topic, the
 * newest sequence the province's digest found equal with no gap open: the
 * commune may then purge its sent outbox rows up to there (retention),
 * keeping every entity's current state. A lost or late confirmation only
 * delays a purge; a repeated one changes nothing. */
#ifndef LT_CONFIRM_H
#define LT_CONFIRM_H

#include <libpq-fe.h>

#include "lt_conf.h"

typedef struct lt_confirm lt_confirm_t;

/* A confirmer publishing through the [kafka] section every interval_s
 * seconds (0: never, returns NULL without error). NULL with errstr. */
lt_confirm_t *lt_confirm_new(const lt_conf_kv_t *kafka, const char *province, long interval_s,
                             char *errstr, size_t errstr_size);
void lt_confirm_destroy(lt_confirm_t *cf); /* NULL allowed; waits up to 5 s for delivery */

/* When due: publish to each commune whose confirmable sequence moved. */
void lt_confirm_tick(lt_confirm_t *cf, PGconn *pg);

#endif
