/* lienthong-reconcile — prove both levels hold the same data. */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_cli.h"
#include "lt_log.h"
#include "lt_merge.h"
#include "lt_pg.h"
#include "lt_quarantine.h"
#include "lt_repair.h"
#include "lt_report.h"
#include "lt_text.h"
#include "lt_util.h"
#include "lt_verify.h"

typedef struct reconcile_conf {
    char *postgres; /* province database */
    char *log_level;
    int allow_integrity_only;
    long max_message_bytes;
    char *units_file;
} reconcile_conf_t;

static const lt_conf_opt_t reconcile_conf_table[] = {
    {"reconcile", "postgres", LT_CONF_STR, NULL, offsetof(reconcile_conf_t, postgres), 0, 0,
     "libpq conninfo of the province database (required)"},
    {"reconcile", "log_level", LT_CONF_STR, "info", offsetof(reconcile_conf_t, log_level), 0, 0,
     "error, warn, info or debug"},
    {"reconcile", "allow_integrity_only", LT_CONF_BOOL, "true",
     offsetof(reconcile_conf_t, allow_integrity_only), 0, 1,
     "replay: accept \"sha256:\" batches from communes with no key (as the sink)"},
    {"reconcile", "max_message_bytes", LT_CONF_INT, "8388608",
     offsetof(reconcile_conf_t, max_message_bytes), 1024, 100000000,
     "replay: the sink's size cap"},
    {"reconcile", "units_file", LT_CONF_STR, NULL, offsetof(reconcile_conf_t, units_file), 0, 0,
     "the unit list (merges file beside it); unset: the installed copy"},
    {NULL, NULL, 0, NULL, 0, 0, 0, NULL},
};

static const char reconcile_commands[] =
    "  report [--commune C] [--json]     per commune, from the province database alone:\n"
    "                                    the last in-band digest comparison (equal, or the\n"
    "                                    buckets that differ), open gaps, quarantined\n"
    "                                    messages, when it was last heard from. Exit status:\n"
    "                                    0 all consistent, 1 cannot tell (database), 3 a\n"
    "                                    commune diverged, has gaps or quarantined messages\n"
    "  repair [--commune C] [--all | --entity TYPE/ID...] [--timeout S]\n"
    "                                    ask the communes (every one, or C) to send again\n"
    "                                    the buckets their last digest found different and\n"
    "                                    their open gaps (--all: every bucket; --entity\n"
    "                                    civil_record/ID or dossier/ID, repeated: those\n"
    "                                    records only, dropped if the commune no longer\n"
    "                                    holds them), through\n"
    "                                    their control topics ([kafka] section), and follow\n"
    "                                    until equal (default 300 s). Exit status: 0\n"
    "                                    repaired or nothing to do, 1 error, 3 not\n"
    "                                    converged in time\n"
    "  verify --deep [--json] [COMMUNE...]\n"
    "                                    recompute each commune's digest from the\n"
    "                                    province's rows and compare it with the digest the\n"
    "                                    sink maintained: catches rows edited outside the\n"
    "                                    sink or a restore from an older backup. Exit status:\n"
    "                                    0 EQUAL, 1 DIFFERENT, 2 error\n"
    "  verify COMMUNE COMMUNE_CONNINFO   (diagnostic; needs the commune's database)\n"
    "                                    compare every entity and event of one commune with\n"
    "                                    the province, up to the last sequence N the\n"
    "                                    province applied. Exit status:\n"
    "                                      0 EQUAL: both hold the same, nothing pending\n"
    "                                      1 DIFFERENT: a difference up to seq N\n"
    "                                      2 the check could not be made (error)\n"
    "                                      3 PENDING: \"equal up to seq N, M events not yet\n"
    "                                        sent\" (M: outbox rows not acknowledged by\n"
    "                                        Kafka and not refused), or sent and not yet\n"
    "                                        applied\n"
    "  merge --into NEW [--from OLD[,OLD...]] [--partial OLD[,OLD...]] [--force] [--dry-run]\n"
    "                                    an administrative merger: the records of the old\n"
    "                                    communes become NEW's (NEW registered first with\n"
    "                                    its own key; each record keeps its origin code),\n"
    "                                    the old communes are retired and anything new on\n"
    "                                    their topics is quarantined naming the merger.\n"
    "                                    --partial records which old communes only partly\n"
    "                                    went into NEW (their records all come here).\n"
    "                                    Without --from: the communes registered here that\n"
    "                                    the 2025 merge mapping merged into NEW, and which\n"
    "                                    of them only partly.\n"
    "                                    Refused while an old commune has gaps, backlog,\n"
    "                                    quarantined messages or a resync under way, unless\n"
    "                                    --force. Exit status: 0 merged, 1 refused (nothing\n"
    "                                    changed), 2 usage\n"
    "  quarantine list [FILTER] [--replayed]   quarantined messages, oldest first\n"
    "  quarantine show ID                      one message: reason, position, content\n"
    "  quarantine replay ID | --pending [FILTER]\n"
    "                                    apply again with today's rules and keys; events\n"
    "                                    already applied are never applied twice\n"
    "    FILTER: --commune CODE --reason REASON_CODE --limit N\n"
    "  name-key NAME...                  the comparison key of each name, as stored in\n"
    "                                    lt.civil_record.subject_name_key and lt.dossier\n";

