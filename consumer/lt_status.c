/* lt_status — `lienthong-sink status`. */
#include "lt_status.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include <librdkafka/rdkafka.h>

#include "lt_kafka.h"
#include "lt_pg.h"

static rd_kafka_t *status_kafka_new(const lt_conf_t *conf)
{
    char errstr[512];
    rd_kafka_conf_t *kc = lt_kafka_conf_new(&conf->kafka, errstr, sizeof(errstr));
    if (!kc) {
        fprintf(stderr, "error: %s\n", errstr);
        return NULL;
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, kc, errstr, sizeof(errstr));
    if (!rk) {
        fprintf(stderr, "error: cannot create Kafka client: %s\n", errstr);
        rd_kafka_conf_destroy(kc);
    }
    return rk;
}

static int64_t status_high_watermark(rd_kafka_t *rk, const char *topic)
{
    int64_t low = -1, high = -1;
    if (rd_kafka_query_watermark_offsets(rk, topic, 0, &low, &high, 5000))
        return -1;
    return high;
}

static const char status_sql[] =
    "SELECT c.commune_code, c.name, c.events_topic, coalesce(p.last_seq, 0),"
    " coalesce(p.events_applied, 0), coalesce(k.next_offset, 0),"
    " coalesce(to_char(p.updated_at, 'YYYY-MM-DD HH24:MI:SS'), '-'),"
    " (SELECT count(*) FROM lt.seq_gap g WHERE g.commune_code = c.commune_code"
    "   AND g.resolved_at IS NULL),"
    " (SELECT count(*) FROM lt.quarantine q WHERE q.commune_code = c.commune_code"
    "   AND q.replayed_at IS NULL)"
    " FROM lt.commune c LEFT JOIN lt.commune_progress p USING (commune_code)"
    " LEFT JOIN lt.kafka_offset k ON k.topic = c.events_topic AND k.partition = 0"
    " WHERE c.province_code = $1 ORDER BY c.commune_code";

int lt_status_run(const lt_conf_t *conf, const lt_sink_conf_t *sc, int json)
{
    (void)json;
    char errstr[1024];
    PGresult *res;
    PGconn *pg = lt_pg_connect(sc->postgres, "lienthong-sink", errstr, sizeof(errstr));
    if (!pg) {
        fprintf(stderr, "error: %s\n", errstr);
        return 1;
    }
    const char *params[] = {sc->province};
    lt_pg_rc_t rc = lt_pg_query(pg, status_sql, 1, params, &res, errstr, sizeof(errstr));
    PQfinish(pg);
    if (rc != LT_PG_OK) {
        fprintf(stderr, "error: %s\n", errstr);
        return 1;
    }
    rd_kafka_t *rk = status_kafka_new(conf);
    /* The name goes last: printf pads bytes, and Vietnamese names are multi-byte. */
    printf("%-7s %10s %10s %10s %6s %5s %5s  %-19s  %s\n", "commune", "last_seq", "applied",
           "offset", "lag", "gaps", "quar", "last applied (UTC)", "name");
    for (int row = 0; row < PQntuples(res); row++) {
        int64_t next = strtoll(PQgetvalue(res, row, 5), NULL, 10);
        int64_t high = rk ? status_high_watermark(rk, PQgetvalue(res, row, 2)) : -1;
        char lag[24] = "?";
        if (high >= 0)
            snprintf(lag, sizeof(lag), "%" PRId64, high > next ? high - next : 0);
        printf("%-7s %10s %10s %10" PRId64 " %6s %5s %5s  %-19s  %s\n", PQgetvalue(res, row, 0),
               PQgetvalue(res, row, 3), PQgetvalue(res, row, 4), next, lag,
               PQgetvalue(res, row, 7), PQgetvalue(res, row, 8), PQgetvalue(res, row, 6),
               PQgetvalue(res, row, 1));
    }
    PQclear(res);
    if (rk)
        rd_kafka_destroy(rk);
    return 0;
}
