/* lt_test — a minimal test runner: each ASSERT prints both values and the
 * location, and the program exits non-zero if any check failed. */
#ifndef LT_TEST_H
#define LT_TEST_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int lt_test_failures;
static int lt_test_checks;

#define LT_FAIL_(fmt, ...)                                                              \
    do {                                                                                \
        lt_test_failures++;                                                             \
        fprintf(stderr, "%s:%d: " fmt "\n", __FILE__, __LINE__, __VA_ARGS__);           \
    } while (0)

#define ASSERT_TRUE(cond)                                                               \
    do {                                                                                \
        lt_test_checks++;                                                               \
        if (!(cond))                                                                    \
            LT_FAIL_("expected true: %s", #cond);                                       \
    } while (0)

#define ASSERT_EQ_INT(a, b)                                                             \
    do {                                                                                \
        long long a_ = (long long)(a), b_ = (long long)(b);                             \
        lt_test_checks++;                                                               \
        if (a_ != b_)                                                                   \
            LT_FAIL_("%s == %s: %lld != %lld", #a, #b, a_, b_);                         \
    } while (0)

#define ASSERT_EQ_STR(a, b)                                                             \
    do {                                                                                \
        const char *a_ = (a), *b_ = (b);                                                \
        lt_test_checks++;                                                               \
        if (!a_ || !b_ || strcmp(a_, b_) != 0)                                          \
            LT_FAIL_("%s == %s: \"%s\" != \"%s\"", #a, #b, a_ ? a_ : "(null)",         \
                     b_ ? b_ : "(null)");                                               \
    } while (0)

#define ASSERT_CONTAINS(hay, needle)                                                    \
    do {                                                                                \
        const char *h_ = (hay), *n_ = (needle);                                         \
        lt_test_checks++;                                                               \
        if (!h_ || !strstr(h_, n_))                                                     \
            LT_FAIL_("%s contains %s: \"%s\" lacks \"%s\"", #hay, #needle,             \
                     h_ ? h_ : "(null)", n_);                                           \
    } while (0)

#define RUN_TEST(fn)                                                                    \
    do {                                                                                \
        int before_ = lt_test_failures;                                                 \
        fn();                                                                           \
        fprintf(stderr, "%s %s\n", lt_test_failures == before_ ? "ok  " : "FAIL", #fn); \
    } while (0)

#define LT_TEST_EXIT()                                                                  \
    (fprintf(stderr, "%d checks, %d failed\n", lt_test_checks, lt_test_failures),      \
     lt_test_failures ? EXIT_FAILURE : EXIT_SUCCESS)

#endif
