/* lienthong-agent — the commune side: schema set-up, the sending daemon, keys. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
    "  status               print sequence numbers and the unsent backlog\n"
    "  import FILE [--csv|--ndjson] [--rejects OUT.ndjson] [--chunk N] [--no-progress]\n"
    "                       check and add exported or typed-in records to the outbox;\n"
    "                       bad rows are reported by line; re-importing adds nothing\n"
    "  keygen PRIVATE PUBLIC  write a new Ed25519 signing key pair (PEM)\n";

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

static int agent_cmd_status(const lt_agent_conf_t *ac)
{
    char errstr[1024];
    lt_outbox_state_t st;
    uint64_t pending = 0;
    PGconn *pg = lt_pg_connect(ac->postgres, "lienthong-agent", errstr, sizeof(errstr));
    if (!pg) {
        fprintf(stderr, "error: %s\n", errstr);
        return 1;
    }
    lt_pg_rc_t rc = lt_outbox_load_state(pg, ac->commune, &st, errstr, sizeof(errstr));
    if (rc == LT_PG_OK)
        rc = lt_outbox_pending(pg, &pending, errstr, sizeof(errstr));
    PQfinish(pg);
    if (rc != LT_PG_OK) {
        fprintf(stderr, "error: %s\n", errstr);
        return 1;
    }
    printf("commune      %s\nnext_seq     %llu\nacked_seq    %llu\nunsent rows  %llu\n",
           ac->commune, (unsigned long long)st.next_seq, (unsigned long long)st.acked_seq,
           (unsigned long long)pending);
    return 0;
}

static int agent_cmd_keygen(int argc, char **argv)
{
    char errstr[1024];
    if (argc != 3) {
        fprintf(stderr, "usage: lienthong-agent keygen PRIVATE.pem PUBLIC.pem\n");
        return 2;
    }
    if (lt_sign_keygen(argv[1], argv[2], errstr, sizeof(errstr)) != 0) {
        fprintf(stderr, "error: %s\n", errstr);
        return 1;
    }
    lt_signer_t *signer = lt_signer_new(argv[1], errstr, sizeof(errstr));
    printf("wrote %s (keep secret) and %s; key id %s\n", argv[1], argv[2],
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
    else if (strcmp(cmd, "status") == 0)
        rc = agent_require(&ac, 0) ? 2 : agent_cmd_status(&ac);
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
