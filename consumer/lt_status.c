/* lt_status — `lienthong-sink status`.
 *
 * PostgreSQL says what the province applied; Kafka is then asked a fixed
 * number of questions, whatever the number of communes, all under one
 * deadline: the cluster metadata (does Kafka answer, which topics exist), the
 * end offset of every events partition (one ListOffsets request per broker),
 * the sink's consumer group (which member holds which partition), and the
 * newest record of each lagging commune (one fetch). Any answer missing leaves
 * its numbers unknown ("?") instead of guessing 0. */
#include "lt_status.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "lt_codec.h"
#include "lt_kafka.h"
#include "lt_pg.h"
#include "lt_health.h"
#include "lt_store.h"
#include "lt_util.h"

typedef enum {
    STATUS_UNKNOWN = 0, /* Kafka did not tell */
    STATUS_CONSUMED,    /* a member of the sink's group holds the partition */
    STATUS_UNASSIGNED,  /* the topic exists, no member of the group holds it */
    STATUS_NO_TOPIC,    /* provisioned, but its events topic does not exist */
} status_state_t;

static const char *const status_state_names[] = {"?", "ok", "unassigned", "no-topic"};

typedef struct status_commune {
    const char *code, *name, *topic; /* point into the store's rows */
    const char *last_applied_at;     /* NULL when nothing was applied yet */
    int64_t last_seq, events_applied, next_offset, open_gaps, quarantined;
    int64_t end_offset;      /* Kafka's end offset of partition 0; -1 unknown */
    int64_t newest_last_seq; /* last_seq announced by the newest record; -1 unknown */
    int newest_fetched;      /* the newest record arrived (decodable or not) */
    int64_t first_unapplied_us; /* recorded time of the first event not applied; -1 unknown */
    int first_fetched;
    status_state_t state;
    const lt_store_status_t *row; /* heartbeat and digest readings */
    lt_health_state_t health;
    double lag_s;            /* age of the oldest event not yet applied; -1 unknown */
} status_commune_t;

typedef struct status_report {
    const char *province;
    char group[128];       /* the sink's consumer group */
    int kafka_reachable;   /* the cluster metadata came back */
    char kafka_error[1024]; /* the first thing Kafka did not tell, "" if none */
    int group_state;       /* rd_kafka_consumer_group_state_t, -1 unknown */
    int group_members;     /* -1 unknown */
    size_t n;
    status_commune_t *communes;
} status_report_t;

/* ------------------------------------------------------------ the numbers */

/* Records not yet applied: Kafka's end offset minus the next offset the
 * province stored with its last round. -1 unknown. */
static int64_t status_lag_records(const status_commune_t *c)
{
    if (c->end_offset < 0)
        return -1;
    return c->end_offset > c->next_offset ? c->end_offset - c->next_offset : 0;
}

/* Events not yet applied: the last_seq that the newest record's batch
 * announces (its signature is not checked here) beyond the province's
 * last_seq. With no record waiting nothing lags: what the consumed records
 * held was applied or quarantined (the quarantine column counts those). */
static int64_t status_lag_events(const status_commune_t *c)
{
    int64_t records = status_lag_records(c);
    if (records <= 0)
        return records;
    if (c->newest_last_seq < 0)
        return -1;
    return c->newest_last_seq > c->last_seq ? c->newest_last_seq - c->last_seq : 0;
}

static int status_is_problem(const status_commune_t *c)
{
    return c->state == STATUS_UNASSIGNED || c->state == STATUS_NO_TOPIC ||
           lt_health_alerts(c->health);
}

/* The commune's health from the province's readings and Kafka's. */
static void status_judge(status_commune_t *c, const lt_health_bounds_t *bounds, int64_t now_us)
{
    const lt_store_status_t *row = c->row;
    lt_health_input_t in = {
        .heartbeat_age_s = row->heartbeat_age_s,
        .clock_skew_s = row->clock_skew_s,
        .oldest_unsent_age_s = row->oldest_unsent_age_s,
        .oldest_unapplied_age_s =
            c->first_unapplied_us > 0 ? (double)(now_us - c->first_unapplied_us) / 1e6 : -1,
        .lag_records = status_lag_records(c),
        .last_applied_age_s = row->last_applied_age_s,
        .digest_equal = row->digest_equal,
        .quarantined_recent = row->quarantined_recent,
    };
    c->health = lt_health_judge(&in, bounds, &c->lag_s);
}

