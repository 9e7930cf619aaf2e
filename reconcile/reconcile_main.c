/* lienthong-reconcile — prove both levels hold the same data. */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "lt_cli.h"
#include "lt_log.h"
#include "lt_pg.h"
#include "lt_util.h"
#include "lt_verify.h"

typedef struct reconcile_conf {
    char *postgres; /* province database */
    char *log_level;
} reconcile_conf_t;

static const lt_conf_opt_t reconcile_conf_table[] = {
    {"reconcile", "postgres", LT_CONF_STR, NULL, offsetof(reconcile_conf_t, postgres), 0, 0,
     "libpq conninfo of the province database (required)"},
    {"reconcile", "log_level", LT_CONF_STR, "info", offsetof(reconcile_conf_t, log_level), 0, 0,
     "error, warn, info or debug"},
    {NULL, NULL, 0, NULL, 0, 0, 0, NULL},
};

static const char reconcile_commands[] =
    "  verify COMMUNE COMMUNE_CONNINFO   compare every entity and event of one commune with\n"
    "                                    the province; exit 0 only if both hold the same\n";

static int reconcile_verify(const reconcile_conf_t *rc_conf, const char *commune,
                            const char *commune_conninfo)
{
    char errstr[1024];
    lt_verify_report_t r;
    PGconn *cpg = lt_pg_connect(commune_conninfo, "lienthong-reconcile", errstr, sizeof(errstr));
    if (!cpg) {
        fprintf(stderr, "error: commune %s: %s\n", commune, errstr);
        return 2;
    }
    PGconn *ppg = lt_pg_connect(rc_conf->postgres, "lienthong-reconcile", errstr, sizeof(errstr));
    if (!ppg) {
        fprintf(stderr, "error: province: %s\n", errstr);
        PQfinish(cpg);
        return 2;
    }
    lt_pg_rc_t rc = lt_verify_commune(cpg, ppg, commune, &r, stdout, errstr, sizeof(errstr));
    PQfinish(cpg);
    PQfinish(ppg);
    if (rc != LT_PG_OK) {
        fprintf(stderr, "error: %s\n", errstr);
        return 2;
    }
    int equal = lt_verify_equal(&r);
    printf("commune %s: events numbered %" PRIu64 " (max seq %" PRIu64 ", unsent %" PRIu64
           "), applied %" PRIu64 " (max seq %" PRIu64 "); entities %" PRIu64 " / %" PRIu64
           ": equal %" PRIu64 ", differing %" PRIu64 ", only commune %" PRIu64
           ", only province %" PRIu64 " => %s\n",
           commune, r.commune_events, r.commune_max_seq, r.commune_unsent, r.province_events,
           r.province_max_seq, r.commune_entities, r.province_entities, r.equal, r.differing,
           r.only_commune, r.only_province, equal ? "EQUAL" : "DIFFERENT");
    return equal ? 0 : 1;
}

int main(int argc, char **argv)
{
    reconcile_conf_t rconf;
    memset(&rconf, 0, sizeof(rconf));
    lt_conf_t conf = {.table = reconcile_conf_table, .dst = &rconf, .without_kafka = 1};
    lt_cli_t cli = {.prog = "lienthong-reconcile",
                    .summary = "prove commune and province hold the same data",
                    .commands = reconcile_commands,
                    .default_conf = "/etc/lienthong/reconcile.ini"};
    int rc = lt_cli_parse(&cli, &conf, argc, argv, 0);
    if (rc != 0) {
        lt_conf_destroy(&conf);
        return rc < 0 ? 0 : rc;
    }
    lt_log_init("reconcile", LT_LOG_INFO);
    if (!rconf.postgres) {
        fprintf(stderr, "error: reconcile.postgres is not set (config file or -o)\n");
        rc = 2;
    } else if (strcmp(cli.argv[0], "verify") == 0 && cli.argc == 3) {
        rc = reconcile_verify(&rconf, cli.argv[1], cli.argv[2]);
    } else {
        fprintf(stderr, "%s: unknown command or wrong arguments\n\nCommands:\n%s", cli.prog,
                reconcile_commands);
        rc = 2;
    }
    lt_conf_destroy(&conf);
    return rc;
}
