/* Topic names: built, parsed back and matched by the sink's subscription. */
#include <regex.h>
#include <string.h>

#include "lt_test.h"
#include "lt_topic.h"

static void test_name_and_parse_round_trip(void)
{
    char name[LT_TOPIC_NAME_MAX];
    lt_topic_parts_t parts;
    ASSERT_EQ_INT(lt_topic_name(name, sizeof(name), "01", "00004", LT_TOPIC_EVENTS), 0);
    ASSERT_EQ_STR(name, "lt.01.00004.events");
    ASSERT_EQ_INT(lt_topic_parse(name, &parts), 0);
    ASSERT_EQ_STR(parts.province, "01");
    ASSERT_EQ_STR(parts.commune, "00004");
    ASSERT_EQ_STR(parts.kind, "events");
    ASSERT_EQ_INT(lt_topic_name(name, sizeof(name), "79", "26734", LT_TOPIC_CONTROL), 0);
    ASSERT_EQ_STR(name, "lt.79.26734.control");
    ASSERT_EQ_INT(lt_topic_name(name, 8, "01", "00004", LT_TOPIC_EVENTS), -1);
}

static void test_parse_refuses_other_names(void)
{
    static const char *const bad[] = {"lt.1.00004.events", "lt.01.0004.events",
                                      "lt.01.00004.",      "lt.01.00004",
                                      "xx.01.00004.events", "lt.01.00004.Events",
                                      "lt.0a.00004.events", ""};
    lt_topic_parts_t parts;
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
        ASSERT_EQ_INT(lt_topic_parse(bad[i], &parts), -1);
}

/* The subscription matches what lt_topic_name builds for the province, nothing else. */
static void test_pattern_matches_the_names(void)
{
    char pattern[LT_TOPIC_NAME_MAX], name[LT_TOPIC_NAME_MAX];
    regex_t re;
    ASSERT_EQ_INT(lt_topic_pattern(pattern, sizeof(pattern), "01", LT_TOPIC_EVENTS), 0);
    ASSERT_EQ_STR(pattern, "^lt\\.01\\.[0-9]{5}\\.events$");
    ASSERT_EQ_INT(regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB), 0);
    lt_topic_name(name, sizeof(name), "01", "00004", LT_TOPIC_EVENTS);
    ASSERT_EQ_INT(regexec(&re, name, 0, NULL, 0), 0);
    lt_topic_name(name, sizeof(name), "01", "00004", LT_TOPIC_CONTROL);
    ASSERT_TRUE(regexec(&re, name, 0, NULL, 0) != 0);
    lt_topic_name(name, sizeof(name), "02", "00004", LT_TOPIC_EVENTS);
    ASSERT_TRUE(regexec(&re, name, 0, NULL, 0) != 0);
    regfree(&re);
}

int main(void)
{
    RUN_TEST(test_name_and_parse_round_trip);
    RUN_TEST(test_parse_refuses_other_names);
    RUN_TEST(test_pattern_matches_the_names);
    return LT_TEST_EXIT();
}
