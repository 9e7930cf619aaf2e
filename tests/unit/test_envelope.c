/* The signed envelope: what the agent seals the sink opens, with the key the
 * province registered, and nothing else. */
#include <stdlib.h>
#include <string.h>

#include "lt_codec.h"
#include "lt_envelope.h"
#include "lt_sign.h"
#include "lt_test.h"
#include "lt_test_key.h"

/* A batch of one delete (no payload needed) for commune 00004. */
static uint8_t *seal_one(lt_signer_t *signer, size_t *len, uint8_t hash[LT_ENVELOPE_HASH_LEN])
{
    Lienthong__V1__Event ev = LIENTHONG__V1__EVENT__INIT;
    Lienthong__V1__Event *events[] = {&ev};
    ev.seq = 7;
    ev.entity_type = LIENTHONG__V1__ENTITY_TYPE__ENTITY_TYPE_DOSSIER;
    ev.entity_id = (char *)"d-1";
    ev.version = 3;
    ev.op = LIENTHONG__V1__OP__OP_DELETE;
    Lienthong__V1__Batch batch = LIENTHONG__V1__BATCH__INIT;
    batch.commune_code = (char *)"00004";
    batch.first_seq = batch.last_seq = 7;
    batch.n_events = 1;
    batch.events = events;
    return lt_envelope_seal(&batch, signer, len, hash);
}

static void test_sealed_opens_with_its_hash(void)
{
    lt_signer_t *s = lt_signer_new(NULL, NULL, 0);
    size_t len;
    uint8_t hash[LT_ENVELOPE_HASH_LEN], again[LT_ENVELOPE_HASH_LEN];
    uint8_t *value = seal_one(s, &len, hash);
    ASSERT_TRUE(value != NULL);
    lt_envelope_signer_t signer = {.commune = "00004", .allow_integrity_only = 1};
    const char *code = NULL;
    char errstr[512];
    lt_envelope_t *env = lt_envelope_open(value, len, LT_MAX_MESSAGE_BYTES_DEFAULT, &signer,
                                          &code, errstr, sizeof(errstr));
    ASSERT_TRUE(env != NULL);
    ASSERT_EQ_STR(lt_envelope_batch(env)->commune_code, "00004");
    ASSERT_EQ_INT(lt_envelope_batch(env)->last_seq, 7);
    ASSERT_EQ_STR(lt_envelope_key_id(env), "sha256:");
    lt_envelope_batch_hash(env, again);
    ASSERT_TRUE(memcmp(hash, again, sizeof(hash)) == 0);
    lt_envelope_destroy(env);
    lt_envelope_destroy(NULL);
    free(value);
    lt_signer_destroy(s);
}

static void test_refusals(void)
{
    lt_test_key_t key;
    lt_test_key_make(&key);
    lt_signer_t *weak = lt_signer_new(NULL, NULL, 0);
    char errstr[512];
    size_t len, weak_len;
    uint8_t hash[LT_ENVELOPE_HASH_LEN];
    uint8_t *value = seal_one(key.signer, &len, hash);
    uint8_t *weak_value = seal_one(weak, &weak_len, hash);
    lt_envelope_signer_t registered = {.commune = "00004",
                                       .key_id = lt_signer_key_id(key.signer),
                                       .public_key = key.pem,
                                       .allow_integrity_only = 1};
    lt_envelope_signer_t keyless = {.commune = "00004", .allow_integrity_only = 0};
    const char *code = NULL;
    lt_envelope_t *env = lt_envelope_open(value, len, 1 << 20, &registered, &code, errstr,
                                          sizeof(errstr));
    ASSERT_TRUE(env != NULL);
    lt_envelope_destroy(env);
    /* unsigned where a key is registered */
    ASSERT_TRUE(!lt_envelope_open(weak_value, weak_len, 1 << 20, &registered, &code, errstr,
                                  sizeof(errstr)));
    ASSERT_EQ_STR(code, "wrong_signer");
    ASSERT_CONTAINS(errstr, "commune 00004 uses");
    /* integrity-only where it is not allowed */
    ASSERT_TRUE(!lt_envelope_open(weak_value, weak_len, 1 << 20, &keyless, &code, errstr,
                                  sizeof(errstr)));
    ASSERT_EQ_STR(code, "wrong_signer");
    /* a flipped bit inside the signed bytes */
    value[10] ^= 0x01;
    ASSERT_TRUE(!lt_envelope_open(value, len, 1 << 20, &registered, &code, errstr,
                                  sizeof(errstr)));
    ASSERT_TRUE(strcmp(code, "bad_signature") == 0 || strcmp(code, "malformed") == 0);
    /* over the size cap, never decoded */
    ASSERT_TRUE(!lt_envelope_open(value, len, 16, &registered, &code, errstr, sizeof(errstr)));
    ASSERT_EQ_STR(code, "too_large");
    ASSERT_CONTAINS(errstr, "SignedBatch: ");
    free(value);
    free(weak_value);
    lt_signer_destroy(weak);
    lt_test_key_drop(&key);
}

int main(void)
{
    RUN_TEST(test_sealed_opens_with_its_hash);
    RUN_TEST(test_refusals);
    return LT_TEST_EXIT();
}