/* Print the comparison key of each name: data teams look names up by key. */
static int reconcile_name_key(int argc, char **argv)
{
    char errstr[256];
    int rc = 0;
    for (int i = 1; i < argc; i++) {
        char *key = lt_text_name_key(argv[i], strlen(argv[i]), errstr, sizeof(errstr));
        if (key)
            printf("%s\n", key);
        else
            fprintf(stderr, "error: \"%s\": %s\n", argv[i], errstr), rc = 2;
        free(key);
    }
    return argc > 1 ? rc : 2;
}

/* Parse FILTER options from argv[from..]; returns -1 on an unknown one. */
static int reconcile_filter(int argc, char **argv, int from, lt_quarantine_filter_t *f,
                            int *pending)
{
    for (int i = from; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--replayed"))
            f->include_replayed = 1;
        else if (!strcmp(a, "--pending") && pending)
            *pending = 1;
        else if (!strcmp(a, "--commune") && v)
            f->commune = argv[++i];
        else if (!strcmp(a, "--reason") && v)
            f->reason_code = argv[++i];
        else if (!strcmp(a, "--limit") && v)
            f->limit = atol(argv[++i]);
        else {
            fprintf(stderr, "error: quarantine: unexpected argument \"%s\"\n", a);
            return -1;
        }
    }
    return 0;
}

static int reconcile_quarantine(const reconcile_conf_t *rc_conf, int argc, char **argv)
{
    char errstr[1024];
    lt_quarantine_filter_t filter = {0};
    int pending = 0, rc = 2;
    const char *sub = argc > 1 ? argv[1] : "";
    int64_t id = 0;
    int takes_id = !strcmp(sub, "show") || (!strcmp(sub, "replay") && argc > 2 &&
                                            argv[2][0] != '-');
    if (takes_id) {
        char *end;
        id = strtoll(argc > 2 ? argv[2] : "", &end, 10);
        if (id <= 0 || *end) {
            fprintf(stderr, "error: quarantine %s: expected a message id, got \"%s\"\n", sub,
                    argc > 2 ? argv[2] : "");
            return 2;
        }
    }
    if (strcmp(sub, "list") && strcmp(sub, "show") && strcmp(sub, "replay")) {
        fprintf(stderr, "error: quarantine needs list, show or replay\n\n%s", reconcile_commands);
        return 2;
    }
    if (reconcile_filter(argc, argv, takes_id ? 3 : 2, &filter,
                         !strcmp(sub, "replay") ? &pending : NULL) != 0)
        return 2;
    if (!strcmp(sub, "replay") && !id && !pending) {
        fprintf(stderr, "error: quarantine replay needs an id or --pending\n");
        return 2;
    }
    PGconn *pg = lt_pg_connect(rc_conf->postgres, "lienthong-reconcile", errstr, sizeof(errstr));
    if (!pg) {
        fprintf(stderr, "error: %s\n", errstr);
        return 2;
    }
    if (!strcmp(sub, "list"))
        rc = lt_quarantine_list(pg, &filter, stdout);
    else if (!strcmp(sub, "show"))
        rc = lt_quarantine_show(pg, id, stdout);
    else
        rc = lt_quarantine_replay(pg, id, &filter, rc_conf->allow_integrity_only,
                                  (size_t)rc_conf->max_message_bytes, stdout);
    PQfinish(pg);
    return rc;
}

