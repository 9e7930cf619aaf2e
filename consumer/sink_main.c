/* lienthong-sink — the province side: schema, commune provisioning, the
 * applying daemon and a status report. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "lt_cli.h"
#include "lt_kafka.h"
#include "lt_log.h"
#include "lt_pg.h"
#include "lt_sign.h"
#include "lt_sink.h"
#include "lt_status.h"
#include "lt_store.h"
#include "lt_topic.h"
#include "lt_units.h"
#include "lt_util.h"

static const char sink_commands[] =
    "  migrate                       create or update the province schema\n"
    "  provision COMMUNE [KEY.pem]   register a commune of this province and create its\n"
    "                                topics; KEY.pem is its Ed25519 public key. A code of\n"
    "                                the list before 1 July 2025 is accepted when the merge\n"
    "                                mapping gives that commune to this province (to merge\n"
    "                                it later: lienthong-reconcile merge)\n"
    "  run                           apply every commune's events until SIGTERM\n"
    "  status [--json] [--timeout S] [--watch [S]]\n"
    "                                per commune: health (OK, IDLE, LAGGING, STALLED,\n"
    "                                OFFLINE, SKEWED, DIVERGED, QUARANTINE), lag in events,\n"
    "                                in Kafka records and in seconds, backlog at the commune,\n"
    "                                last heard, gaps, quarantine, and whether a sink\n"
    "                                consumes it (Kafka is given S seconds, default 5);\n"
    "                                --watch refreshes every S seconds (default 5).\n"
    "                                Exit 0 all well, 1 cannot tell (PostgreSQL or Kafka did\n"
    "                                not answer), 3 a problem: a commune in an alert state,\n"
    "                                unassigned or without topic, or no sink running\n";

static int sink_require(const lt_sink_conf_t *sc)
{
    const char *missing = !sc->province ? "sink.province" : !sc->postgres ? "sink.postgres" : NULL;
    if (missing) {
        fprintf(stderr, "error: %s is not set (in the config file or with -o %s=...)\n",
                missing, missing);
        return 2;
    }
    if (!lt_is_digits(sc->province, 2)) {
        fprintf(stderr, "error: sink.province must be 2 digits, got \"%s\"\n", sc->province);
        return 2;
    }
    return 0;
}

static PGconn *sink_connect(const lt_sink_conf_t *sc)
{
    char errstr[1024];
    PGconn *pg = lt_pg_connect(sc->postgres, "lienthong-sink", errstr, sizeof(errstr));
    if (!pg)
        fprintf(stderr, "error: %s\n", errstr);
    return pg;
}

static int sink_cmd_migrate(const lt_sink_conf_t *sc)
{
    char errstr[1024];
    PGconn *pg = sink_connect(sc);
    if (!pg)
        return 1;
    lt_pg_rc_t rc = lt_store_migrate(pg, errstr, sizeof(errstr));
    PQfinish(pg);
    if (rc != LT_PG_OK) {
        fprintf(stderr, "error: %s\n", errstr);
        return 1;
    }
    printf("province %s: schema lt ready\n", sc->province);
    return 0;
}

/* Admin client: a producer handle is the lightest that can call CreateTopics. */
static rd_kafka_t *sink_admin_new(const lt_conf_t *conf)
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

static int sink_register(PGconn *pg, const lt_sink_conf_t *sc, const lt_unit_t *unit,
                         const char *events, const char *control, const char *key_id,
                         const char *pem)
{
    char errstr[1024];
    lt_store_commune_t commune = {.code = unit->code,
                                  .province = sc->province,
                                  .name = unit->full_name,
                                  .events_topic = events,
                                  .control_topic = control,
                                  .key_id = key_id,
                                  .public_key = pem};
    /* A running sink is told: it loads the commune and looks for its topic now. */
    if (lt_store_register_commune(pg, &commune, errstr, sizeof(errstr)) != LT_PG_OK) {
        fprintf(stderr, "error: %s\n", errstr);
        return 1;
    }
    return 0;
}

/* A commune of the list before 1 July 2025 whose successors lie in province
 * (a province that ran agents before the reform, merging them now): into
 * *out, named "<old name> (before 2025-07-01)". NULL if there is none. */
static const lt_unit_t *sink_pre_reform_commune(const lt_units_t *units, const char *province,
                                                const char *code, lt_unit_t *out, char *name,
                                                size_t name_size)
{
    lt_unit_at_t at;
    if (lt_units_lookup(units, code, "2025-06-30", &at) != 0 || at.level != LT_UNIT_COMMUNE ||
        !at.province_code || strcmp(at.province_code, province) != 0)
        return NULL;
    snprintf(name, name_size, "%s (before %s)", at.full_name, LT_UNITS_REFORM_VERSION);
    *out = (lt_unit_t){.code = at.code, .province_code = province, .full_name = name};
    return out;
}