static int status_exit_code(const status_report_t *r)
{
    int unknown = !r->kafka_reachable;
    for (size_t i = 0; i < r->n; i++) {
        if (status_is_problem(&r->communes[i]))
            return LT_STATUS_EXIT_PROBLEM;
        if (r->communes[i].state == STATUS_UNKNOWN || status_lag_events(&r->communes[i]) < 0)
            unknown = 1;
    }
    return unknown ? LT_STATUS_EXIT_CANNOT_TELL : LT_STATUS_EXIT_OK;
}

static int status_no_sink_running(const status_report_t *r)
{
    return r->group_members == 0;
}

/* Keep the first failure: it is the cause, later ones mostly its echo. */
static void status_kafka_failed(status_report_t *r, const char *what, const char *why)
{
    if (!r->kafka_error[0])
        snprintf(r->kafka_error, sizeof(r->kafka_error), "%s: %s", what, why);
}

static status_commune_t *status_find(status_report_t *r, const char *topic)
{
    for (size_t i = 0; i < r->n; i++)
        if (strcmp(r->communes[i].topic, topic) == 0)
            return &r->communes[i];
    return NULL;
}

/* ---------------------------------------------------------------- province */

/* What the province applied of each commune (lt_store_status_free the
 * rows), or -1 with errstr. */
static int status_query_province(const lt_sink_conf_t *sc, lt_store_status_t **rows, size_t *n,
                                 char *errstr, size_t errstr_size)
{
    PGconn *pg = lt_pg_connect(sc->postgres, "lienthong-sink", errstr, errstr_size);
    if (!pg)
        return -1;
    lt_pg_rc_t rc = lt_store_status(pg, sc->province, rows, n, errstr, errstr_size);
    PQfinish(pg);
    return rc == LT_PG_OK ? 0 : -1;
}

static void status_read_communes(status_report_t *r, const lt_store_status_t *rows)
{
    for (size_t i = 0; i < r->n; i++) {
        status_commune_t *c = &r->communes[i];
        const lt_store_status_t *row = &rows[i];
        c->code = row->code;
        c->name = row->name;
        c->topic = row->events_topic;
        c->last_seq = row->last_seq;
        c->events_applied = row->events_applied;
        c->next_offset = row->next_offset;
        c->last_applied_at = row->last_applied_at;
        c->open_gaps = row->open_gaps;
        c->quarantined = row->quarantined;
        c->end_offset = -1;
        c->newest_last_seq = -1;
        c->first_unapplied_us = -1;
        c->state = STATUS_UNKNOWN;
        c->row = row;
    }
}

/* ------------------------------------------------------------------- kafka */

static int status_remaining_ms(int64_t deadline_ms)
{
    int64_t left = deadline_ms - lt_monotonic_ms();
    return left > 0 ? (int)left : 0;
}

/* A consumer handle: it can ask for metadata, offsets and groups, and fetch.
 * Its own group id (assign() needs one) is never joined and never committed:
 * the sink's group is only described, never touched. */
static rd_kafka_t *status_kafka_new(const lt_conf_t *conf, const char *province, char *errstr,
                                    size_t errstr_size)
{
    char group[64], rkerr[512];
    snprintf(group, sizeof(group), "lienthong-sink-status-%s", province);
    rd_kafka_conf_t *kc = lt_kafka_conf_new(&conf->kafka, errstr, errstr_size);
    if (!kc)
        return NULL;
    const char *const settings[][2] = {{"group.id", group},
                                       {"enable.auto.commit", "false"},
                                       {"enable.auto.offset.store", "false"},
                                       {"auto.offset.reset", "error"},
                                       {"log.connection.close", "false"}};
    for (size_t i = 0; i < sizeof(settings) / sizeof(*settings); i++) {
        if (lt_kafka_conf_set(kc, settings[i][0], settings[i][1], errstr, errstr_size)) {
            rd_kafka_conf_destroy(kc);
            return NULL;
        }
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, kc, rkerr, sizeof(rkerr));
    if (!rk) {
        lt_err(errstr, errstr_size, "cannot create Kafka client: %s", rkerr);
        rd_kafka_conf_destroy(kc);
    }
    return rk;
}

