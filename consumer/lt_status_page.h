/* lt_status_page — the province's communes at a glance, on the sink's HTTP
 * port: "/" a page (no external assets, refreshing by itself, readable on a
 * phone) and "/status.json" the document of `lienthong-sink status --json`.
 *
 * The document is gathered on the HTTP thread with its own database
 * connection and Kafka client (never the daemon's), at most once every few
 * seconds: a page left open by several people costs one gathering. */
#ifndef LT_STATUS_PAGE_H
#define LT_STATUS_PAGE_H

#include "lt_conf.h"
#include "lt_http.h"
#include "lt_sink.h"

typedef struct lt_status_page lt_status_page_t;

/* Register "/" and "/status.json" on http (before it starts). conf and sc
 * are borrowed for the page's life. NULL on failure (a path taken). */
lt_status_page_t *lt_status_page_new(lt_http_t *http, const lt_conf_t *conf,
                                     const lt_sink_conf_t *sc);
void lt_status_page_destroy(lt_status_page_t *page); /* NULL is fine; after the server stops */

/* fn(opaque, commune, state, lag_s) for each commune of the current document
 * (gathered again when older than a few seconds): its health
 * (lt_health_state_t) and lag in seconds (-1 unknown). Nothing when the
 * document cannot be gathered. */
void lt_status_page_each_commune(lt_status_page_t *page,
                                 void (*fn)(void *opaque, const char *commune, int state,
                                            double lag_s),
                                 void *opaque);

#endif