static int sink_cmd_provision(const lt_conf_t *conf, const lt_sink_conf_t *sc, int argc,
                              char **argv)
{
    char errstr[1024], events[LT_TOPIC_NAME_MAX], control[LT_TOPIC_NAME_MAX];
    char key_id[LT_KEY_ID_MAX];
    char *pem = NULL;
    int rc = 1;
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: lienthong-sink provision COMMUNE [PUBLIC_KEY.pem]\n");
        return 2;
    }
    lt_units_t *units = lt_units_open(sc->units_file, errstr, sizeof(errstr));
    if (!units) {
        fprintf(stderr, "error: %s\n", errstr);
        return 1;
    }
    lt_unit_t old_unit;
    char old_name[256];
    const lt_unit_t *unit = lt_units_commune(units, argv[1]);
    if (!unit || strcmp(unit->province_code, sc->province) != 0)
        unit = sink_pre_reform_commune(units, sc->province, argv[1], &old_unit, old_name,
                                       sizeof(old_name));
    if (!unit) {
        fprintf(stderr, "error: commune \"%s\" is not in province %s (%s) in the 2025 unit list"
                " nor, before the reform, in the merge mapping\n", argv[1], sc->province,
                lt_units_commune(units, argv[1]) ? "it belongs to another province"
                                                  : "no commune has this code");
        goto done;
    }
    if (argc == 3) {
        if (!(pem = lt_read_file(argv[2], NULL, errstr, sizeof(errstr))) ||
            lt_sign_key_id_of_pem(pem, key_id, sizeof(key_id), errstr, sizeof(errstr)) != 0) {
            fprintf(stderr, "error: %s\n", errstr);
            goto done;
        }
    }
    lt_topic_name(events, sizeof(events), sc->province, unit->code, LT_TOPIC_EVENTS);
    lt_topic_name(control, sizeof(control), sc->province, unit->code, LT_TOPIC_CONTROL);
    rd_kafka_t *rk = sink_admin_new(conf);
    if (!rk)
        goto done;
    const char *topics[] = {events, control};
    /* One size limit for the whole path: agents read it back from the topic. */
    char max_bytes[24], retention[24];
    snprintf(max_bytes, sizeof(max_bytes), "%ld", sc->max_message_bytes);
    /* Explicit, not the broker's default: the sink must read within it. */
    snprintf(retention, sizeof(retention), "%lld",
             sc->retention_days ? (long long)sc->retention_days * 86400000LL : -1LL);
    const char *const configs[][2] = {{"max.message.bytes", max_bytes},
                                      {"retention.ms", retention}};
    int trc = lt_kafka_create_topics(rk, topics, 2, (int)sc->replication_factor, configs, 2,
                                     15000, errstr, sizeof(errstr));
    rd_kafka_destroy(rk);
    if (trc != 0) {
        fprintf(stderr, "error: %s\n", errstr);
        goto done;
    }
    PGconn *pg = sink_connect(sc);
    if (pg) {
        rc = sink_register(pg, sc, unit, events, control, pem ? key_id : NULL, pem);
        PQfinish(pg);
    }
    if (rc == 0)
        printf("commune %s %s: topics %s, %s (max.message.bytes %s, retention.ms %s); signer %s\n",
               unit->code, unit->full_name, events, control, max_bytes, retention,
               pem ? key_id : "sha256: (integrity only)");
done:
    free(pem);
    lt_units_destroy(units);
    return rc;
}

int main(int argc, char **argv)
{
    lt_sink_conf_t sc;
    memset(&sc, 0, sizeof(sc));
    lt_conf_t conf = {.table = lt_sink_conf_table, .dst = &sc};
    lt_cli_t cli = {.prog = "lienthong-sink",
                    .summary = "province sink: Kafka to PostgreSQL, exactly once, in order",
                    .commands = sink_commands,
                    .default_conf = "/etc/lienthong/sink.ini"};
    int rc = lt_cli_parse(&cli, &conf, argc, argv, 0);
    if (rc != 0) {
        lt_conf_destroy(&conf);
        return rc < 0 ? 0 : rc;
    }
    int level = lt_log_level_parse(sc.log_level);
    if (level < 0) {
        fprintf(stderr, "error: sink.log_level: unknown level \"%s\" (error, warn, info or debug)\n",
                sc.log_level);
        lt_conf_destroy(&conf);
        return 2;
    }
    lt_log_init("sink", cli.verbose ? LT_LOG_DEBUG : level);
    const char *cmd = cli.argv[0];
    if ((rc = sink_require(&sc)) != 0)
        ;
    else if (strcmp(cmd, "migrate") == 0)
        rc = sink_cmd_migrate(&sc);
    else if (strcmp(cmd, "provision") == 0)
        rc = sink_cmd_provision(&conf, &sc, cli.argc, cli.argv);
    else if (strcmp(cmd, "status") == 0)
        rc = lt_status_command(&conf, &sc, cli.argc, cli.argv);
    else if (strcmp(cmd, "run") == 0) {
        lt_signals_install();
        rc = lt_sink_run(&conf, &sc);
    } else {
        fprintf(stderr, "%s: unknown command \"%s\"\n\nCommands:\n%s", cli.prog, cmd,
                sink_commands);
        rc = 2;
    }
    lt_conf_destroy(&conf);
    return rc;
}
