/* The newest-row-per-entity table of the sink: newer (version, seq) wins, older
 * offers are ignored, and it keeps working past many growth steps. */
#include <stdio.h>
#include <string.h>

#include "lt_newest.h"
#include "lt_test.h"

static void offer(lt_newest_t *n, const char *key, uint64_t version, uint64_t seq)
{
    char row[64];
    int len = snprintf(row, sizeof(row), "%s v%llu s%llu\n", key, (unsigned long long)version,
                       (unsigned long long)seq);
    lt_newest_offer(n, key, strlen(key), version, seq, row, (size_t)len);
}

static void test_newest_wins(void)
{
    lt_newest_t *n = lt_newest_new();
    lt_buf_t out = {0};
    offer(n, "a", 2, 10);
    offer(n, "a", 1, 11); /* an older version arriving later: ignored */
    offer(n, "b", 1, 12);
    offer(n, "a", 3, 13);
    offer(n, "b", 1, 14); /* same version, later sequence: taken */
    ASSERT_EQ_INT(lt_newest_count(n), 2);
    lt_newest_write(n, &out);
    ASSERT_EQ_STR(lt_buf_cstr(&out), "a v3 s13\nb v1 s14\n");
    lt_newest_reset(n);
    ASSERT_EQ_INT(lt_newest_count(n), 0);
    offer(n, "a", 1, 1); /* a reset table forgets the old versions */
    lt_buf_reset(&out);
    lt_newest_write(n, &out);
    ASSERT_EQ_STR(lt_buf_cstr(&out), "a v1 s1\n");
    lt_buf_free(&out);
    lt_newest_destroy(n);
}

static void test_many_keys(void)
{
    lt_newest_t *n = lt_newest_new();
    char key[32];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < 20000; i++) {
            snprintf(key, sizeof(key), "00004\x1f" "dossier\x1f" "d-%d", i);
            offer(n, key, (uint64_t)(round + 1), (uint64_t)(round * 20000 + i));
        }
    }
    ASSERT_EQ_INT(lt_newest_count(n), 20000);
    lt_buf_t out = {0};
    lt_newest_write(n, &out);
    ASSERT_TRUE(strstr(lt_buf_cstr(&out), " v1 ") == NULL); /* every key at version 2 */
    ASSERT_CONTAINS(lt_buf_cstr(&out), "d-19999 v2 s39999\n");
    lt_buf_free(&out);
    lt_newest_destroy(n);
}

int main(void)
{
    RUN_TEST(test_newest_wins);
    RUN_TEST(test_many_keys);
    return LT_TEST_EXIT();
}
