/* lienthong-agent — the commune side: schema set-up, the sending daemon, keys. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "lt_agent.h"
#include "lt_cli.h"
#include "lt_import.h"
#include "lt_log.h"
#include "lt_outbox.h"
#include "lt_pg.h"
#include "lt_sign.h"
#include "lt_units.h"
#include "lt_util.h"

static const char agent_commands[] =
    "  init                 create the commune schema (outbox, agent state, entity state)\n"
    "  run                  send the outbox to Kafka until SIGTERM\n"
    "  status [--json]      the outbox as the agent sees it: sequences, rows not yet\n"
    "                       sent (numbered or waiting for a sequence), rows refused\n"
    "                       (the newest with their reason), the oldest unsent row's\n"
    "                       age and the last delivery;\n"
    "                       exit 0 ok, 1 cannot tell (database unreachable, schema\n"
    "                       not initialised), 2 usage or configuration error\n"
    "  import FILE [--csv|--ndjson] [--rejects OUT.ndjson] [--chunk N] [--no-progress]\n"
    "                       check and add exported or typed-in records to the outbox;\n"
    "                       bad rows are reported by line; re-importing adds nothing\n"
    "  keygen [--force] PRIVATE PUBLIC\n"
    "                       write a new Ed25519 signing key pair (PEM, the private\n"
    "                       key mode 0600); existing files are kept unless --force\n"
    "  snapshot             send the current state of every entity again (the running\n"
    "                       agent answers it between live batches, paced by\n"
    "                       agent.resync_max_events_per_s), with the list of what the\n"
    "                       commune holds, so the province drops what it no longer has\n";

static int agent_require(const lt_agent_conf_t *ac, int need_kafka_ids)
{
    const char *missing = !ac->commune                     ? "agent.commune"
                          : !ac->postgres                  ? "agent.postgres"
                          : need_kafka_ids && !ac->province ? "agent.province"
                                                           : NULL;
    if (missing) {
        fprintf(stderr, "error: %s is not set (in the config file or with -o %s=...)\n",
                missing, missing);
        return 2;
    }
    if (!lt_is_digits(ac->commune, 5) || (ac->province && !lt_is_digits(ac->province, 2))) {
        fprintf(stderr,
                "error: agent.commune must be 5 digits and agent.province 2 digits "
                "(got \"%s\" and \"%s\")\n",
                ac->commune, ac->province ? ac->province : "");
        return 2;
    }
    return 0;
}

/* A local resync request for every bucket: the running agent sends it. */
static int agent_cmd_snapshot(const lt_agent_conf_t *ac)
{
    char errstr[1024], request_id[64];
    PGconn *pg = lt_pg_connect(ac->postgres, "lienthong-agent", errstr, sizeof(errstr));
    if (!pg) {
        fprintf(stderr, "error: %s\n", errstr);
        return 1;
    }
    snprintf(request_id, sizeof(request_id), "snapshot-%s-%" PRId64, ac->commune, lt_now_us());
    lt_pg_rc_t rc = lt_outbox_resync_snapshot(pg, request_id, errstr, sizeof(errstr));
    PQfinish(pg);
    if (rc != LT_PG_OK) {
        fprintf(stderr, "error: %s\n", errstr);
        return 1;
    }
    printf("commune %s: snapshot %s requested; the running agent sends it "
           "(see its log: \"resync request answered\")\n", ac->commune, request_id);
    return 0;
}

static int agent_cmd_init(const lt_agent_conf_t *ac)
{
    char errstr[1024];
    PGconn *pg = lt_pg_connect(ac->postgres, "lienthong-agent", errstr, sizeof(errstr));
    if (!pg) {
        fprintf(stderr, "error: %s\n", errstr);
        return 1;
    }
    lt_pg_rc_t rc = lt_outbox_init_schema(pg, ac->commune, errstr, sizeof(errstr));
    PQfinish(pg);
    if (rc != LT_PG_OK) {
        fprintf(stderr, "error: %s\n", errstr);
        return 1;
    }
    printf("commune %s: schema lt ready (outbox, agent_state, entity_state)\n", ac->commune);
    return 0;
}

