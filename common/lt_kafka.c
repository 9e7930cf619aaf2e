#include "lt_kafka.h"

#include <stdio.h>
#include <string.h>

#include "lt_log.h"
#include "lt_util.h"

static void lt_kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    lt_log_level_t lvl = level <= 3 ? LT_LOG_ERROR : level <= 4 ? LT_LOG_WARN
                         : level <= 6                          ? LT_LOG_INFO
                                                               : LT_LOG_DEBUG;
    lt_log(lvl, "librdkafka", "client=%s facility=%s detail=\"%s\"", rd_kafka_name(rk), fac,
           buf);
}

int lt_kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value, char *errstr,
                      size_t errstr_size)
{
    char rkerr[256];
    if (rd_kafka_conf_set(conf, key, value, rkerr, sizeof(rkerr)) != RD_KAFKA_CONF_OK)
        return lt_err(errstr, errstr_size, "kafka.%s=%s: %s", key, value, rkerr);
    return 0;
}

rd_kafka_conf_t *lt_kafka_conf_new(const lt_conf_kv_t *kafka, char *errstr,
                                   size_t errstr_size)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set_log_cb(conf, lt_kafka_log_cb);
    for (size_t i = 0; i < kafka->count; i++) {
        if (lt_kafka_conf_set(conf, kafka->keys[i], kafka->values[i], errstr, errstr_size)) {
            rd_kafka_conf_destroy(conf);
            return NULL;
        }
    }
    return conf;
}

void lt_kafka_topic_name(char *out, size_t size, const char *province, const char *commune,
                         const char *kind)
{
    snprintf(out, size, "lt.%s.%s.%s", province, commune, kind);
}

static int lt_kafka_check_results(rd_kafka_event_t *ev, char *errstr, size_t errstr_size)
{
    const rd_kafka_CreateTopics_result_t *res = rd_kafka_event_CreateTopics_result(ev);
    if (!res)
        return lt_err(errstr, errstr_size, "CreateTopics: %s", rd_kafka_event_error_string(ev));
    size_t n;
    const rd_kafka_topic_result_t **results = rd_kafka_CreateTopics_result_topics(res, &n);
    for (size_t i = 0; i < n; i++) {
        rd_kafka_resp_err_t err = rd_kafka_topic_result_error(results[i]);
        if (err && err != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
            return lt_err(errstr, errstr_size, "cannot create topic %s: %s",
                          rd_kafka_topic_result_name(results[i]),
                          rd_kafka_topic_result_error_string(results[i]));
    }
    return 0;
}

int lt_kafka_create_topics(rd_kafka_t *rk, const char *const *topics, size_t count,
                           int replication_factor, int timeout_ms, char *errstr,
                           size_t errstr_size)
{
    rd_kafka_NewTopic_t *newt[8];
    char rkerr[256];
    int rc = -1;
    if (count > sizeof(newt) / sizeof(*newt))
        return lt_err(errstr, errstr_size, "too many topics in one call");
    size_t made = 0;
    for (; made < count; made++) {
        newt[made] = rd_kafka_NewTopic_new(topics[made], 1, replication_factor, rkerr,
                                           sizeof(rkerr));
        if (!newt[made]) {
            lt_err(errstr, errstr_size, "topic %s: %s", topics[made], rkerr);
            goto done;
        }
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS);
    rd_kafka_AdminOptions_set_operation_timeout(opts, timeout_ms, rkerr, sizeof(rkerr));
    rd_kafka_CreateTopics(rk, newt, count, opts, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms + 5000);
    if (!ev)
        lt_err(errstr, errstr_size, "CreateTopics: no answer from the cluster in %d ms",
               timeout_ms + 5000);
    else
        rc = lt_kafka_check_results(ev, errstr, errstr_size);
    rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_queue_destroy(q);
done:
    for (size_t i = 0; i < made; i++)
        rd_kafka_NewTopic_destroy(newt[i]);
    return rc;
}