/* Does Kafka answer at all, and which provisioned topics exist? */
static int status_read_metadata(rd_kafka_t *rk, status_report_t *r, int64_t deadline_ms)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, NULL, &md,
                                                status_remaining_ms(deadline_ms));
    if (err) {
        status_kafka_failed(r, "cluster metadata", rd_kafka_err2str(err));
        return -1;
    }
    r->kafka_reachable = 1;
    for (size_t i = 0; i < r->n; i++)
        r->communes[i].state = STATUS_NO_TOPIC;
    /* A topic listed with an error (no leader yet) exists: its numbers stay unknown. */
    for (int t = 0; t < md->topic_cnt; t++) {
        status_commune_t *c = status_find(r, md->topics[t].topic);
        if (c)
            c->state = STATUS_UNKNOWN;
        if (c && md->topics[t].err)
            status_kafka_failed(r, c->topic, rd_kafka_err2str(md->topics[t].err));
    }
    rd_kafka_metadata_destroy(md);
    return 0;
}

/* The end offset of every existing events partition, in one call. */
static void status_read_end_offsets(rd_kafka_t *rk, status_report_t *r, int64_t deadline_ms)
{
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new((int)r->n);
    for (size_t i = 0; i < r->n; i++)
        if (r->communes[i].state != STATUS_NO_TOPIC)
            rd_kafka_topic_partition_list_add(parts, r->communes[i].topic, 0)->offset =
                RD_KAFKA_OFFSET_END;
    if (parts->cnt > 0) {
        rd_kafka_resp_err_t err =
            rd_kafka_offsets_for_times(rk, parts, status_remaining_ms(deadline_ms));
        for (int i = 0; i < parts->cnt; i++) {
            rd_kafka_topic_partition_t *p = &parts->elems[i];
            rd_kafka_resp_err_t perr = err ? err : p->err;
            if (perr)
                status_kafka_failed(r, "end offsets", rd_kafka_err2str(perr));
            else if (p->offset >= 0)
                status_find(r, p->topic)->end_offset = p->offset;
        }
    }
    rd_kafka_topic_partition_list_destroy(parts);
}

static void status_mark_assigned(status_report_t *r, const rd_kafka_ConsumerGroupDescription_t *g)
{
    for (size_t m = 0; m < rd_kafka_ConsumerGroupDescription_member_count(g); m++) {
        const rd_kafka_MemberDescription_t *member = rd_kafka_ConsumerGroupDescription_member(g, m);
        const rd_kafka_topic_partition_list_t *parts = rd_kafka_MemberAssignment_partitions(
            rd_kafka_MemberDescription_assignment(member));
        for (int i = 0; parts && i < parts->cnt; i++) {
            status_commune_t *c = status_find(r, parts->elems[i].topic);
            if (c && parts->elems[i].partition == 0 && c->state != STATUS_NO_TOPIC)
                c->state = STATUS_CONSUMED;
        }
    }
}

/* A coordinator that moves or is still loading (a fresh or restarted broker)
 * answers again in a moment: ask again while time remains. */
static int status_coordinator_busy(rd_kafka_resp_err_t err)
{
    return err == RD_KAFKA_RESP_ERR_NOT_COORDINATOR ||
           err == RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS ||
           err == RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE;
}

/* Only a Stable group reports its members' assignments; an Empty or Dead one
 * (no group yet) has no member; while it rebalances nobody can tell.
 * Returns a busy coordinator's error (nothing read), else 0. */