/* A count with its unit, "1 row" / "12 rows". */
static void agent_print_count(const char *label, uint64_t n, const char *unit, const char *note)
{
    char value[48];
    snprintf(value, sizeof(value), "%llu %s%s", (unsigned long long)n, unit, n == 1 ? "" : "s");
    printf("%-18s %-22s %s\n", label, value, note);
}

static void agent_print_status_text(const char *commune, const lt_outbox_status_t *st)
{
    char value[64];
    printf("%-18s %s\n", "commune", commune);
    printf("%-18s %llu\n", "next_seq", (unsigned long long)st->next_seq);
    printf("%-18s %-22llu %s\n", "acked_seq", (unsigned long long)st->acked_seq,
           "every seq up to this one is in Kafka");
    agent_print_count("numbered, unsent", st->numbered_unsent, "row",
                      "have a seq, not yet acknowledged by Kafka");
    agent_print_count("unnumbered", st->unnumbered, "row", "committed, waiting for a seq");
    agent_print_count("refused", st->refused, "row", "never sent; the newest, and why:");
    for (size_t i = 0; i < st->n_refused_latest; i++) {
        const lt_outbox_refused_t *r = &st->refused_latest[i];
        printf("  id %" PRId64 " %s %s version %" PRIu64 ": %s\n", r->id, r->entity_type,
               r->entity_id, r->version, r->reason);
    }
    if (st->oldest_unsent_age_s < 0)
        lt_strlcpy(value, "-", sizeof(value));
    else
        snprintf(value, sizeof(value), "%.1f s old", st->oldest_unsent_age_s);
    printf("%-18s %-22s %s\n", "oldest unsent", value, "the row first in line to be sent");
    if (!st->last_sent_at[0])
        printf("%-18s %s\n", "last sent", "- (nothing acknowledged yet)");
    else
        printf("%-18s %.19s UTC  %.1f s ago\n", "last sent", st->last_sent_at,
               st->last_sent_age_s);
}

static json_t *agent_json_seconds(double seconds)
{
    return seconds < 0 ? json_null() : json_real((double)(int64_t)(seconds * 1000) / 1000);
}

static void agent_print_status_json(const char *commune, const lt_outbox_status_t *st)
{
    json_t *refused = json_array();
    for (size_t i = 0; i < st->n_refused_latest; i++) {
        const lt_outbox_refused_t *r = &st->refused_latest[i];
        json_t *reason = json_string(r->reason); /* NULL if cut inside a character */
        json_array_append_new(refused,
                              json_pack("{s:I s:s s:s s:I s:o}", "id", (json_int_t)r->id,
                                        "entity_type", r->entity_type, "entity_id", r->entity_id,
                                        "version", (json_int_t)r->version, "reason",
                                        reason ? reason : json_string("?")));
    }
    json_t *doc = json_pack(
        "{s:s s:I s:I s:I s:I s:I s:I s:o s:o s:o s:o}", "commune", commune, "next_seq",
        (json_int_t)st->next_seq, "acked_seq", (json_int_t)st->acked_seq, "unsent",
        (json_int_t)(st->numbered_unsent + st->unnumbered), "numbered_unsent",
        (json_int_t)st->numbered_unsent, "unnumbered", (json_int_t)st->unnumbered, "refused",
        (json_int_t)st->refused, "oldest_unsent_age_s", agent_json_seconds(st->oldest_unsent_age_s),
        "last_sent_at", st->last_sent_at[0] ? json_string(st->last_sent_at) : json_null(),
        "last_sent_age_s", agent_json_seconds(st->last_sent_age_s), "refused_latest", refused);
    json_dumpf(doc, stdout, JSON_INDENT(2));
    fputc('\n', stdout);
    json_decref(doc);
}