static PGconn *reconcile_connect(const reconcile_conf_t *rc_conf)
{
    char errstr[1024];
    PGconn *pg = lt_pg_connect(rc_conf->postgres, "lienthong-reconcile", errstr, sizeof(errstr));
    if (!pg)
        fprintf(stderr, "error: province: %s\n", errstr);
    return pg;
}

static int reconcile_report(const reconcile_conf_t *rc_conf, int argc, char **argv)
{
    const char *commune = NULL;
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else if (!strcmp(argv[i], "--commune") && i + 1 < argc)
            commune = argv[++i];
        else {
            fprintf(stderr, "error: report: unexpected argument \"%s\"\n", argv[i]);
            return 2;
        }
    }
    PGconn *pg = reconcile_connect(rc_conf);
    if (!pg)
        return LT_REPORT_ERROR;
    int rc = lt_report_run(pg, commune, json, stdout);
    PQfinish(pg);
    return rc;
}

static int reconcile_repair(const reconcile_conf_t *rc_conf, const lt_conf_t *conf, int argc,
                            char **argv)
{
    const char *commune = NULL;
    int all = 0, timeout_s = 300;
    const char **keys = calloc((size_t)argc, sizeof(*keys));
    lt_repair_entities_t named = {keys, 0};
    if (!keys)
        abort();
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--commune") && i + 1 < argc)
            commune = argv[++i];
        else if (!strcmp(argv[i], "--entity") && i + 1 < argc)
            keys[named.n++] = argv[++i];
        else if (!strcmp(argv[i], "--all"))
            all = 1;
        else if (!strcmp(argv[i], "--timeout") && i + 1 < argc && atoi(argv[i + 1]) > 0)
            timeout_s = atoi(argv[++i]);
        else {
            fprintf(stderr, "error: repair: unexpected argument \"%s\"\n", argv[i]);
            free(keys);
            return 2;
        }
    }
    if (named.n && (!commune || all)) {
        fprintf(stderr, "error: repair --entity needs --commune and goes without --all\n");
        free(keys);
        return 2;
    }
    PGconn *pg = reconcile_connect(rc_conf);
    int rc = 1;
    if (pg) {
        lt_signals_install();
        rc = lt_repair_run(pg, conf, commune, all, &named, timeout_s, stdout);
    }
    PQfinish(pg);
    free(keys);
    return rc;
}

/* Split a comma-separated list of codes into *list (malloc'd, pointing into
 * the copy *buf). Returns the count. */
static size_t reconcile_split(const char *csv, char ***list, char **buf)
{
    size_t n = 1;
    for (const char *p = csv; *p; p++)
        n += *p == ',';
    *buf = strdup(csv);
    *list = calloc(n, sizeof(**list));
    if (!*buf || !*list)
        abort();
    n = 0;
    for (char *save = NULL, *t = strtok_r(*buf, ",", &save); t; t = strtok_r(NULL, ",", &save))
        (*list)[n++] = t;
    return n;
}

/* merge without --from: the communes the 2025 mapping merged into NEW. */
static int reconcile_merge_mapped(PGconn *pg, const reconcile_conf_t *rc_conf,
                                  const lt_merge_request_t *req)
{
    char errstr[1024];
    lt_units_t *units = lt_units_open(rc_conf->units_file, errstr, sizeof(errstr));
    if (!units) {
        fprintf(stderr, "error: merge: %s\n", errstr);
        return LT_MERGE_REFUSED;
    }
    int rc = lt_merge_run_mapped(pg, units, req, stdout);
    lt_units_destroy(units);
    return rc;
}

