/* lt_status — `lienthong-sink status`: per commune, what the province applied
 * (PostgreSQL) against what waits in Kafka, and whether a sink consumes it. */
#ifndef LT_STATUS_H
#define LT_STATUS_H

#include <jansson.h>

#include "lt_conf.h"
#include "lt_sink.h"

/* Exit statuses of `status`. A problem found outranks "cannot tell": it is
 * certain, and it is what an operator must act on. */
enum {
    LT_STATUS_EXIT_OK = 0,          /* every commune is consumed; every number known */
    LT_STATUS_EXIT_CANNOT_TELL = 1, /* PostgreSQL or Kafka did not answer (in time) */
    LT_STATUS_EXIT_USAGE = 2,       /* bad arguments or configuration */
    LT_STATUS_EXIT_PROBLEM = 3,     /* a commune is unassigned, has no topic, or no sink runs */
};

/* Kafka's whole share of `status` (every question together) must end within this. */
#define LT_STATUS_TIMEOUT_MS_DEFAULT 5000

/* Print the report on stdout (one JSON document when json != 0) and verdicts
 * on stderr. Kafka is given timeout_ms in all. Returns an LT_STATUS_EXIT_*. */
int lt_status_run(const lt_conf_t *conf, const lt_sink_conf_t *sc, int json, int timeout_ms);

/* The report as the JSON document `status --json` prints (with its
 * "exit_status"), or {"province", "error", "exit_status": 1} when the
 * province database did not answer. The caller json_decrefs it. Gathers on
 * its own connections: safe on another thread than the daemon's. */
json_t *lt_status_document(const lt_conf_t *conf, const lt_sink_conf_t *sc, int timeout_ms);

/* `status [--json] [--timeout SECONDS] [--watch [S]]`: argv[0] is "status". */
int lt_status_command(const lt_conf_t *conf, const lt_sink_conf_t *sc, int argc, char **argv);

#endif