/* `status [--json]`: exit 0 reported, 1 cannot tell, 2 usage. */
static int agent_cmd_status(const lt_agent_conf_t *ac, int argc, char **argv)
{
    char errstr[1024];
    int json = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--json") != 0) {
            fprintf(stderr, "usage: lienthong-agent status [--json]\n");
            return 2;
        }
        json = 1;
    }
    lt_outbox_status_t st;
    PGconn *pg = lt_pg_connect(ac->postgres, "lienthong-agent", errstr, sizeof(errstr));
    if (!pg) {
        fprintf(stderr, "error: %s; cannot tell the outbox's state\n", errstr);
        return 1;
    }
    lt_pg_rc_t rc = lt_outbox_status(pg, ac->commune, &st, errstr, sizeof(errstr));
    PQfinish(pg);
    if (rc != LT_PG_OK) {
        fprintf(stderr, "error: %s; cannot tell the outbox's state\n", errstr);
        return 1;
    }
    if (json)
        agent_print_status_json(ac->commune, &st);
    else
        agent_print_status_text(ac->commune, &st);
    return 0;
}

/* A signing key is never overwritten without --force: the province holds
 * its public half, and a commune whose key changes unannounced is refused. */
static int agent_keygen_refuse_existing(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return 0;
    fprintf(stderr,
            "error: %s exists: not overwriting it (the province knows the key by its public "
            "half); give --force to replace the key pair\n",
            path);
    return 1;
}

static int agent_cmd_keygen(int argc, char **argv)
{
    char errstr[1024];
    const char *paths[2] = {NULL, NULL};
    int force = 0, n = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--force") == 0)
            force = 1;
        else if (n < 2 && argv[i][0] != '-')
            paths[n++] = argv[i];
        else
            n = 3;
    }
    if (n != 2) {
        fprintf(stderr, "usage: lienthong-agent keygen [--force] PRIVATE.pem PUBLIC.pem\n");
        return 2;
    }
    if (!force && (agent_keygen_refuse_existing(paths[0]) || agent_keygen_refuse_existing(paths[1])))
        return 1;
    if (lt_sign_keygen(paths[0], paths[1], errstr, sizeof(errstr)) != 0) {
        fprintf(stderr, "error: %s\n", errstr);
        return 1;
    }
    lt_signer_t *signer = lt_signer_new(paths[0], errstr, sizeof(errstr));
    printf("wrote %s (keep secret) and %s; key id %s\n", paths[0], paths[1],
           signer ? lt_signer_key_id(signer) : "?");
    lt_signer_destroy(signer);
    return 0;
}

static int agent_import_args(int argc, char **argv, lt_import_opts_t *opts,
                             const char **rejects_path)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--csv"))
            opts->format = LT_IMPORT_CSV;
        else if (!strcmp(a, "--ndjson"))
            opts->format = LT_IMPORT_NDJSON;
        else if (!strcmp(a, "--no-progress"))
            opts->progress = 0;
        else if (!strcmp(a, "--rejects") && i + 1 < argc)
            *rejects_path = argv[++i];
        else if (!strcmp(a, "--chunk") && i + 1 < argc && atoi(argv[i + 1]) > 0)
            opts->chunk_rows = atoi(argv[++i]);
        else if (a[0] != '-' && !opts->path)
            opts->path = a;
        else {
            fprintf(stderr, "error: import: unexpected argument \"%s\"\n", a);
            return 2;
        }
    }
    if (!opts->path) {
        fprintf(stderr, "usage: lienthong-agent import FILE [--csv|--ndjson] [--rejects OUT]\n");
        return 2;
    }
    return 0;
}

