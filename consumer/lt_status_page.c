#include "lt_status_page.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lt_health.h"
#include "lt_status.h"
#include "lt_util.h"

extern const char lt_status_page_html[];

#define LT_STATUS_PAGE_CACHE_MS 5000
#define LT_STATUS_PAGE_KAFKA_MS 3000

struct lt_status_page {
    const lt_conf_t *conf;
    const lt_sink_conf_t *sc;
    pthread_mutex_t lock; /* over the cache */
    char *json;           /* the last document, or NULL */
    int64_t json_at_ms;
};

static void lt_status_page_html_handler(const lt_http_request_t *req, lt_http_response_t *resp,
                                        void *opaque)
{
    (void)req;
    (void)opaque;
    resp->content_type = "text/html; charset=utf-8";
    lt_buf_puts(&resp->body, lt_status_page_html);
}

/* The document, gathered again when the cached one is older than the cache
 * time. Returns a malloc'd copy. */
static char *lt_status_page_document(lt_status_page_t *page)
{
    pthread_mutex_lock(&page->lock);
    int64_t now = lt_monotonic_ms();
    if (!page->json || now - page->json_at_ms >= LT_STATUS_PAGE_CACHE_MS) {
        json_t *doc = lt_status_document(page->conf, page->sc, LT_STATUS_PAGE_KAFKA_MS);
        char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
        json_decref(doc);
        if (text) {
            free(page->json);
            page->json = text;
            page->json_at_ms = lt_monotonic_ms();
        }
    }
    char *copy = page->json ? strdup(page->json) : NULL;
    pthread_mutex_unlock(&page->lock);
    return copy;
}

static void lt_status_page_json_handler(const lt_http_request_t *req, lt_http_response_t *resp,
                                        void *opaque)
{
    (void)req;
    char *json = lt_status_page_document(opaque);
    resp->content_type = "application/json";
    if (!json) {
        resp->status = 503;
        lt_buf_puts(&resp->body, "{\"error\":\"status could not be gathered\"}");
        return;
    }
    lt_buf_puts(&resp->body, json);
    free(json);
}

void lt_status_page_each_commune(lt_status_page_t *page,
                                 void (*fn)(void *opaque, const char *commune, int state,
                                            double lag_s),
                                 void *opaque)
{
    char *text = lt_status_page_document(page);
    json_t *doc = text ? json_loads(text, 0, NULL) : NULL;
    free(text);
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(doc, "communes"), i, row)
    {
        json_t *health = json_object_get(row, "health");
        const char *code = json_string_value(json_object_get(row, "commune"));
        int state = lt_health_from_name(json_string_value(json_object_get(health, "state")));
        json_t *lag = json_object_get(health, "lag_seconds");
        if (code && state >= 0)
            fn(opaque, code, state, json_is_number(lag) ? json_number_value(lag) : -1);
    }
    json_decref(doc);
}

lt_status_page_t *lt_status_page_new(lt_http_t *http, const lt_conf_t *conf,
                                     const lt_sink_conf_t *sc)
{
    lt_status_page_t *page = calloc(1, sizeof(*page));
    if (!page)
        abort();
    page->conf = conf;
    page->sc = sc;
    pthread_mutex_init(&page->lock, NULL);
    if (lt_http_route(http, "/", lt_status_page_html_handler, page) != 0 ||
        lt_http_route(http, "/status.json", lt_status_page_json_handler, page) != 0) {
        lt_status_page_destroy(page);
        return NULL;
    }
    return page;
}

void lt_status_page_destroy(lt_status_page_t *page)
{
    if (!page)
        return;
    pthread_mutex_destroy(&page->lock);
    free(page->json);
    free(page);
}