static int reconcile_merge(const reconcile_conf_t *rc_conf, int argc, char **argv)
{
    lt_merge_request_t req = {0};
    char *from_buf = NULL, *partial_buf = NULL, **from = NULL, **partial = NULL;
    int rc = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--into") && v)
            req.into = argv[++i];
        else if (!strcmp(a, "--from") && v && !from)
            req.n_from = reconcile_split(argv[++i], &from, &from_buf);
        else if (!strcmp(a, "--partial") && v && !partial)
            req.n_partial = reconcile_split(argv[++i], &partial, &partial_buf);
        else if (!strcmp(a, "--force"))
            req.force = 1;
        else if (!strcmp(a, "--dry-run"))
            req.dry_run = 1;
        else {
            fprintf(stderr, "error: merge: unexpected argument \"%s\"\n", a);
            goto done;
        }
    }
    if (!req.into || (partial && !from)) {
        fprintf(stderr, "error: merge needs --into NEW (and --from with --partial)\n");
        goto done;
    }
    req.from = (const char *const *)from, req.partial = (const char *const *)partial;
    PGconn *pg = reconcile_connect(rc_conf);
    rc = !pg ? LT_MERGE_REFUSED
         : from ? lt_merge_run(pg, &req, stdout)
                : reconcile_merge_mapped(pg, rc_conf, &req);
    PQfinish(pg);
done:
    free(from), free(from_buf), free(partial), free(partial_buf);
    return rc;
}

/* verify --deep [--json] [COMMUNE...]: argv[1] is --deep. */
static int reconcile_verify_deep(const reconcile_conf_t *rc_conf, int argc, char **argv)
{
    int json = 0, n = 0;
    char **communes = calloc((size_t)argc, sizeof(*communes));
    if (!communes)
        abort();
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            json = 1;
        else
            communes[n++] = argv[i];
    }
    PGconn *pg = reconcile_connect(rc_conf);
    int rc = pg ? lt_report_verify_deep(pg, communes, (size_t)n, json, stdout) : LT_REPORT_ERROR;
    PQfinish(pg);
    free(communes);
    /* The codes of verify: 0 EQUAL, 1 DIFFERENT, 2 error. */
    return rc == LT_REPORT_OK ? 0 : rc == LT_REPORT_PROBLEM ? 1 : 2;
}

/* Exit statuses of verify, as --help and README.md document them. */
enum { VERIFY_EXIT_EQUAL = 0, VERIFY_EXIT_DIFFERENT = 1, VERIFY_EXIT_ERROR = 2,
       VERIFY_EXIT_PENDING = 3 };

/* Why the commune is DIFFERENT: which of the events or entities up to N. */
static void reconcile_verify_print_difference(const lt_verify_report_t *r)
{
    const char *sep = ": ";
    if (r->commune_events_upto != r->upto_seq || r->province_events != r->upto_seq) {
        printf("%sevents: of seq 1..%" PRIu64 " the commune numbered %" PRIu64
               " and the province applied %" PRIu64,
               sep, r->upto_seq, r->commune_events_upto, r->province_events);
        sep = "; ";
    }
    if (r->differing || r->only_commune || r->only_province)
        printf("%sentities: %" PRIu64 " differ, %" PRIu64 " only at the commune, %" PRIu64
               " only at the province",
               sep, r->differing, r->only_commune, r->only_province);
}

