#include "lt_control.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <librdkafka/rdkafka.h>

#include "lienthong/v1/lienthong.pb-c.h"
#include "lt_digest.h"
#include "lt_event.h"
#include "lt_kafka.h"
#include "lt_log.h"
#include "lt_outbox.h"
#include "lt_topic.h"
#include "lt_util.h"

#define LT_CONTROL_MAX_BYTES 65536 /* a request is small: refuse anything bigger */

struct lt_control {
    rd_kafka_t *rk;
    char commune[8];
    char topic[LT_TOPIC_NAME_MAX];
    rd_kafka_message_t *held; /* read, not yet recorded (the database failed) */
};

lt_control_t *lt_control_new(const lt_conf_t *conf, const char *province, const char *commune,
                             int64_t start_offset, char *errstr, size_t errstr_size)
{
    lt_control_t *ctl = calloc(1, sizeof(*ctl));
    if (!ctl)
        abort();
    lt_strlcpy(ctl->commune, commune, sizeof(ctl->commune));
    lt_topic_name(ctl->topic, sizeof(ctl->topic), province, commune, LT_TOPIC_CONTROL);
    rd_kafka_conf_t *kc = lt_kafka_conf_new(&conf->kafka, errstr, errstr_size);
    char group[64], rkerr[512];
    snprintf(group, sizeof(group), "lienthong-agent-%s-control", commune);
    /* Offsets live in the commune database: nothing is committed to Kafka,
     * and the topic is assigned, not subscribed (no group to join). */
    if (!kc || lt_kafka_conf_set(kc, "group.id", group, errstr, errstr_size) ||
        lt_kafka_conf_set(kc, "enable.auto.commit", "false", errstr, errstr_size) ||
        lt_kafka_conf_set(kc, "enable.auto.offset.store", "false", errstr, errstr_size))
        goto fail;
    if (!(ctl->rk = rd_kafka_new(RD_KAFKA_CONSUMER, kc, rkerr, sizeof(rkerr)))) {
        lt_err(errstr, errstr_size, "cannot create the control topic reader: %s", rkerr);
        goto fail;
    }
    kc = NULL;
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(parts, ctl->topic, 0)->offset = start_offset;
    rd_kafka_resp_err_t err = rd_kafka_assign(ctl->rk, parts);
    rd_kafka_topic_partition_list_destroy(parts);
    if (err) {
        lt_err(errstr, errstr_size, "cannot read %s: %s", ctl->topic, rd_kafka_err2str(err));
        goto fail;
    }
    return ctl;
fail:
    if (kc)
        rd_kafka_conf_destroy(kc);
    lt_control_destroy(ctl);
    return NULL;
}

void lt_control_destroy(lt_control_t *ctl)
{
    if (!ctl)
        return;
    if (ctl->held)
        rd_kafka_message_destroy(ctl->held);
    if (ctl->rk) {
        rd_kafka_consumer_close(ctl->rk);
        rd_kafka_destroy(ctl->rk);
    }
    free(ctl);
}

#define LT_CONTROL_MAX_ENTITIES 256

/* A request naming entities names at most LT_CONTROL_MAX_ENTITIES known ones
 * and asks for nothing else. NULL if fine, else why not. */
static const char *lt_control_check_entities(const Lienthong__V1__ResyncRequest *r)
{
    if (!r->n_entities)
        return NULL;
    if (r->n_entities > LT_CONTROL_MAX_ENTITIES)
        return "more than 256 entities";
    if (r->n_buckets || r->all_buckets || r->first_seq || r->last_seq)
        return "entities together with buckets or a range";
    for (size_t i = 0; i < r->n_entities; i++) {
        size_t len = strlen(r->entities[i]->entity_id);
        if (!lt_entity_type_name(r->entities[i]->entity_type) || len == 0 || len > 128)
            return "an entity with an unknown type or an id not of 1..128 bytes";
    }
    return NULL;
}

/* The entities of a request as the JSON the outbox keeps ([[type, id], ...]);
 * malloc'd, or NULL when it names none. */
static char *lt_control_entities_json(const Lienthong__V1__ResyncRequest *r)
{
    if (!r->n_entities)
        return NULL;
    json_t *list = json_array();
    for (size_t i = 0; i < r->n_entities; i++)
        json_array_append_new(list, json_pack("[ss]",
                                              lt_entity_type_name(r->entities[i]->entity_type),
                                              r->entities[i]->entity_id));
    char *text = json_dumps(list, JSON_COMPACT);
    json_decref(list);
    if (!text)
        abort();
    return text;
}

/* Is msg a request for this commune? Returns the decoded message (free with
 * protobuf_c_message_free_unpacked) or NULL with why. */
