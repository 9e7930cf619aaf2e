/* lt_http — a daemon's HTTP port (libmicrohttpd, one internal thread):
 * /metrics, /healthz, /readyz, and whatever else a program registers.
 *
 *     lt_http_t *http = lt_http_new("sink");
 *     lt_http_serve_metrics(http, metrics);
 *     lt_http_serve_health(http, loop_age, 60);      // /healthz
 *     lt_http_ready_when(http, "database", db_up);   // /readyz: every condition
 *     lt_http_ready_when(http, "kafka", kafka_up);
 *     lt_http_route(http, "/status.json", my_handler, my_state);
 *     if (lt_http_start(http, "127.0.0.1:9465", errstr, sizeof(errstr)) != 0) ...
 *
 * Routes are exact paths, registered before lt_http_start; the table does
 * not change afterwards. Only GET and HEAD are answered (405 otherwise),
 * an unknown path gets 404. A handler runs on the HTTP thread, never on the
 * daemon's: it reads only what is safe to read from there — the metrics
 * (lt_series_value), or a snapshot the daemon publishes under its own
 * mutex — and never blocks on the daemon. Every response carries
 * "Cache-Control: no-store". */
#ifndef LT_HTTP_H
#define LT_HTTP_H

#include <stddef.h>

#include "lt_buf.h"
#include "lt_metrics.h"

typedef struct lt_http lt_http_t;
typedef struct lt_http_request lt_http_request_t;

typedef struct lt_http_response {
    int status;               /* 200 unless the handler sets another */
    const char *content_type; /* a static string; text/plain; charset=utf-8 by default */
    lt_buf_t body;            /* the handler appends; freed by the server */
} lt_http_response_t;

/* A route's handler: fill resp from req. opaque is the route's. */
typedef void (*lt_http_handler_t)(const lt_http_request_t *req, lt_http_response_t *resp,
                                  void *opaque);

/* A server for program (named in its answers), not listening yet. */
lt_http_t *lt_http_new(const char *program);

/* Stop the thread (a request being answered is finished first), close the
 * port, free. NULL allowed. */
void lt_http_destroy(lt_http_t *http);

/* Answer GET path (exact, e.g. "/" or "/status.json") with fn. Before
 * lt_http_start only. Returns 0, or -1 when the path is taken or the
 * server already started. */
int lt_http_route(lt_http_t *http, const char *path, lt_http_handler_t fn, void *opaque);

/* /metrics: the registry (borrowed) in the Prometheus text format. */
int lt_http_serve_metrics(lt_http_t *http, lt_metrics_t *metrics);

/* /healthz: 200 while the age series loop_age (LT_METRIC_AGE, set by the
 * daemon each time its loop runs) is at most stall_s seconds, 503 after. */
int lt_http_serve_health(lt_http_t *http, const lt_series_t *loop_age, double stall_s);

/* /readyz: 200 when every condition's gauge is set and above 0, else 503;
 * the body names each condition with "ok" or "no". Conditions are added in
 * order before lt_http_start (at most 8). */
int lt_http_ready_when(lt_http_t *http, const char *name, const lt_series_t *gauge);

/* Listen on listen ("HOST:PORT", "[V6]:PORT"; port 0 picks a free one) and
 * start answering on the server's own thread. Returns 0, or -1 with errstr
 * (an address that does not parse, a port in use, no permission). */
int lt_http_start(lt_http_t *http, const char *listen, char *errstr, size_t errstr_size);

/* The address listened on, "127.0.0.1:9465" (after lt_http_start). */
const char *lt_http_address(const lt_http_t *http);

/* ----------------------------------------------------------- for handlers */

const char *lt_http_request_path(const lt_http_request_t *req);
/* A query-string argument (?name=value, decoded), or NULL. */
const char *lt_http_request_arg(const lt_http_request_t *req, const char *name);

#endif
