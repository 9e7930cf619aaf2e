#include "lt_kafka_stats.h"

#include <string.h>

#include <jansson.h>

#include "lt_kafka.h"
#include "lt_util.h"

int lt_kafka_stats_enable(rd_kafka_conf_t *kc, const lt_conf_t *conf, char *errstr,
                          size_t errstr_size)
{
    if (lt_conf_kafka_get(conf, "statistics.interval.ms"))
        return 0;
    return lt_kafka_conf_set(kc, "statistics.interval.ms", "5000", errstr, errstr_size);
}

static double lt_kafka_stats_num(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_number(v) ? json_number_value(v) : 0;
}

static void lt_kafka_stats_str(const json_t *obj, const char *key, char *out, size_t out_size)
{
    const json_t *v = json_object_get(obj, key);
    lt_strlcpy(out, json_is_string(v) ? json_string_value(v) : "", out_size);
}

static void lt_kafka_stats_brokers(json_t *brokers, lt_kafka_stats_t *out)
{
    const char *key;
    json_t *b;
    double rtt_sum = 0;
    int rtt_n = 0, bootstrap_up = 0;
    json_object_foreach(brokers, key, b) {
        const json_t *source = json_object_get(b, "source");
        if (json_is_string(source) && strcmp(json_string_value(source), "internal") == 0)
            continue;
        const json_t *state = json_object_get(b, "state");
        /* A bootstrap connection (nodeid -1) counts only until a broker is
         * known by its id: the same broker is often both. */
        if (json_is_string(state) && strcmp(json_string_value(state), "UP") == 0)
            *(lt_kafka_stats_num(b, "nodeid") >= 0 ? &out->brokers_up : &bootstrap_up) += 1;
        out->outbuf_msgs += lt_kafka_stats_num(b, "outbuf_msg_cnt");
        out->waitresp_msgs += lt_kafka_stats_num(b, "waitresp_msg_cnt");
        out->tx_errors += lt_kafka_stats_num(b, "txerrs");
        out->tx_retries += lt_kafka_stats_num(b, "txretries");
        out->req_timeouts += lt_kafka_stats_num(b, "req_timeouts");
        const json_t *rtt = json_object_get(b, "rtt");
        if (lt_kafka_stats_num(rtt, "cnt") > 0) {
            rtt_sum += lt_kafka_stats_num(rtt, "avg") / 1e6; /* microseconds */
            rtt_n++;
        }
    }
    out->rtt_avg_s = rtt_n ? rtt_sum / rtt_n : -1;
    if (!out->brokers_up)
        out->brokers_up = bootstrap_up;
}

int lt_kafka_stats_parse(const char *json, size_t len, lt_kafka_stats_t *out, char *errstr,
                         size_t errstr_size)
{
    json_error_t jerr;
    json_t *root = json_loadb(json, len, 0, &jerr);
    if (!root || !json_is_object(root) || !json_is_string(json_object_get(root, "name"))) {
        json_decref(root);
        return lt_err(errstr, errstr_size, "not librdkafka statistics: %s",
                      root ? "no \"name\"" : jerr.text);
    }
    memset(out, 0, sizeof(*out));
    lt_kafka_stats_str(root, "name", out->name, sizeof(out->name));
    out->txmsgs = lt_kafka_stats_num(root, "txmsgs");
    out->txmsg_bytes = lt_kafka_stats_num(root, "txmsg_bytes");
    out->rxmsgs = lt_kafka_stats_num(root, "rxmsgs");
    out->rxmsg_bytes = lt_kafka_stats_num(root, "rxmsg_bytes");
    out->msg_cnt = lt_kafka_stats_num(root, "msg_cnt");
    out->msg_size = lt_kafka_stats_num(root, "msg_size");
    lt_kafka_stats_brokers(json_object_get(root, "brokers"), out);
    const json_t *cgrp = json_object_get(root, "cgrp");
    if (json_is_object(cgrp)) {
        out->has_cgrp = 1;
        lt_kafka_stats_str(cgrp, "state", out->cgrp_state, sizeof(out->cgrp_state));
        lt_kafka_stats_str(cgrp, "join_state", out->cgrp_join_state,
                           sizeof(out->cgrp_join_state));
        out->assignment_size = lt_kafka_stats_num(cgrp, "assignment_size");
        out->rebalance_cnt = lt_kafka_stats_num(cgrp, "rebalance_cnt");
    }
    json_decref(root);
    return 0;
}
