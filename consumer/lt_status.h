/* lt_status — `lienthong-sink status`: per-commune progress, lag, gaps and
 * quarantine, read from the province database and Kafka. */
#ifndef LT_STATUS_H
#define LT_STATUS_H

#include "lt_conf.h"
#include "lt_sink.h"

/* Print the report on stdout (a JSON document when json != 0). Returns the
 * process exit status. */
int lt_status_run(const lt_conf_t *conf, const lt_sink_conf_t *sc, int json);

#endif