static Lienthong__V1__ControlMessage *lt_control_decode(const lt_control_t *ctl,
                                                        const rd_kafka_message_t *msg,
                                                        const char **why)
{
    if (msg->len > LT_CONTROL_MAX_BYTES) {
        *why = "too large";
        return NULL;
    }
    Lienthong__V1__ControlMessage *cm =
        lienthong__v1__control_message__unpack(NULL, msg->len, msg->payload);
    if (!cm) {
        *why = "not a ControlMessage";
        return NULL;
    }
    size_t id_len = strlen(cm->request_id);
    *why = strcmp(cm->commune_code, ctl->commune) != 0 ? "for another commune"
           : id_len == 0 || id_len >= 80              ? "request_id empty or longer than 79"
           : !cm->resync == !cm->confirmed            ? "not exactly one request in it"
                                                      : NULL;
    for (size_t i = 0; !*why && cm->resync && i < cm->resync->n_buckets; i++)
        if (cm->resync->buckets[i] >= LT_DIGEST_BUCKETS)
            *why = "a bucket out of range";
    if (!*why && cm->resync && cm->resync->first_seq > cm->resync->last_seq)
        *why = "first_seq after last_seq";
    if (!*why && cm->resync)
        *why = lt_control_check_entities(cm->resync);
    if (*why) {
        protobuf_c_message_free_unpacked(&cm->base, NULL);
        return NULL;
    }
    return cm;
}

/* Record one message (a request, or a skip). */
static lt_pg_rc_t lt_control_take(lt_control_t *ctl, PGconn *pg, const rd_kafka_message_t *msg,
                                  int *taken, char *errstr, size_t errstr_size)
{
    const char *why = NULL;
    Lienthong__V1__ControlMessage *cm = lt_control_decode(ctl, msg, &why);
    if (!cm) {
        lt_warn("control message ignored", "topic=%s offset=%" PRId64 " reason=\"%s\"",
                ctl->topic, msg->offset, why);
        return lt_outbox_control_skip(pg, ctl->commune, msg->offset + 1, errstr, errstr_size);
    }
    if (cm->confirmed) {
        lt_pg_rc_t rc = lt_outbox_confirm(pg, ctl->commune, cm->confirmed->seq, msg->offset + 1,
                                          errstr, errstr_size);
        if (rc == LT_PG_OK)
            lt_debug("province confirmed a digest", "commune=%s seq=%" PRIu64, ctl->commune,
                     cm->confirmed->seq);
        protobuf_c_message_free_unpacked(&cm->base, NULL);
        return rc;
    }
    const Lienthong__V1__ResyncRequest *r = cm->resync;
    char *entities = lt_control_entities_json(r);
    lt_resync_request_t req = {.request_id = cm->request_id,
                               .buckets = r->buckets,
                               .n_buckets = r->n_buckets,
                               .all_buckets = r->all_buckets,
                               .first_seq = r->first_seq,
                               .last_seq = r->last_seq,
                               .entities_json = entities};
    lt_pg_rc_t rc = lt_outbox_resync_accept(pg, ctl->commune, &req, msg->offset + 1, errstr,
                                            errstr_size);
    free(entities);
    if (rc == LT_PG_OK) {
        (*taken)++;
        lt_info("resync requested", "commune=%s request_id=%s buckets=%zu all=%d first_seq=%" PRIu64
                " last_seq=%" PRIu64 " entities=%zu", ctl->commune, cm->request_id, r->n_buckets,
                r->all_buckets, r->first_seq, r->last_seq, r->n_entities);
    }
    protobuf_c_message_free_unpacked(&cm->base, NULL);
    return rc;
}

lt_pg_rc_t lt_control_poll(lt_control_t *ctl, PGconn *pg, int *taken, char *errstr,
                           size_t errstr_size)
{
    *taken = 0;
    for (int i = 0; i < 16; i++) {
        rd_kafka_message_t *msg = ctl->held ? ctl->held : rd_kafka_consumer_poll(ctl->rk, 0);
        ctl->held = NULL;
        if (!msg)
            return LT_PG_OK;
        if (msg->err) {
            if (msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                lt_debug("control topic", "topic=%s error=\"%s\"", ctl->topic,
                         rd_kafka_message_errstr(msg));
            rd_kafka_message_destroy(msg);
            continue;
        }
        lt_pg_rc_t rc = lt_control_take(ctl, pg, msg, taken, errstr, errstr_size);
        if (rc != LT_PG_OK) {
            ctl->held = msg; /* taken again once the database answers */
            return rc;
        }
        rd_kafka_message_destroy(msg);
    }
    return LT_PG_OK;
}
