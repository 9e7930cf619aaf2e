/* The table-driven ini reader: defaults, types, bounds, errors as file:line. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "lt_conf.h"
#include "lt_test.h"

typedef struct demo_conf {
    char *name;
    long count;
    int flag;
} demo_conf_t;

static const lt_conf_opt_t table[] = {
    {"demo", "name", LT_CONF_STR, "anon", offsetof(demo_conf_t, name), 0, 0, "a name"},
    {"demo", "count", LT_CONF_INT, "5", offsetof(demo_conf_t, count), 1, 10, "a count"},
    {"demo", "flag", LT_CONF_BOOL, "false", offsetof(demo_conf_t, flag), 0, 1, "a flag"},
    {NULL, NULL, 0, NULL, 0, 0, 0, NULL},
};

static char *write_file(const char *text)
{
    static char path[64];
    snprintf(path, sizeof(path), "/tmp/lt_test_conf_%d.ini", (int)getpid());
    FILE *fp = fopen(path, "w");
    fputs(text, fp);
    fclose(fp);
    return path;
}

static int load(const char *text, demo_conf_t *dc, lt_conf_t *conf, char *errstr, size_t size)
{
    *conf = (lt_conf_t){.table = table, .dst = dc};
    lt_conf_defaults(conf, errstr, size);
    char *path = write_file(text);
    int rc = lt_conf_load_file(conf, path, errstr, size);
    remove(path);
    return rc;
}

static void test_defaults_and_values(void)
{
    demo_conf_t dc = {0};
    lt_conf_t conf;
    char errstr[256];
    ASSERT_EQ_INT(load("# comment\n[demo]\nname = Hà Nội \ncount=7\nflag = yes\n"
                       "[kafka]\nbootstrap.servers = 127.0.0.1:9092\nlinger.ms=5\n",
                       &dc, &conf, errstr, sizeof(errstr)),
                  0);
    ASSERT_EQ_STR(dc.name, "Hà Nội");
    ASSERT_EQ_INT(dc.count, 7);
    ASSERT_EQ_INT(dc.flag, 1);
    ASSERT_EQ_INT(conf.kafka.count, 2);
    ASSERT_EQ_STR(lt_conf_kafka_get(&conf, "bootstrap.servers"), "127.0.0.1:9092");
    ASSERT_EQ_INT(lt_conf_set_arg(&conf, "demo.count=3", errstr, sizeof(errstr)), 0);
    ASSERT_EQ_INT(dc.count, 3);
    ASSERT_EQ_INT(lt_conf_set_arg(&conf, "kafka.linger.ms=9", errstr, sizeof(errstr)), 0);
    ASSERT_EQ_STR(lt_conf_kafka_get(&conf, "linger.ms"), "9");
    lt_conf_destroy(&conf);
}

static void test_errors_name_the_line(void)
{
    struct {
        const char *text, *expect;
    } cases[] = {
        {"[demo]\ncount = 11\n", ":2: demo.count: 11 is outside 1..10"},
        {"[demo]\ncount = many\n", ":2: demo.count: expected an integer, got \"many\""},
        {"[demo]\nflag = maybe\n", ":2: demo.flag: expected true or false"},
        {"[demo]\ncolour = red\n", ":2: unknown option demo.colour"},
        {"[nope]\n", ":1: unknown section [nope]"},
        {"name = x\n", ":1: \"name = x\" is outside any [section]"},
        {"[demo]\njust words\n", ":2: expected key = value"},
        {"[demo\n", ":1: malformed section header"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        demo_conf_t dc = {0};
        lt_conf_t conf;
        char errstr[256] = "";
        ASSERT_EQ_INT(load(cases[i].text, &dc, &conf, errstr, sizeof(errstr)), -1);
        ASSERT_CONTAINS(errstr, cases[i].expect);
        lt_conf_destroy(&conf);
    }
}

static void test_bad_override(void)
{
    demo_conf_t dc = {0};
    lt_conf_t conf = {.table = table, .dst = &dc};
    char errstr[256];
    lt_conf_defaults(&conf, errstr, sizeof(errstr));
    ASSERT_EQ_STR(dc.name, "anon");
    ASSERT_EQ_INT(lt_conf_set_arg(&conf, "count=3", errstr, sizeof(errstr)), -1);
    ASSERT_CONTAINS(errstr, "expected section.key=value");
    ASSERT_EQ_INT(lt_conf_set_arg(&conf, "other.x=1", errstr, sizeof(errstr)), -1);
    ASSERT_CONTAINS(errstr, "unknown section [other]");
    lt_conf_destroy(&conf);
}

int main(void)
{
    RUN_TEST(test_defaults_and_values);
    RUN_TEST(test_errors_name_the_line);
    RUN_TEST(test_bad_override);
    return LT_TEST_EXIT();
}