static rd_kafka_resp_err_t status_read_assignment(status_report_t *r,
                                                  const rd_kafka_ConsumerGroupDescription_t *g)
{
    const rd_kafka_error_t *error = rd_kafka_ConsumerGroupDescription_error(g);
    rd_kafka_resp_err_t err = error ? rd_kafka_error_code(error) : RD_KAFKA_RESP_ERR_NO_ERROR;
    int not_found = err == RD_KAFKA_RESP_ERR_GROUP_ID_NOT_FOUND;
    if (status_coordinator_busy(err))
        return err;
    if (err && !not_found) {
        status_kafka_failed(r, "consumer group", rd_kafka_error_string(error));
        return RD_KAFKA_RESP_ERR_NO_ERROR;
    }
    r->group_state = not_found ? RD_KAFKA_CONSUMER_GROUP_STATE_DEAD
                               : (int)rd_kafka_ConsumerGroupDescription_state(g);
    r->group_members = not_found ? 0 : (int)rd_kafka_ConsumerGroupDescription_member_count(g);
    if (r->group_state == RD_KAFKA_CONSUMER_GROUP_STATE_STABLE)
        status_mark_assigned(r, g);
    else if (r->group_members > 0)
        return RD_KAFKA_RESP_ERR_NO_ERROR; /* rebalancing: assignments are not reported */
    for (size_t i = 0; i < r->n; i++)
        if (r->communes[i].state == STATUS_UNKNOWN)
            r->communes[i].state = STATUS_UNASSIGNED;
    return RD_KAFKA_RESP_ERR_NO_ERROR;
}

static rd_kafka_resp_err_t status_describe_group_once(rd_kafka_t *rk, status_report_t *r,
                                                      int64_t deadline_ms)
{
    char rkerr[256];
    const char *groups[] = {r->group};
    rd_kafka_resp_err_t busy = RD_KAFKA_RESP_ERR_NO_ERROR;
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opts =
        rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS);
    rd_kafka_AdminOptions_set_request_timeout(opts, status_remaining_ms(deadline_ms) + 1, rkerr,
                                              sizeof(rkerr));
    rd_kafka_DescribeConsumerGroups(rk, groups, 1, opts, q);
    /* The request timeout ends the request; the margin only covers the reply. */
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, status_remaining_ms(deadline_ms) + 500);
    const rd_kafka_DescribeConsumerGroups_result_t *res =
        ev ? rd_kafka_event_DescribeConsumerGroups_result(ev) : NULL;
    size_t n = 0;
    const rd_kafka_ConsumerGroupDescription_t **descs =
        res ? rd_kafka_DescribeConsumerGroups_result_groups(res, &n) : NULL;
    if (!ev)
        status_kafka_failed(r, "consumer group", "no answer in time");
    else if (status_coordinator_busy(rd_kafka_event_error(ev)))
        busy = rd_kafka_event_error(ev);
    else if (rd_kafka_event_error(ev) || n != 1)
        status_kafka_failed(r, "consumer group", rd_kafka_event_error_string(ev));
    else
        busy = status_read_assignment(r, descs[0]);
    rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_queue_destroy(q);
    return busy;
}

/* Which member of the sink's group holds which commune's partition. */
static void status_describe_group(rd_kafka_t *rk, status_report_t *r, int64_t deadline_ms)
{
    rd_kafka_resp_err_t busy;
    while ((busy = status_describe_group_once(rk, r, deadline_ms)) &&
           status_remaining_ms(deadline_ms) > 200)
        lt_sleep_ms(100);
    if (busy)
        status_kafka_failed(r, "consumer group", rd_kafka_err2str(busy));
}

/* The record's batch, or NULL when it does not decode (free with
 * protobuf_c_message_free_unpacked). Its signature is not checked here. */
static Lienthong__V1__Batch *status_decode_batch(const rd_kafka_message_t *rkm, size_t max_bytes)
{
    char errstr[256];
    lt_decode_err_t err;
    Lienthong__V1__SignedBatch *sb =
        lt_signed_batch_decode(rkm->payload, rkm->len, max_bytes, &err, errstr, sizeof(errstr));
    if (!sb)
        return NULL;
    Lienthong__V1__Batch *batch =
        lt_batch_decode(sb->batch.data, sb->batch.len, max_bytes, &err, errstr, sizeof(errstr));
    protobuf_c_message_free_unpacked(&sb->base, NULL);
    return batch;
}

/* Which record of a lagging commune to read: the newest (what the commune
 * announced last) or the first not applied (how old the lag is). */
typedef enum { STATUS_NEWEST, STATUS_FIRST_UNAPPLIED } status_which_t;

