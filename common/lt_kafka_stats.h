/* lt_kafka_stats — the figures of librdkafka's statistics (the JSON document
 * its stats callback gets every statistics.interval.ms) that a daemon
 * exports: traffic, queues, broker round trips, the consumer group. */
#ifndef LT_KAFKA_STATS_H
#define LT_KAFKA_STATS_H

#include <stddef.h>

#include <librdkafka/rdkafka.h>

#include "lt_conf.h"

typedef struct lt_kafka_stats {
    char name[64];         /* the client instance ("rdkafka#producer-1"): a new one starts
                            * its cumulative counts over */
    /* cumulative since the instance started */
    double txmsgs, txmsg_bytes; /* messages and their bytes sent to brokers */
    double rxmsgs, rxmsg_bytes; /* messages and their bytes received */
    double tx_errors;           /* brokers' txerrs, summed */
    double tx_retries;          /* brokers' txretries, summed */
    double req_timeouts;        /* brokers' req_timeouts, summed */
    /* now */
    double msg_cnt, msg_size;   /* messages (and bytes) in the producer queues */
    double outbuf_msgs;         /* messages waiting to be sent to brokers, summed */
    double waitresp_msgs;       /* messages sent, awaiting a response, summed */
    double rtt_avg_s;           /* the mean of the brokers' average round trip over the last
                                 * interval, seconds; -1 when no broker measured one */
    int brokers_up;             /* brokers known by id in state UP (the bootstrap
                                 * connections when none is known yet) */
    int has_cgrp;               /* a consumer: the next fields are known */
    char cgrp_state[24];        /* "up", "wait-coord", ... */
    char cgrp_join_state[32];   /* "steady", "wait-join", ... */
    double assignment_size;     /* partitions assigned to this member */
    double rebalance_cnt;       /* rebalances so far (cumulative) */
} lt_kafka_stats_t;

/* Ask for statistics every 5 s (statistics.interval.ms), unless the
 * [kafka] section of conf sets it. Returns 0, or -1 with errstr. */
int lt_kafka_stats_enable(rd_kafka_conf_t *kc, const lt_conf_t *conf, char *errstr,
                          size_t errstr_size);

/* Parse json (len bytes, not NUL-terminated) into *out. Returns 0, or -1
 * with errstr when it is not librdkafka's statistics document. */
int lt_kafka_stats_parse(const char *json, size_t len, lt_kafka_stats_t *out, char *errstr,
                         size_t errstr_size);

#endif
