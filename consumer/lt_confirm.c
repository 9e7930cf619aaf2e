#include "lt_confirm.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "lt_control_msg.h"
#include "lt_kafka.h"
#include "lt_log.h"
#include "lt_store.h"
#include "lt_util.h"

struct lt_confirm {
    rd_kafka_t *rk;
    char province[4];
    long interval_s;
    int64_t due_ms;
    lt_store_confirmable_t *sent; /* what each commune was last told */
    size_t n_sent;
};

lt_confirm_t *lt_confirm_new(const lt_conf_kv_t *kafka, const char *province, long interval_s,
                             char *errstr, size_t errstr_size)
{
    if (interval_s <= 0)
        return NULL;
    lt_confirm_t *cf = calloc(1, sizeof(*cf));
    if (!cf)
        abort();
    lt_strlcpy(cf->province, province, sizeof(cf->province));
    cf->interval_s = interval_s;
    cf->rk = lt_kafka_control_producer(kafka, errstr, errstr_size);
    if (!cf->rk) {
        free(cf);
        return NULL;
    }
    return cf;
}

void lt_confirm_destroy(lt_confirm_t *cf)
{
    if (!cf)
        return;
    rd_kafka_flush(cf->rk, 5000);
    rd_kafka_destroy(cf->rk);
    free(cf->sent);
    free(cf);
}

static uint64_t lt_confirm_sent_seq(const lt_confirm_t *cf, const char *code)
{
    for (size_t i = 0; i < cf->n_sent; i++)
        if (!strcmp(cf->sent[i].code, code))
            return cf->sent[i].seq;
    return 0;
}

static int lt_confirm_publish(lt_confirm_t *cf, const lt_store_confirmable_t *c)
{
    char id[80];
    size_t len;
    snprintf(id, sizeof(id), "confirm-%s-%" PRIu64, c->code, c->seq);
    uint8_t *value = lt_control_msg_pack(c->code, id, NULL, c->seq, &len);
    rd_kafka_resp_err_t err = rd_kafka_producev(
        cf->rk, RD_KAFKA_V_TOPIC(c->control_topic), RD_KAFKA_V_KEY(c->code, strlen(c->code)),
        RD_KAFKA_V_VALUE(value, len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_FREE), RD_KAFKA_V_END);
    if (err) {
        free(value);
        lt_warn("cannot publish a digest confirmation; trying again later",
                "commune=%s topic=%s error=\"%s\"", c->code, c->control_topic,
                rd_kafka_err2str(err));
        return -1;
    }
    lt_debug("digest confirmed to the commune", "commune=%s seq=%" PRIu64, c->code, c->seq);
    return 0;
}

void lt_confirm_tick(lt_confirm_t *cf, PGconn *pg)
{
    if (!cf)
        return;
    rd_kafka_poll(cf->rk, 0); /* delivery reports */
    int64_t now = lt_monotonic_ms();
    if (now < cf->due_ms)
        return;
    cf->due_ms = now + cf->interval_s * 1000;
    char errstr[1024];
    lt_store_confirmable_t *rows;
    size_t n;
    if (lt_store_confirmable(pg, cf->province, &rows, &n, errstr, sizeof(errstr)) != LT_PG_OK) {
        lt_warn("digest confirmations postponed to the next interval", "error=\"%s\"", errstr);
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (rows[i].seq > lt_confirm_sent_seq(cf, rows[i].code) &&
            lt_confirm_publish(cf, &rows[i]) != 0)
            rows[i].seq = lt_confirm_sent_seq(cf, rows[i].code); /* again next time */
    free(cf->sent);
    cf->sent = rows;
    cf->n_sent = n;
}