static void status_take_record(status_commune_t *c, status_which_t which,
                               const rd_kafka_message_t *rkm, size_t max_bytes)
{
    Lienthong__V1__Batch *batch = rkm->err ? NULL : status_decode_batch(rkm, max_bytes);
    if (which == STATUS_NEWEST) {
        c->newest_fetched = 1;
        c->newest_last_seq = batch ? (int64_t)batch->last_seq : -1;
    } else {
        c->first_fetched = 1;
        /* A record without events (a digest, a heartbeat) tells its own time. */
        c->first_unapplied_us = !batch               ? -1
                                : batch->n_events    ? batch->events[0]->recorded_at_us
                                                     : batch->created_at_us;
    }
    if (batch)
        protobuf_c_message_free_unpacked(&batch->base, NULL);
}

/* Assign the chosen record of every commune with records waiting; returns
 * how many were asked for. */
static int status_assign(rd_kafka_t *rk, status_report_t *r, status_which_t which)
{
    rd_kafka_topic_partition_list_t *parts = rd_kafka_topic_partition_list_new((int)r->n);
    for (size_t i = 0; i < r->n; i++) {
        const status_commune_t *c = &r->communes[i];
        if (status_lag_records(c) > 0)
            rd_kafka_topic_partition_list_add(parts, c->topic, 0)->offset =
                which == STATUS_NEWEST ? c->end_offset - 1 : c->next_offset;
    }
    int wanted = parts->cnt;
    rd_kafka_resp_err_t err = wanted > 0 ? rd_kafka_assign(rk, parts) : RD_KAFKA_RESP_ERR_NO_ERROR;
    if (err) {
        status_kafka_failed(r, "waiting records", rd_kafka_err2str(err));
        wanted = 0;
    }
    rd_kafka_topic_partition_list_destroy(parts);
    return wanted;
}

/* Read the chosen record of every lagging commune, all in one fetch. */
static void status_read_records(rd_kafka_t *rk, status_report_t *r, status_which_t which,
                                size_t max_bytes, int64_t deadline_ms)
{
    int pending = status_assign(rk, r, which);
    while (pending > 0 && status_remaining_ms(deadline_ms) > 0) {
        int wait_ms = status_remaining_ms(deadline_ms);
        rd_kafka_message_t *rkm = rd_kafka_consumer_poll(rk, wait_ms < 100 ? wait_ms : 100);
        if (!rkm)
            continue;
        /* An error about one partition (its record is gone) ends the wait for it. */
        status_commune_t *c = rkm->rkt ? status_find(r, rd_kafka_topic_name(rkm->rkt)) : NULL;
        if (rkm->err)
            status_kafka_failed(r, "waiting records", rd_kafka_message_errstr(rkm));
        int fetched = c && (which == STATUS_NEWEST ? c->newest_fetched : c->first_fetched);
        if (c && !fetched) {
            status_take_record(c, which, rkm, max_bytes);
            pending--;
        }
        rd_kafka_message_destroy(rkm);
    }
    if (pending > 0)
        status_kafka_failed(r, "waiting records", "not all arrived in time");
    rd_kafka_assign(rk, NULL);
}

static void status_ask_kafka(status_report_t *r, const lt_conf_t *conf, const lt_sink_conf_t *sc,
                             int timeout_ms)
{
    char errstr[512];
    int64_t deadline_ms = lt_monotonic_ms() + timeout_ms;
    rd_kafka_t *rk = status_kafka_new(conf, sc->province, errstr, sizeof(errstr));
    if (!rk) {
        status_kafka_failed(r, "client", errstr);
        return;
    }
    if (status_read_metadata(rk, r, deadline_ms) == 0) {
        status_read_end_offsets(rk, r, deadline_ms);
        status_describe_group(rk, r, deadline_ms);
        status_read_records(rk, r, STATUS_NEWEST, (size_t)sc->max_message_bytes, deadline_ms);
        status_read_records(rk, r, STATUS_FIRST_UNAPPLIED, (size_t)sc->max_message_bytes,
                            deadline_ms);
    }
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);
}

/* ---------------------------------------------------------------- reports */

static const char *status_group_state_name(const status_report_t *r)
{
    return r->group_state < 0 ? "?"
                              : rd_kafka_consumer_group_state_name(
                                    (rd_kafka_consumer_group_state_t)r->group_state);
}

static void status_format_count(char *out, size_t size, int64_t value)
{
    if (value < 0)
        lt_strlcpy(out, "?", size);
    else
        snprintf(out, size, "%" PRId64, value);
}

