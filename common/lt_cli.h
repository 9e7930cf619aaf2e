/* lt_cli — the command-line shape every lienthong program shares:
 *
 *   PROGRAM [-c FILE] [-o section.key=value]... [-v] COMMAND [ARG...]
 *
 * -c names the ini file, -o overrides one option, --help prints usage plus the
 * option reference generated from the program's table, and the hidden
 * --help-man=SECTION prints the same as a manual page. */
#ifndef LT_CLI_H
#define LT_CLI_H

#include "lt_conf.h"

typedef struct lt_cli {
    const char *prog;         /* "lienthong-agent" */
    const char *summary;      /* one line: what the program is */
    const char *commands;     /* the COMMAND list for --help, one per line */
    const char *default_conf; /* e.g. "/etc/lienthong/agent.ini" */
    const char *conf_path;    /* chosen file (output) */
    int verbose;              /* -v given (output) */
    int argc;                 /* command and its arguments (output) */
    char **argv;
} lt_cli_t;

/* Parse options, load defaults, the file and overrides. Returns 0 to go on,
 * -1 when --help or --version was served (exit 0), or 2 on a usage or
 * configuration error (message printed). need_conf = 0 lets a missing default
 * file pass (options may all come from -o). */
int lt_cli_parse(lt_cli_t *cli, lt_conf_t *conf, int argc, char **argv, int need_conf);

/* Print usage to out. */
void lt_cli_usage(const lt_cli_t *cli, const lt_conf_t *conf, FILE *out);

/* Print the manual page, section 1-8, as man(7) roff: the same commands,
 * options and configuration reference as --help. `PROG --help-man=SECTION`
 * prints it; the build makes the installed man pages so. */
void lt_cli_man(const lt_cli_t *cli, const lt_conf_t *conf, int section, FILE *out);

#endif
