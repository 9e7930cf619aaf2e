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

/* 0 when every topic was created or existed; existed[i] says which existed. */
static int lt_kafka_check_results(rd_kafka_event_t *ev, const char *const *topics, size_t count,
                                  int *existed, char *errstr, size_t errstr_size)
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
        for (size_t t = 0; t < count; t++)
            if (strcmp(topics[t], rd_kafka_topic_result_name(results[i])) == 0)
                existed[t] = err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS;
    }
    return 0;
}

/* Run one admin request on a private queue and wait for its result event.
 * NULL with errstr when the cluster did not answer in time. */
static rd_kafka_event_t *lt_kafka_admin_wait(rd_kafka_queue_t *q, const char *what, int timeout_ms,
                                            char *errstr, size_t errstr_size)
{
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms + 1000);
    if (!ev) {
        lt_err(errstr, errstr_size, "%s: no answer from the cluster in %d ms", what,
               timeout_ms + 1000);
        return NULL;
    }
    if (rd_kafka_event_error(ev)) {
        lt_err(errstr, errstr_size, "%s: %s", what, rd_kafka_event_error_string(ev));
        rd_kafka_event_destroy(ev);
        return NULL;
    }
    return ev;
}

static rd_kafka_AdminOptions_t *lt_kafka_admin_options(rd_kafka_t *rk, rd_kafka_admin_op_t op,
                                                      int timeout_ms)
{
    char rkerr[256];
    rd_kafka_AdminOptions_t *opts = rd_kafka_AdminOptions_new(rk, op);
    rd_kafka_AdminOptions_set_request_timeout(opts, timeout_ms, rkerr, sizeof(rkerr));
    if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS || op == RD_KAFKA_ADMIN_OP_ALTERCONFIGS)
        rd_kafka_AdminOptions_set_operation_timeout(opts, timeout_ms, rkerr, sizeof(rkerr));
    return opts;
}

/* The topic's configuration; a DescribeConfigs result event (destroy it) whose
 * only resource is the topic, or NULL with errstr. */
static rd_kafka_event_t *lt_kafka_describe_topic(rd_kafka_t *rk, const char *topic,
                                                 const rd_kafka_ConfigResource_t **resource,
                                                 int timeout_ms, char *errstr, size_t errstr_size)
{
    rd_kafka_ConfigResource_t *want = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opts =
        lt_kafka_admin_options(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, timeout_ms);
    rd_kafka_DescribeConfigs(rk, &want, 1, opts, q);
    rd_kafka_event_t *ev =
        lt_kafka_admin_wait(q, "DescribeConfigs", timeout_ms, errstr, errstr_size);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_queue_destroy(q);
    rd_kafka_ConfigResource_destroy(want);
    if (!ev)
        return NULL;
    size_t n = 0;
    const rd_kafka_ConfigResource_t **res =
        rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &n);
    if (n != 1 || rd_kafka_ConfigResource_error(res[0])) {
        lt_err(errstr, errstr_size, "configuration of topic %s: %s", topic,
               n ? rd_kafka_ConfigResource_error_string(res[0]) : "no answer");
        rd_kafka_event_destroy(ev);
        return NULL;
    }
    *resource = res[0];
    return ev;
}

static const rd_kafka_ConfigEntry_t *lt_kafka_config_entry(const rd_kafka_ConfigResource_t *res,
                                                           const char *name)
{
    size_t n = 0;
    const rd_kafka_ConfigEntry_t **entries = rd_kafka_ConfigResource_configs(res, &n);
    for (size_t i = 0; i < n; i++)
        if (strcmp(rd_kafka_ConfigEntry_name(entries[i]), name) == 0)
            return entries[i];
    return NULL;
}

int lt_kafka_topic_config_get(rd_kafka_t *rk, const char *topic, const char *name, char *out,
                              size_t out_size, int timeout_ms, char *errstr, size_t errstr_size)
{
    const rd_kafka_ConfigResource_t *res;
    rd_kafka_event_t *ev = lt_kafka_describe_topic(rk, topic, &res, timeout_ms, errstr, errstr_size);
    if (!ev)
        return -1;
    const rd_kafka_ConfigEntry_t *entry = lt_kafka_config_entry(res, name);
    int rc = 0;
    if (!entry || !rd_kafka_ConfigEntry_value(entry))
        rc = lt_err(errstr, errstr_size, "topic %s has no %s setting", topic, name);
    else
        lt_strlcpy(out, rd_kafka_ConfigEntry_value(entry), out_size);
    rd_kafka_event_destroy(ev);
    return rc;
}

static int lt_kafka_config_listed(const char *const (*configs)[2], size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(configs[i][0], name) == 0)
            return 1;
    return 0;
}

/* AlterConfigs replaces a topic's whole dynamic configuration: carry over
 * every setting made on the topic, then put ours on top. */