static void status_print_text(const status_report_t *r)
{
    printf("province %s, sink group %s: ", r->province, r->group);
    if (r->group_members < 0)
        printf("unknown\n");
    else
        printf("%s, %d member(s)\n", status_group_state_name(r), r->group_members);
    /* The name goes last: printf pads bytes, and Vietnamese names are multi-byte. */
    printf("%-7s  %-10s %10s %10s %10s %11s  %-10s %8s %8s %7s %5s %5s  %-19s  %s\n", "commune",
           "state", "last_seq", "applied", "lag_events", "lag_records", "health", "lag_s",
           "backlog", "heard_s", "gaps", "quar", "last applied (UTC)", "name");
    for (size_t i = 0; i < r->n; i++) {
        const status_commune_t *c = &r->communes[i];
        char events[24], records[24], lag[24], backlog[24], heard[24];
        status_format_count(events, sizeof(events), status_lag_events(c));
        status_format_count(records, sizeof(records), status_lag_records(c));
        status_format_count(lag, sizeof(lag), c->lag_s < 0 ? -1 : (int64_t)c->lag_s);
        status_format_count(backlog, sizeof(backlog), c->row->outbox_pending);
        status_format_count(heard, sizeof(heard),
                            c->row->heartbeat_age_s < 0 ? -1 : (int64_t)c->row->heartbeat_age_s);
        printf("%-7s  %-10s %10" PRId64 " %10" PRId64 " %10s %11s  %-10s %8s %8s %7s %5" PRId64
               " %5" PRId64 "  %-19s  %s\n",
               c->code, status_state_names[c->state], c->last_seq, c->events_applied, events,
               records, lt_health_name(c->health), lag, backlog, heard, c->open_gaps,
               c->quarantined, c->last_applied_at ? c->last_applied_at : "-", c->name);
    }
    printf("lag_events: events beyond last_seq, as announced by the newest Kafka record (its\n"
           "batch's last_seq, signature not checked); lag_records: Kafka records (batches)\n"
           "after the offset the province stored; lag_s: age in seconds of the oldest event\n"
           "not yet applied, at the commune or in Kafka; backlog: rows at the commune not yet\n"
           "in Kafka; heard_s: seconds since its last heartbeat. ? = unknown.\n");
}

static json_t *status_json_count(int64_t value)
{
    return value < 0 ? json_null() : json_integer(value);
}

static json_t *status_json_text(const char *s)
{
    json_t *text = s ? json_string(s) : NULL;
    return text ? text : json_null();
}

/* Health readings of one commune, for --json. */
static json_t *status_json_health(const status_commune_t *c)
{
    const lt_store_status_t *row = c->row;
    json_t *h = json_pack("{s:s s:b}", "state", lt_health_name(c->health), "alert",
                          lt_health_alerts(c->health));
    json_object_set_new(h, "lag_seconds", c->lag_s < 0 ? json_null() : json_real(c->lag_s));
    json_object_set_new(h, "heartbeat_age_seconds", row->heartbeat_age_s < 0
                                                        ? json_null()
                                                        : json_real(row->heartbeat_age_s));
    json_object_set_new(h, "clock_skew_seconds", json_real(row->clock_skew_s));
    json_object_set_new(h, "backlog_rows", status_json_count(row->outbox_pending));
    json_object_set_new(h, "oldest_unsent_age_seconds",
                        row->oldest_unsent_age_s < 0 ? json_null()
                                                     : json_real(row->oldest_unsent_age_s));
    json_object_set_new(h, "rows_refused", status_json_count(row->rows_refused));
    json_object_set_new(h, "agent_version", status_json_text(row->agent_version));
    json_object_set_new(h, "digest_equal", row->digest_equal < 0 ? json_null()
                                                                 : json_boolean(row->digest_equal));
    json_object_set_new(h, "quarantined_recent", json_integer(row->quarantined_recent));
    return h;
}