static int agent_cmd_import(const lt_agent_conf_t *ac, int argc, char **argv)
{
    char errstr[1024];
    const char *rejects_path = NULL;
    lt_import_opts_t opts = {.chunk_rows = 1000, .progress = isatty(STDERR_FILENO),
                             .max_reported = 100};
    int rc = agent_import_args(argc, argv, &opts, &rejects_path);
    if (rc)
        return rc;
    if (rejects_path && !(opts.rejects = fopen(rejects_path, "w"))) {
        fprintf(stderr, "error: %s: cannot write: %s\n", rejects_path, strerror(errno));
        return 1;
    }
    lt_units_t *units = lt_units_open(ac->units_file, errstr, sizeof(errstr));
    lt_validate_ctx_t vctx = {units, ac->province, ac->commune, ac->code_list_version};
    opts.vctx = &vctx;
    PGconn *pg = units ? lt_pg_connect(ac->postgres, "lienthong-agent", errstr, sizeof(errstr))
                       : NULL;
    lt_import_stats_t st;
    rc = pg ? lt_import_file(pg, &opts, &st, errstr, sizeof(errstr)) : -1;
    PQfinish(pg);
    lt_units_destroy(units);
    if (opts.rejects)
        fclose(opts.rejects);
    if (rc != 0) {
        fprintf(stderr, "error: %s\n", errstr);
        return 1;
    }
    printf("%s: %llu rows in %.1f s: %llu added to the outbox, %llu already there, %llu bad%s%s\n",
           opts.path, (unsigned long long)st.rows, st.seconds, (unsigned long long)st.inserted,
           (unsigned long long)st.present, (unsigned long long)st.bad,
           st.bad && rejects_path ? "; details in " : "", st.bad && rejects_path ? rejects_path : "");
    return st.bad ? 3 : 0;
}

int main(int argc, char **argv)
{
    lt_agent_conf_t ac;
    memset(&ac, 0, sizeof(ac));
    lt_conf_t conf = {.table = lt_agent_conf_table, .dst = &ac};
    lt_cli_t cli = {.prog = "lienthong-agent",
                    .summary = "commune agent: outbox to Kafka, signed and exactly once",
                    .commands = agent_commands,
                    .default_conf = "/etc/lienthong/agent.ini"};
    int rc = lt_cli_parse(&cli, &conf, argc, argv, 0);
    if (rc != 0) {
        lt_conf_destroy(&conf);
        return rc < 0 ? 0 : rc;
    }
    int level = lt_log_level_parse(ac.log_level);
    if (level < 0) {
        fprintf(stderr, "error: agent.log_level: unknown level \"%s\" (error, warn, info or debug)\n",
                ac.log_level);
        lt_conf_destroy(&conf);
        return 2;
    }
    lt_log_init("agent", cli.verbose ? LT_LOG_DEBUG : level);
    const char *cmd = cli.argv[0];
    if (strcmp(cmd, "keygen") == 0)
        rc = agent_cmd_keygen(cli.argc, cli.argv);
    else if (strcmp(cmd, "init") == 0)
        rc = agent_require(&ac, 0) ? 2 : agent_cmd_init(&ac);
    else if (strcmp(cmd, "snapshot") == 0)
        rc = agent_require(&ac, 0) ? 2 : agent_cmd_snapshot(&ac);
    else if (strcmp(cmd, "status") == 0)
        rc = agent_require(&ac, 0) ? 2 : agent_cmd_status(&ac, cli.argc, cli.argv);
    else if (strcmp(cmd, "import") == 0) {
        lt_signals_install();
        rc = agent_require(&ac, 1) ? 2 : agent_cmd_import(&ac, cli.argc, cli.argv);
    }
    else if (strcmp(cmd, "run") == 0) {
        char host[64] = "agent";
        if (!ac.agent_id && gethostname(host, sizeof(host) - 1) == 0)
            ac.agent_id = strdup(host);
        if (!(rc = agent_require(&ac, 1))) {
            lt_signals_install();
            rc = lt_agent_run(&conf, &ac);
        }
    } else {
        fprintf(stderr, "%s: unknown command \"%s\"\n\nCommands:\n%s", cli.prog, cmd,
                agent_commands);
        rc = 2;
    }
    lt_conf_destroy(&conf);
    return rc;
}
