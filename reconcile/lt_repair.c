#include "lt_repair.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "lienthong/v1/lienthong.pb-c.h"
#include "lt_control_msg.h"
#include "lt_event.h"
#include "lt_digest.h"
#include "lt_kafka.h"
#include "lt_store.h"
#include "lt_util.h"

/* Record the request, then publish it on the commune's control topic. */
static int lt_repair_request(PGconn *pg, rd_kafka_t *rk, const char *commune, const char *topic,
                             const char *request_id, Lienthong__V1__ResyncRequest *r,
                             FILE *out)
{
    char errstr[1024];
    uint32_t *buckets = r->buckets;
    if (lt_store_resync_record(pg, request_id, commune, buckets, r->n_buckets, r->first_seq,
                               r->last_seq, errstr, sizeof(errstr)) != LT_PG_OK) {
        fprintf(stderr, "error: %s\n", errstr);
        return -1;
    }
    size_t len;
    uint8_t *value = lt_control_msg_pack(commune, request_id, r, 0, &len);
    rd_kafka_resp_err_t err = rd_kafka_producev(
        rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(commune, strlen(commune)),
        RD_KAFKA_V_VALUE(value, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE), RD_KAFKA_V_END);
    if (err) {
        free(value);
        fprintf(stderr, "error: cannot publish on %s: %s\n", topic, rd_kafka_err2str(err));
        return -1;
    }
    if (r->n_buckets)
        fprintf(out, "commune %s: asked for %zu bucket(s) again (request %s)\n", commune,
                r->n_buckets, request_id);
    else
        fprintf(out, "commune %s: asked for seq %" PRIu64 "..%" PRIu64 " again (request %s)\n",
                commune, r->first_seq, r->last_seq, request_id);
    return 0;
}

/* Ask for the current states of named entities ("type/id"), 256 a request;
 * returns how many requests, or -1. */
static int lt_repair_ask_entities(PGconn *pg, rd_kafka_t *rk, const char *commune,
                                  const char *topic, const lt_repair_entities_t *named,
                                  FILE *out)
{
    size_t max = 256, asked = 0;
    Lienthong__V1__ManifestEntry *cells = calloc(max, sizeof(*cells));
    Lienthong__V1__ManifestEntry **list = calloc(max, sizeof(*list));
    char **ids = calloc(max, sizeof(*ids));
    int64_t now = lt_now_us();
    if (!cells || !list || !ids)
        abort();
    for (size_t from = 0; from < named->n; from += max) {
        size_t k = 0;
        for (; k < max && from + k < named->n; k++) {
            const char *key = named->keys[from + k], *slash = strchr(key, '/');
            char type[32] = "";
            if (slash && (size_t)(slash - key) < sizeof(type))
                memcpy(type, key, (size_t)(slash - key));
            lienthong__v1__manifest_entry__init(&cells[k]);
            cells[k].entity_type = lt_entity_type_parse(type);
            if (!slash || !cells[k].entity_type || !slash[1]) {
                fprintf(stderr, "error: --entity %s: expected civil_record/ID or dossier/ID\n",
                        key);
                asked = (size_t)-1;
                goto done;
            }
            free(ids[k]);
            if (!(ids[k] = strdup(slash + 1)))
                abort();
            cells[k].entity_id = ids[k];
            list[k] = &cells[k];
        }
        Lienthong__V1__ResyncRequest r = LIENTHONG__V1__RESYNC_REQUEST__INIT;
        r.n_entities = k;
        r.entities = list;
        char id[80];
        snprintf(id, sizeof(id), "repair-%s-%" PRId64 "-e%zu", commune, now, from / max);
        if (lt_repair_request(pg, rk, commune, topic, id, &r, out) != 0) {
            asked = (size_t)-1;
            goto done;
        }
        asked++;
    }
done:
    for (size_t k = 0; k < max; k++)
        free(ids[k]);
    free(cells);
    free(list);
    free(ids);
    return asked == (size_t)-1 ? -1 : (int)asked;
}