static void reconcile_verify_print(const char *commune, const lt_verify_report_t *r,
                                   lt_verify_verdict_t verdict)
{
    printf("commune %s: events numbered %" PRIu64 " (max seq %" PRIu64 ", %" PRIu64
           " up to seq %" PRIu64 "), applied %" PRIu64 " (max seq %" PRIu64
           "); entities as of seq %" PRIu64 ", commune / province %" PRIu64 " / %" PRIu64
           ": equal %" PRIu64 ", differing %" PRIu64 ", only commune %" PRIu64
           ", only province %" PRIu64 "\n",
           commune, r->commune_events, r->commune_max_seq, r->commune_events_upto, r->upto_seq,
           r->province_events, r->province_max_seq, r->upto_seq, r->commune_entities,
           r->province_entities, r->equal, r->differing, r->only_commune, r->only_province);
    printf("commune %s: ", commune);
    if (verdict == LT_VERIFY_EQUAL) {
        printf("EQUAL");
    } else if (verdict == LT_VERIFY_DIFFERENT) {
        printf("DIFFERENT up to seq %" PRIu64, r->upto_seq);
        reconcile_verify_print_difference(r);
    } else {
        printf("PENDING: equal up to seq %" PRIu64 ", %" PRIu64 " events not yet sent",
               r->upto_seq, r->commune_unsent);
        if (r->commune_unapplied)
            printf(", %" PRIu64 " sent but not yet applied", r->commune_unapplied);
    }
    printf("\n");
}

static int reconcile_verify(const reconcile_conf_t *rc_conf, const char *commune,
                            const char *commune_conninfo)
{
    char errstr[1024];
    lt_verify_report_t r;
    PGconn *cpg = lt_pg_connect(commune_conninfo, "lienthong-reconcile", errstr, sizeof(errstr));
    if (!cpg) {
        fprintf(stderr, "error: commune %s: %s\n", commune, errstr);
        return VERIFY_EXIT_ERROR;
    }
    PGconn *ppg = lt_pg_connect(rc_conf->postgres, "lienthong-reconcile", errstr, sizeof(errstr));
    if (!ppg) {
        fprintf(stderr, "error: province: %s\n", errstr);
        PQfinish(cpg);
        return VERIFY_EXIT_ERROR;
    }
    lt_pg_rc_t rc = lt_verify_commune(cpg, ppg, commune, &r, stdout, errstr, sizeof(errstr));
    PQfinish(cpg);
    PQfinish(ppg);
    if (rc != LT_PG_OK) {
        fprintf(stderr, "error: %s\n", errstr);
        return VERIFY_EXIT_ERROR;
    }
    lt_verify_verdict_t verdict = lt_verify_verdict(&r);
    reconcile_verify_print(commune, &r, verdict);
    return verdict == LT_VERIFY_EQUAL     ? VERIFY_EXIT_EQUAL
           : verdict == LT_VERIFY_PENDING ? VERIFY_EXIT_PENDING
                                          : VERIFY_EXIT_DIFFERENT;
}

int main(int argc, char **argv)
{
    reconcile_conf_t rconf;
    memset(&rconf, 0, sizeof(rconf));
    lt_conf_t conf = {.table = reconcile_conf_table, .dst = &rconf};
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
    if (strcmp(cli.argv[0], "name-key") == 0) {
        rc = reconcile_name_key(cli.argc, cli.argv);
    } else if (!rconf.postgres) {
        fprintf(stderr, "error: reconcile.postgres is not set (config file or -o)\n");
        rc = 2;
    } else if (strcmp(cli.argv[0], "repair") == 0) {
        rc = reconcile_repair(&rconf, &conf, cli.argc, cli.argv);
    } else if (strcmp(cli.argv[0], "merge") == 0) {
        rc = reconcile_merge(&rconf, cli.argc, cli.argv);
    } else if (strcmp(cli.argv[0], "report") == 0) {
        rc = reconcile_report(&rconf, cli.argc, cli.argv);
    } else if (strcmp(cli.argv[0], "verify") == 0 && cli.argc >= 2 &&
               !strcmp(cli.argv[1], "--deep")) {
        rc = reconcile_verify_deep(&rconf, cli.argc, cli.argv);
    } else if (strcmp(cli.argv[0], "verify") == 0 && cli.argc == 3) {
        rc = reconcile_verify(&rconf, cli.argv[1], cli.argv[2]);
    } else if (strcmp(cli.argv[0], "quarantine") == 0) {
        rc = reconcile_quarantine(&rconf, cli.argc, cli.argv);
    } else {
        fprintf(stderr, "%s: unknown command or wrong arguments\n\nCommands:\n%s", cli.prog,
                reconcile_commands);
        rc = 2;
    }
    lt_conf_destroy(&conf);
    return rc;
}
