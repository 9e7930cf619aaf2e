/* lt-test-kafka-admin — what the integration tests ask of Kafka that kcat
 * cannot: a topic's configuration, and deleting records (as retention
 * would). Test-only: not installed.
 *
 *   lt-test-kafka-admin BROKERS config TOPIC NAME
 *   lt-test-kafka-admin BROKERS delete-records TOPIC BEFORE_OFFSET   (partition 0)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "lt_kafka.h"

static rd_kafka_t *admin_client(const char *brokers)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers, errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK) {
        fprintf(stderr, "error: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
    if (!rk) {
        fprintf(stderr, "error: %s\n", errstr);
        rd_kafka_conf_destroy(conf);
    }
    return rk;
}

static int delete_records(rd_kafka_t *rk, const char *topic, int64_t before)
{
    rd_kafka_topic_partition_list_t *offsets = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(offsets, topic, 0)->offset = before;
    rd_kafka_DeleteRecords_t *del = rd_kafka_DeleteRecords_new(offsets);
    rd_kafka_topic_partition_list_destroy(offsets);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_DeleteRecords(rk, &del, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    int rc = 1;
    if (!ev) {
        fprintf(stderr, "error: DeleteRecords: no answer in 30 s\n");
    } else if (rd_kafka_event_error(ev)) {
        fprintf(stderr, "error: DeleteRecords: %s\n", rd_kafka_event_error_string(ev));
    } else {
        const rd_kafka_topic_partition_list_t *res =
            rd_kafka_DeleteRecords_result_offsets(rd_kafka_event_DeleteRecords_result(ev));
        if (res && res->cnt == 1 && !res->elems[0].err) {
            printf("%s: records before offset %" PRId64 " deleted\n", topic,
                   res->elems[0].offset);
            rc = 0;
        } else {
            fprintf(stderr, "error: DeleteRecords: %s\n",
                    res && res->cnt ? rd_kafka_err2str(res->elems[0].err) : "no result");
        }
    }
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_DeleteRecords_destroy(del);
    rd_kafka_queue_destroy(q);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 5 || (strcmp(argv[2], "config") && strcmp(argv[2], "delete-records"))) {
        fprintf(stderr, "usage: %s BROKERS config TOPIC NAME\n"
                        "       %s BROKERS delete-records TOPIC BEFORE_OFFSET\n",
                argv[0], argv[0]);
        return 2;
    }
    rd_kafka_t *rk = admin_client(argv[1]);
    if (!rk)
        return 1;
    int rc = 1;
    if (!strcmp(argv[2], "delete-records")) {
        rc = delete_records(rk, argv[3], strtoll(argv[4], NULL, 10));
    } else {
        char value[256], errstr[512];
        if (lt_kafka_topic_config_get(rk, argv[3], argv[4], value, sizeof(value), 15000, errstr,
                                      sizeof(errstr)) == 0) {
            printf("%s\n", value);
            rc = 0;
        } else {
            fprintf(stderr, "error: %s\n", errstr);
        }
    }
    rd_kafka_destroy(rk);
    return rc;
}