static rd_kafka_ConfigResource_t *lt_kafka_config_update(const rd_kafka_ConfigResource_t *now,
                                                         const char *topic,
                                                         const char *const (*configs)[2],
                                                         size_t n_configs, int *changes)
{
    rd_kafka_ConfigResource_t *next = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic);
    size_t n = 0;
    const rd_kafka_ConfigEntry_t **entries = rd_kafka_ConfigResource_configs(now, &n);
    for (size_t i = 0; i < n; i++)
        if (rd_kafka_ConfigEntry_source(entries[i]) == RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG &&
            !rd_kafka_ConfigEntry_is_sensitive(entries[i]) &&
            !lt_kafka_config_listed(configs, n_configs, rd_kafka_ConfigEntry_name(entries[i])))
            rd_kafka_ConfigResource_set_config(next, rd_kafka_ConfigEntry_name(entries[i]),
                                               rd_kafka_ConfigEntry_value(entries[i]));
    *changes = 0;
    for (size_t i = 0; i < n_configs; i++) {
        const rd_kafka_ConfigEntry_t *have = lt_kafka_config_entry(now, configs[i][0]);
        if (!have || !rd_kafka_ConfigEntry_value(have) ||
            strcmp(rd_kafka_ConfigEntry_value(have), configs[i][1]) != 0)
            (*changes)++;
        rd_kafka_ConfigResource_set_config(next, configs[i][0], configs[i][1]);
    }
    return next;
}

int lt_kafka_topic_config_ensure(rd_kafka_t *rk, const char *topic,
                                 const char *const (*configs)[2], size_t n_configs,
                                 int timeout_ms, char *errstr, size_t errstr_size)
{
    const rd_kafka_ConfigResource_t *now;
    rd_kafka_event_t *ev = lt_kafka_describe_topic(rk, topic, &now, timeout_ms, errstr, errstr_size);
    if (!ev)
        return -1;
    int changes;
    rd_kafka_ConfigResource_t *next =
        lt_kafka_config_update(now, topic, configs, n_configs, &changes);
    rd_kafka_event_destroy(ev);
    if (!changes) {
        rd_kafka_ConfigResource_destroy(next);
        return 0;
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opts =
        lt_kafka_admin_options(rk, RD_KAFKA_ADMIN_OP_ALTERCONFIGS, timeout_ms);
    rd_kafka_AlterConfigs(rk, &next, 1, opts, q);
    ev = lt_kafka_admin_wait(q, "AlterConfigs", timeout_ms, errstr, errstr_size);
    int rc = ev ? 0 : -1;
    if (ev) {
        size_t n = 0;
        const rd_kafka_ConfigResource_t **res =
            rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev), &n);
        if (n != 1 || rd_kafka_ConfigResource_error(res[0]))
            rc = lt_err(errstr, errstr_size, "cannot change the configuration of topic %s: %s",
                        topic, n ? rd_kafka_ConfigResource_error_string(res[0]) : "no answer");
        rd_kafka_event_destroy(ev);
    }
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_queue_destroy(q);
    rd_kafka_ConfigResource_destroy(next);
    return rc;
}

int lt_kafka_create_topics(rd_kafka_t *rk, const char *const *topics, size_t count,
                           int replication_factor, const char *const (*configs)[2],
                           size_t n_configs, int timeout_ms, char *errstr, size_t errstr_size)
{
    rd_kafka_NewTopic_t *newt[8];
    int existed[8] = {0};
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
        for (size_t i = 0; i < n_configs; i++)
            rd_kafka_NewTopic_set_config(newt[made], configs[i][0], configs[i][1]);
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opts =
        lt_kafka_admin_options(rk, RD_KAFKA_ADMIN_OP_CREATETOPICS, timeout_ms);
    rd_kafka_CreateTopics(rk, newt, count, opts, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms + 5000);
    if (!ev)
        lt_err(errstr, errstr_size, "CreateTopics: no answer from the cluster in %d ms",
               timeout_ms + 5000);
    else
        rc = lt_kafka_check_results(ev, topics, count, existed, errstr, errstr_size);
    rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_queue_destroy(q);
    /* A topic that existed already keeps its old settings: bring them up to
     * date. (A new one has them from its creation, and may not be known to
     * every broker yet.) */
    for (size_t i = 0; rc == 0 && n_configs && i < count; i++)
        if (existed[i])
            rc = lt_kafka_topic_config_ensure(rk, topics[i], configs, n_configs, timeout_ms,
                                              errstr, errstr_size);
done:
    for (size_t i = 0; i < made; i++)
        rd_kafka_NewTopic_destroy(newt[i]);
    return rc;
}

rd_kafka_t *lt_kafka_control_producer(const lt_conf_kv_t *kafka, char *errstr,
                                      size_t errstr_size)
{
    rd_kafka_conf_t *kc = lt_kafka_conf_new(kafka, errstr, errstr_size);
    if (!kc)
        return NULL;
    char rkerr[512];
    if (lt_kafka_conf_set(kc, "enable.idempotence", "true", errstr, errstr_size) ||
        lt_kafka_conf_set(kc, "message.timeout.ms", "30000", errstr, errstr_size)) {
        rd_kafka_conf_destroy(kc);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, rkerr, sizeof(rkerr));
    if (!rk) {
        lt_err(errstr, errstr_size, "cannot create Kafka producer: %s", rkerr);
        rd_kafka_conf_destroy(kc);
    }
    return rk;
}
