/* lt_digest: the bucketed set digest is order-independent, undone by
 * removing what was added, detects a changed version, content or tombstone
 * in exactly its bucket, and survives the wire form. */
#include <string.h>

#include "lt_digest.h"
#include "lt_test.h"

static const uint8_t hash_a[32] = {1, 2, 3}, hash_b[32] = {9, 9, 9};

static void member(const char *id, uint64_t version, int deleted, const uint8_t *h,
                   lt_digest_member_t *m)
{
    lt_digest_member("dossier", id, version, deleted, h, h ? 32 : 0, m);
}

static void test_order_does_not_matter(void)
{
    lt_digest_t a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    lt_digest_member_t m[50];
    for (int i = 0; i < 50; i++) {
        char id[32];
        snprintf(id, sizeof(id), "00004-HS-%04d", i);
        member(id, (uint64_t)i + 1, i % 7 == 0, i % 7 ? hash_a : NULL, &m[i]);
    }
    for (int i = 0; i < 50; i++)
        lt_digest_add(&a, &m[i]);
    for (int i = 49; i >= 0; i--)
        lt_digest_add(&b, &m[i]);
    uint32_t diverged[LT_DIGEST_BUCKETS];
    ASSERT_EQ_INT(lt_digest_diff(&a, &b, diverged), 0);
    for (int i = 0; i < 50; i++)
        lt_digest_remove(&a, &m[i]);
    lt_digest_t zero;
    memset(&zero, 0, sizeof(zero));
    ASSERT_EQ_INT(lt_digest_diff(&a, &zero, diverged), 0);
}

static void test_a_change_shows_in_its_bucket(void)
{
    lt_digest_t a, b;
    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    lt_digest_member_t v1, v2, content, tomb;
    member("00004-HS-0001", 1, 0, hash_a, &v1);
    member("00004-HS-0001", 2, 0, hash_a, &v2);
    member("00004-HS-0001", 1, 0, hash_b, &content);
    member("00004-HS-0001", 1, 1, NULL, &tomb);
    ASSERT_EQ_INT(v1.bucket, lt_digest_bucket_of("dossier", "00004-HS-0001"));
    ASSERT_EQ_INT(v1.bucket, v2.bucket);
    ASSERT_TRUE(memcmp(v1.h, v2.h, sizeof(v1.h)) != 0);
    ASSERT_TRUE(memcmp(v1.h, content.h, sizeof(v1.h)) != 0);
    ASSERT_TRUE(memcmp(v1.h, tomb.h, sizeof(v1.h)) != 0);
    lt_digest_add(&a, &v1);
    lt_digest_add(&b, &v2);
    uint32_t diverged[LT_DIGEST_BUCKETS];
    ASSERT_EQ_INT(lt_digest_diff(&a, &b, diverged), 1);
    ASSERT_EQ_INT(diverged[0], v1.bucket);
    /* An update at the other level: v1 out, v2 in. */
    lt_digest_remove(&a, &v1);
    lt_digest_add(&a, &v2);
    ASSERT_EQ_INT(lt_digest_diff(&a, &b, diverged), 0);
    /* Same entity id under another type: another member. */
    lt_digest_member_t other;
    lt_digest_member("civil_record", "00004-HS-0001", 1, 0, hash_a, 32, &other);
    ASSERT_TRUE(memcmp(v1.h, other.h, sizeof(v1.h)) != 0);
}

static void test_wire_form_round_trips(void)
{
    lt_digest_t a, back;
    memset(&a, 0, sizeof(a));
    for (int i = 0; i < 1000; i++) {
        char id[32];
        lt_digest_member_t m;
        snprintf(id, sizeof(id), "id-%d", i);
        member(id, 7, 0, hash_b, &m);
        lt_digest_add(&a, &m);
    }
    Lienthong__V1__Digest *pb = lt_digest_to_pb(&a);
    uint8_t buf[LT_DIGEST_BUCKETS * 64];
    size_t len = protobuf_c_message_pack(&pb->base, buf);
    ASSERT_TRUE(len < sizeof(buf));
    Lienthong__V1__Digest *read = lienthong__v1__digest__unpack(NULL, len, buf);
    ASSERT_TRUE(read != NULL);
    char errstr[256];
    ASSERT_EQ_INT(lt_digest_from_pb(read, &back, errstr, sizeof(errstr)), 0);
    ASSERT_TRUE(memcmp(&a, &back, sizeof(a)) == 0);
    read->buckets[3]->index = read->buckets[4]->index; /* one bucket twice */
    ASSERT_EQ_INT(lt_digest_from_pb(read, &back, errstr, sizeof(errstr)), -1);
    ASSERT_CONTAINS(errstr, "repeated");
    protobuf_c_message_free_unpacked(&read->base, NULL);
    lt_digest_pb_free(pb);
}

int main(void)
{
    RUN_TEST(test_order_does_not_matter);
    RUN_TEST(test_a_change_shows_in_its_bucket);
    RUN_TEST(test_wire_form_round_trips);
    return LT_TEST_EXIT();
}