static json_t *status_json_commune_base(const status_commune_t *c)
{
    return json_pack("{s:o s:o s:o s:s s:I s:I s:I s:o s:o s:o s:o s:I s:I s:o}", "commune",
                     status_json_text(c->code), "name", status_json_text(c->name),
                     "events_topic", status_json_text(c->topic), "state",
                     status_state_names[c->state], "last_seq", (json_int_t)c->last_seq,
                     "events_applied", (json_int_t)c->events_applied, "next_offset",
                     (json_int_t)c->next_offset, "end_offset", status_json_count(c->end_offset),
                     "newest_last_seq", status_json_count(c->newest_last_seq), "lag_events",
                     status_json_count(status_lag_events(c)), "lag_records",
                     status_json_count(status_lag_records(c)), "open_gaps",
                     (json_int_t)c->open_gaps, "quarantined", (json_int_t)c->quarantined,
                     "last_applied_at", status_json_text(c->last_applied_at));
}

static json_t *status_json_commune(const status_commune_t *c)
{
    json_t *row = status_json_commune_base(c);
    json_object_set_new(row, "health", status_json_health(c));
    return row;
}

static json_t *status_document(const status_report_t *r, int exit_code)
{
    json_t *communes = json_array();
    for (size_t i = 0; i < r->n; i++)
        json_array_append_new(communes, status_json_commune(&r->communes[i]));
    json_t *doc = json_pack(
        "{s:s s:{s:b s:o} s:{s:s s:o s:o} s:i s:o}", "province", r->province, "kafka",
        "reachable", r->kafka_reachable, "error",
        status_json_text(r->kafka_error[0] ? r->kafka_error : NULL), "sink_group", "id",
        r->group, "state", status_json_text(r->group_state < 0 ? NULL : status_group_state_name(r)),
        "members", status_json_count(r->group_members), "exit_status", exit_code, "communes",
        communes);
    return doc;
}

static void status_print_json(const status_report_t *r, int exit_code)
{
    json_t *doc = status_document(r, exit_code);
    json_dumpf(doc, stdout, JSON_INDENT(2));
    fputc('\n', stdout);
    json_decref(doc);
}

static const char *status_bootstrap_servers(const lt_conf_t *conf)
{
    for (size_t i = 0; i < conf->kafka.count; i++)
        if (strcmp(conf->kafka.keys[i], "bootstrap.servers") == 0)
            return conf->kafka.values[i];
    return "(kafka.bootstrap.servers unset)";
}

/* What must be acted on, or why the report is incomplete, on stderr. */
static void status_print_verdict(const status_report_t *r, const lt_conf_t *conf)
{
    if (!r->kafka_reachable)
        fprintf(stderr, "error: Kafka at %s did not answer (%s): cannot tell the lag or whether "
                        "a sink consumes each commune\n", status_bootstrap_servers(conf),
                r->kafka_error);
    else if (r->kafka_error[0])
        fprintf(stderr, "error: Kafka did not tell everything (%s): ? marks what is unknown\n",
                r->kafka_error);
    if (status_no_sink_running(r) && r->n > 0)
        fprintf(stderr, "problem: no sink is running: consumer group %s has no member\n",
                r->group);
    else if (r->group_members > 0 && r->group_state != RD_KAFKA_CONSUMER_GROUP_STATE_STABLE)
        fprintf(stderr, "note: consumer group %s is rebalancing (%s): assignments unknown\n",
                r->group, status_group_state_name(r));
    for (size_t i = 0; i < r->n; i++) {
        const status_commune_t *c = &r->communes[i];
        if (c->state == STATUS_NO_TOPIC)
            fprintf(stderr, "problem: commune %s: events topic %s does not exist "
                            "(provision the commune again)\n", c->code, c->topic);
        else if (c->state == STATUS_UNASSIGNED && !status_no_sink_running(r))
            fprintf(stderr, "problem: commune %s: events topic %s is assigned to no member of "
                            "group %s\n", c->code, c->topic, r->group);
    }
}

/* Everything status reports, gathered: the province's rows (*rows, freed
 * with lt_store_status_free) and Kafka's answers in *r. Returns 0, or -1
 * with errstr when the province database did not answer. */
