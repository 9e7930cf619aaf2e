/* Man pages from the tables behind --help: roff escaping, the commands
 * block as tagged paragraphs, every option of the table. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_cli.h"
#include "lt_conf.h"
#include "lt_test.h"

typedef struct demo_conf {
    char *name;
    long count;
} demo_conf_t;

static const lt_conf_opt_t table[] = {
    {"demo", "name", LT_CONF_STR, NULL, offsetof(demo_conf_t, name), 0, 0,
     "a name \\ with a backslash"},
    {"demo", "count", LT_CONF_INT, "-1", offsetof(demo_conf_t, count), -1, 10,
     "a count (-1 = none); a well-known option"},
    {NULL, NULL, 0, NULL, 0, 0, 0, NULL},
};

/* text as lt_conf_man_text writes it, a string to free. */
static char *capture_text(const char *text)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    lt_conf_man_text(fp, text, strlen(text));
    fclose(fp);
    return buf;
}

static void test_escaping(void)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"plain text", "plain text"},
        {"-o kafka.x=1 --json", "\\-o kafka.x=1 \\-\\-json"},
        {"well-known, integrity-only", "well-known, integrity-only"},
        {"(-1 = none)", "(\\-1 = none)"},
        {"a \\ b", "a \\e b"},
        {".starts with a dot", "\\&.starts with a dot"},
        {"'quote first", "\\&'quote first"},
        {"agent \xe2\x80\x94 commune", "agent \\[u2014] commune"},
        {"Ph\xc6\xb0\xe1\xbb\x9dng", "Ph\\[u01B0]\\[u1EDD]ng"},
        {"bad \xff byte", "bad ? byte"},
        {"cut \xe2\x80", "cut ??"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        char *got = capture_text(cases[i].in);
        ASSERT_EQ_STR(got, cases[i].out);
        free(got);
    }
}

static const char commands[] =
    "  run                  send until SIGTERM\n"
    "  status [--json] [--timeout S] lag per commune and\n"
    "                                whether a sink runs. Exit status:\n"
    "                                  0 all consumed\n"
    "                                  3 a problem, named\n"
    "                                    on stderr\n"
    "  verify --deep [COMMUNE...]\n"
    "                       recompute the digest\n"
    "    FILTER: --commune CODE\n"
    "  keygen PRIVATE PUBLIC  write a key pair\n";

static void test_page(void)
{
    demo_conf_t dc = {0};
    lt_conf_t conf = {.table = table, .dst = &dc, .without_kafka = 1};
    lt_cli_t cli = {.prog = "lienthong-demo",
                    .summary = "a demo \xe2\x80\x94 for tests",
                    .commands = commands,
                    .default_conf = "/etc/lienthong/demo.ini"};
    char *page = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&page, &len);
    lt_cli_man(&cli, &conf, 8, fp);
    fclose(fp);

    ASSERT_CONTAINS(page, "\n.TH LIENTHONG-DEMO 8 \"\" \"lienthong " LT_VERSION "\" \"lienthong\"\n");
    ASSERT_CONTAINS(page, "\n.SH NAME\nlienthong-demo \\- a demo \\[u2014] for tests\n");
    /* a two-space gap ends the command; so does the column the next line starts at */
    ASSERT_CONTAINS(page, "\n.TP\n\\fBrun\\fR\nsend until SIGTERM\n");
    ASSERT_CONTAINS(page, "\n.TP\n\\fBstatus [\\-\\-json] [\\-\\-timeout S]\\fR\nlag per commune and\n"
                          "whether a sink runs. Exit status:\n");
    /* deeper lines each on a line of their own, their continuations joined */
    ASSERT_CONTAINS(page, "\n.br\n0 all consumed\n.br\n3 a problem, named\non stderr\n");
    /* a command alone on its line; a shallower line is a paragraph of its own */
    ASSERT_CONTAINS(page, "\n.TP\n\\fBverify \\-\\-deep [COMMUNE...]\\fR\nrecompute the digest\n"
                          ".IP\nFILTER: \\-\\-commune CODE\n");
    ASSERT_CONTAINS(page, "\n.TP\n\\fBkeygen PRIVATE PUBLIC\\fR\nwrite a key pair\n");
    /* options: the same as --help, the default file named */
    ASSERT_CONTAINS(page, "\n.TP\n\\fB\\-c, \\-\\-config\\fR \\fIFILE\\fR\n"
                          "configuration file (default /etc/lienthong/demo.ini)\n");
    /* the table, section by section, without [kafka] for a program without Kafka */
    ASSERT_CONTAINS(page, "\n.SS [demo]\n.TP\n\\fBname\\fR (string, default none)\n"
                          "a name \\e with a backslash\n");
    ASSERT_CONTAINS(page, "\n.TP\n\\fBcount\\fR (integer, default \\fB\\-1\\fR)\n"
                          "a count (\\-1 = none); a well-known option\n");
    ASSERT_TRUE(strstr(page, "[kafka]") == NULL);
    ASSERT_CONTAINS(page, "\n.SH SEE ALSO\n\\fBlienthong-agent\\fR(8),\n");
    free(page);
}

int main(void)
{
    RUN_TEST(test_escaping);
    RUN_TEST(test_page);
    return LT_TEST_EXIT();
}
