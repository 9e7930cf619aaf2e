/* lt_kafka — librdkafka set-up shared by the agent, the sink and provisioning. */
#ifndef LT_KAFKA_H
#define LT_KAFKA_H

#include <stddef.h>

#include <librdkafka/rdkafka.h>

#include "lt_conf.h"

/* A new rd_kafka_conf_t with every [kafka] pair applied, logs routed to lt_log.
 * Returns NULL with errstr naming the bad property. */
rd_kafka_conf_t *lt_kafka_conf_new(const lt_conf_kv_t *kafka, char *errstr,
                                   size_t errstr_size);

/* Set one property, errors into errstr. Returns 0 or -1. */
int lt_kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value, char *errstr,
                      size_t errstr_size);

/* A producer for the province's control messages: idempotent, each message
 * given up after 30 s. NULL with errstr. */
rd_kafka_t *lt_kafka_control_producer(const lt_conf_kv_t *kafka, char *errstr,
                                      size_t errstr_size);

/* Create topics with the Admin API (one partition each), with the given
 * topic configuration (name/value pairs, may be 0). An existing topic is fine:
 * its configuration is brought to the given values. replication_factor -1
 * uses the broker default. Returns 0 or -1. */
int lt_kafka_create_topics(rd_kafka_t *rk, const char *const *topics, size_t count,
                           int replication_factor, const char *const (*configs)[2],
                           size_t n_configs, int timeout_ms, char *errstr, size_t errstr_size);

/* One configuration value of a topic (its effective value, default or set)
 * into out. Returns 0 or -1 with errstr. */
int lt_kafka_topic_config_get(rd_kafka_t *rk, const char *topic, const char *name, char *out,
                              size_t out_size, int timeout_ms, char *errstr, size_t errstr_size);
/* Set configuration values on an existing topic, keeping its other settings.
 * Nothing is sent when the values are already in place. Returns 0 or -1. */
int lt_kafka_topic_config_ensure(rd_kafka_t *rk, const char *topic,
                                 const char *const (*configs)[2], size_t n_configs,
                                 int timeout_ms, char *errstr, size_t errstr_size);

#endif