static int status_collect(const lt_conf_t *conf, const lt_sink_conf_t *sc, int timeout_ms,
                          status_report_t *r, lt_store_status_t **rows, size_t *n_rows,
                          char *errstr, size_t errstr_size)
{
    if (status_query_province(sc, rows, n_rows, errstr, errstr_size) != 0)
        return -1;
    *r = (status_report_t){.province = sc->province, .group_state = -1, .group_members = -1};
    /* The sink's own default (lt_sink.c): describe the group it joins. */
    if (sc->group_id)
        lt_strlcpy(r->group, sc->group_id, sizeof(r->group));
    else
        snprintf(r->group, sizeof(r->group), "lienthong-sink-%s", sc->province);
    r->n = *n_rows;
    r->communes = calloc(r->n ? r->n : 1, sizeof(*r->communes));
    if (!r->communes)
        abort();
    status_read_communes(r, *rows);
    status_ask_kafka(r, conf, sc, timeout_ms);
    lt_health_bounds_t bounds = lt_health_default_bounds((double)sc->heartbeat_interval_s);
    bounds.lag_warn_s = (double)sc->lag_warn_s;
    bounds.stalled_after_s = (double)sc->stalled_after_s;
    bounds.skew_max_s = (double)sc->skew_max_s;
    bounds.idle_after_s = (double)sc->idle_after_s;
    for (size_t i = 0; i < r->n; i++)
        status_judge(&r->communes[i], &bounds, lt_now_us());
    return 0;
}

int lt_status_run(const lt_conf_t *conf, const lt_sink_conf_t *sc, int json, int timeout_ms)
{
    char errstr[1024];
    lt_store_status_t *rows = NULL;
    size_t n_rows = 0;
    status_report_t r;
    if (status_collect(conf, sc, timeout_ms, &r, &rows, &n_rows, errstr, sizeof(errstr)) != 0) {
        fprintf(stderr, "error: %s; cannot tell what the province applied\n", errstr);
        return LT_STATUS_EXIT_CANNOT_TELL;
    }
    int exit_code = status_exit_code(&r);
    if (json)
        status_print_json(&r, exit_code);
    else
        status_print_text(&r);
    fflush(stdout);
    status_print_verdict(&r, conf);
    free(r.communes);
    lt_store_status_free(rows, n_rows);
    return exit_code;
}

json_t *lt_status_document(const lt_conf_t *conf, const lt_sink_conf_t *sc, int timeout_ms)
{
    char errstr[1024];
    lt_store_status_t *rows = NULL;
    size_t n_rows = 0;
    status_report_t r;
    if (status_collect(conf, sc, timeout_ms, &r, &rows, &n_rows, errstr, sizeof(errstr)) != 0)
        return json_pack("{s:s, s:s, s:i}", "province", sc->province, "error", errstr,
                         "exit_status", LT_STATUS_EXIT_CANNOT_TELL);
    json_t *doc = status_document(&r, status_exit_code(&r));
    free(r.communes);
    lt_store_status_free(rows, n_rows);
    return doc;
}

static int status_usage(void)
{
    fprintf(stderr, "usage: lienthong-sink status [--json] [--timeout SECONDS] [--watch [SECONDS]]\n");
    return LT_STATUS_EXIT_USAGE;
}

int lt_status_command(const lt_conf_t *conf, const lt_sink_conf_t *sc, int argc, char **argv)
{
    int json = 0, timeout_ms = LT_STATUS_TIMEOUT_MS_DEFAULT, watch_s = 0;
    for (int i = 1; i < argc; i++) {
        char *end;
        if (strcmp(argv[i], "--json") == 0)
            json = 1;
        else if (strcmp(argv[i], "--watch") == 0) {
            watch_s = 5;
            if (i + 1 < argc && argv[i + 1][0] != '-') {
                watch_s = (int)strtol(argv[++i], &end, 10);
                if (*end || watch_s < 1 || watch_s > 3600)
                    return status_usage();
            }
        }
        else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
            double seconds = strtod(argv[++i], &end);
            if (*end || !(seconds > 0 && seconds <= 3600))
                return status_usage();
            timeout_ms = (int)(seconds * 1000);
        } else
            return status_usage();
    }
    if (!watch_s)
        return lt_status_run(conf, sc, json, timeout_ms);
    /* One screen, refreshed until Ctrl-C; the exit status of the last look. */
    lt_signals_install();
    int rc = LT_STATUS_EXIT_OK;
    while (!lt_stop_requested) {
        if (!json)
            printf("\033[H\033[2J");
        rc = lt_status_run(conf, sc, json, timeout_ms);
        printf("(every %d s; Ctrl-C to stop)\n", watch_s);
        fflush(stdout);
        lt_sleep_ms(watch_s * 1000);
    }
    return rc;
}