/* Publish what the commune needs; returns how many requests, or -1. */
static int lt_repair_ask(PGconn *pg, rd_kafka_t *rk, const char *commune, int all_buckets,
                         const lt_repair_entities_t *named, FILE *out)
{
    char errstr[1024], id[80];
    lt_store_repair_t t;
    if (lt_store_repair_targets(pg, commune, &t, errstr, sizeof(errstr)) != LT_PG_OK) {
        fprintf(stderr, "error: %s\n", errstr);
        return -1;
    }
    int asked = 0;
    int64_t now = lt_now_us();
    if (named && named->n) {
        asked = lt_repair_ask_entities(pg, rk, commune, t.control_topic, named, out);
        lt_store_repair_free(&t);
        return asked;
    }
    if (all_buckets) {
        t.n_buckets = LT_DIGEST_BUCKETS;
        for (uint32_t b = 0; b < LT_DIGEST_BUCKETS; b++)
            t.buckets[b] = b;
    }
    if (t.n_buckets) {
        Lienthong__V1__ResyncRequest r = LIENTHONG__V1__RESYNC_REQUEST__INIT;
        r.buckets = t.buckets;
        r.n_buckets = t.n_buckets;
        snprintf(id, sizeof(id), "repair-%s-%" PRId64 "-b", commune, now);
        asked += lt_repair_request(pg, rk, commune, t.control_topic, id, &r, out) == 0 ? 1 : -1000;
    }
    for (size_t g = 0; g < t.n_gaps; g++) {
        Lienthong__V1__ResyncRequest r = LIENTHONG__V1__RESYNC_REQUEST__INIT;
        r.first_seq = t.gaps[g].from;
        r.last_seq = t.gaps[g].to;
        snprintf(id, sizeof(id), "repair-%s-%" PRId64 "-g%zu", commune, now, g);
        asked += lt_repair_request(pg, rk, commune, t.control_topic, id, &r, out) == 0 ? 1 : -1000;
    }
    lt_store_repair_free(&t);
    return asked < 0 ? -1 : asked;
}

/* Is commune consistent again? Prints a progress line. */
static int lt_repair_converged(PGconn *pg, const char *commune, const char *since, FILE *out)
{
    char errstr[1024];
    lt_store_repair_progress_t p;
    if (lt_store_repair_progress(pg, commune, since, &p, errstr, sizeof(errstr)) != LT_PG_OK)
        return 0;
    fprintf(out, "\r  commune %s: requests answered %" PRId64 "/%" PRId64 ", parts %" PRId64
                 ", states %" PRId64 ", dropped %" PRId64 ", open gaps %" PRId64
                 ", digest since: %s   ",
            commune, p.done, p.requests, p.parts, p.states, p.removed, p.open_gaps,
            p.digest_equal < 0 ? "not yet compared" : p.digest_equal ? "equal" : "differs");
    fflush(out);
    return p.done == p.requests && p.open_gaps == 0 && p.digest_equal == 1;
}

int lt_repair_run(PGconn *pg, const lt_conf_t *conf, const char *commune, int all_buckets,
                  const lt_repair_entities_t *named, int timeout_s, FILE *out)
{
    char errstr[1024], since[64];
    char **codes = NULL;
    size_t n = 0;
    if (lt_store_now(pg, since, sizeof(since), errstr, sizeof(errstr)) != LT_PG_OK ||
        (!commune && lt_store_communes(pg, &codes, &n, errstr, sizeof(errstr)) != LT_PG_OK)) {
        fprintf(stderr, "error: %s\n", errstr);
        return 1;
    }
    rd_kafka_t *rk = lt_kafka_control_producer(&conf->kafka, errstr, sizeof(errstr));
    if (!rk) {
        fprintf(stderr, "error: %s\n", errstr);
        return 1;
    }
    char only[8] = "";
    char *one[] = {only};
    if (commune)
        lt_strlcpy(only, commune, sizeof(only));
    char **list = commune ? one : codes;
    size_t count = commune ? 1 : n;
    int *asked = calloc(count ? count : 1, sizeof(*asked)), status = 0, pending = 0;
    for (size_t i = 0; i < count && status == 0; i++) {
        asked[i] = lt_repair_ask(pg, rk, list[i], all_buckets, named, out);
        status = asked[i] < 0 ? 1 : 0;
        pending += asked[i] > 0;
    }
    if (status == 0 && rd_kafka_flush(rk, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "error: the requests did not reach Kafka within 30 s\n");
        status = 1;
    }
    rd_kafka_destroy(rk);
    if (status == 0 && !pending)
        fprintf(out, "nothing to repair: no commune's last digest differs, no gap is open\n");
    int64_t deadline = lt_monotonic_ms() + (int64_t)timeout_s * 1000;
    for (size_t i = 0; i < count && status == 0; i++) {
        if (asked[i] <= 0)
            continue;
        while (!lt_repair_converged(pg, list[i], since, out) && !lt_stop_requested) {
            if (lt_monotonic_ms() >= deadline) {
                fprintf(out, "\ncommune %s: not converged within %d s\n", list[i], timeout_s);
                status = 3;
                break;
            }
            lt_sleep_ms(1000);
        }
        if (status == 0)
            fprintf(out, "\ncommune %s: repaired: digest equal, no gap open\n", list[i]);
    }
    free(asked);
    for (size_t i = 0; i < n; i++)
        free(codes[i]);
    free(codes);
    return status;
}
