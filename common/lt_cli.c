#include "lt_cli.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lt_util.h"

void lt_cli_usage(const lt_cli_t *cli, const lt_conf_t *conf, FILE *out)
{
    fprintf(out,
            "%s %s — %s\n\n"
            "Usage: %s [-c FILE] [-o section.key=value]... COMMAND [ARG...]\n\n"
            "Commands:\n%s\n"
            "Options:\n"
            "  -c, --config FILE   configuration file (default %s)\n"
            "  -o, --set K=V       override one option, e.g. -o kafka.bootstrap.servers=h:9092\n"
            "  -v, --verbose       log at debug level\n"
            "  -h, --help          this help\n"
            "  -V, --version       print the version\n\n"
            "Configuration options (ini sections and keys):",
            cli->prog, LT_VERSION, cli->summary, cli->prog, cli->commands, cli->default_conf);
    lt_conf_print_reference(conf, out);
}

static int lt_cli_apply_overrides(lt_conf_t *conf, int argc, char **argv)
{
    char errstr[1024];
    optind = 1;
    int c;
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"set", required_argument, NULL, 'o'},
        {"verbose", no_argument, NULL, 'v'},      {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},      {NULL, 0, NULL, 0}};
    while ((c = getopt_long(argc, argv, "+c:o:vhV", longopts, NULL)) != -1) {
        if (c == 'o' && lt_conf_set_arg(conf, optarg, errstr, sizeof(errstr)) != 0) {
            fprintf(stderr, "error: %s\n", errstr);
            return 2;
        }
    }
    return 0;
}

int lt_cli_parse(lt_cli_t *cli, lt_conf_t *conf, int argc, char **argv, int need_conf)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"set", required_argument, NULL, 'o'},
        {"verbose", no_argument, NULL, 'v'},      {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},      {NULL, 0, NULL, 0}};
    char errstr[1024];
    int c, explicit_conf = 0;
    cli->conf_path = cli->default_conf;
    if (lt_conf_defaults(conf, errstr, sizeof(errstr)) != 0) {
        fprintf(stderr, "error: %s\n", errstr);
        return 2;
    }
    /* "+": stop at the command, so COMMAND ARGS are never taken for options. */
    while ((c = getopt_long(argc, argv, "+c:o:vhV", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': cli->conf_path = optarg; explicit_conf = 1; break;
        case 'o': break; /* applied after the file, below */
        case 'v': cli->verbose = 1; break;
        case 'h': lt_cli_usage(cli, conf, stdout); return -1;
        case 'V': printf("%s %s\n", cli->prog, LT_VERSION); return -1;
        default: fprintf(stderr, "Try '%s --help'.\n", cli->prog); return 2;
        }
    }
    cli->argc = argc - optind;
    cli->argv = argv + optind;
    if (cli->argc == 0) {
        fprintf(stderr, "%s: no command given\n\nCommands:\n%sTry '%s --help'.\n", cli->prog,
                cli->commands, cli->prog);
        return 2;
    }
    if ((need_conf || explicit_conf || access(cli->conf_path, F_OK) == 0) &&
        lt_conf_load_file(conf, cli->conf_path, errstr, sizeof(errstr)) != 0) {
        fprintf(stderr, "error: %s\n", errstr);
        return 2;
    }
    return lt_cli_apply_overrides(conf, argc, argv);
}
