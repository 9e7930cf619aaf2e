#include "lt_envelope.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_codec.h"
#include "lt_sign.h"
#include "lt_util.h"

_Static_assert(LT_ENVELOPE_HASH_LEN == LT_SHA256_LEN, "the chain link is a SHA-256");

struct lt_envelope {
    Lienthong__V1__SignedBatch *signed_batch;
    Lienthong__V1__Batch *batch;
};

/* The scheme of communes without a key (lt_sign.h). */
static const char lt_envelope_integrity_only[] = "sha256:";

/* ------------------------------------------------------------------- seal */

uint8_t *lt_envelope_seal(const Lienthong__V1__Batch *batch, struct lt_signer *signer,
                          size_t *len, uint8_t hash[LT_ENVELOPE_HASH_LEN])
{
    size_t batch_len;
    uint8_t *batch_bytes = lt_pb_pack(&batch->base, &batch_len);
    uint8_t sig[LT_SIGNATURE_MAX];
    size_t sig_len = 0;
    if (!batch_bytes)
        return NULL;
    lt_sha256(batch_bytes, batch_len, hash);
    if (lt_signer_sign(signer, batch_bytes, batch_len, sig, &sig_len) != 0) {
        free(batch_bytes);
        return NULL;
    }
    Lienthong__V1__SignedBatch sb = LIENTHONG__V1__SIGNED_BATCH__INIT;
    char key_id[LT_KEY_ID_MAX];
    lt_strlcpy(key_id, lt_signer_key_id(signer), sizeof(key_id));
    sb.batch.data = batch_bytes;
    sb.batch.len = batch_len;
    sb.signature.data = sig;
    sb.signature.len = sig_len;
    sb.key_id = key_id;
    uint8_t *out = lt_pb_pack(&sb.base, len);
    free(batch_bytes);
    return out;
}

/* ------------------------------------------------------------------- open */

/* A refusal: its code, and the sentence in errstr. Returns -1. */
static int lt_envelope_refuse(const char **reason_code, const char *code, char *errstr,
                              size_t errstr_size, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static int lt_envelope_refuse(const char **reason_code, const char *code, char *errstr,
                              size_t errstr_size, const char *fmt, ...)
{
    va_list ap;
    *reason_code = code;
    va_start(ap, fmt);
    vsnprintf(errstr, errstr_size, fmt, ap);
    va_end(ap);
    return -1;
}

/* Is the envelope signed by the key the province registered for the
 * commune (or, for a commune without one, integrity-only where allowed),
 * and does the signature verify? Returns 0 or -1 with the refusal. */
static int lt_envelope_check_signer(const Lienthong__V1__SignedBatch *sb,
                                    const lt_envelope_signer_t *signer,
                                    const char **reason_code, char *errstr,
                                    size_t errstr_size)
{
    const char *pem = NULL;
    if (signer->key_id) {
        if (strcmp(sb->key_id, signer->key_id) != 0)
            return lt_envelope_refuse(reason_code, "wrong_signer", errstr, errstr_size,
                                      "signed by key \"%s\"; commune %s uses \"%s\"",
                                      sb->key_id, signer->commune, signer->key_id);
        pem = signer->public_key;
    } else if (!signer->allow_integrity_only ||
               strcmp(sb->key_id, lt_envelope_integrity_only) != 0) {
        return lt_envelope_refuse(reason_code, "wrong_signer", errstr, errstr_size,
                                  "signed by key \"%s\" but commune %s has no registered key",
                                  sb->key_id, signer->commune);
    }
    int ok = lt_sign_verify(sb->key_id, pem, sb->batch.data, sb->batch.len, sb->signature.data,
                            sb->signature.len);
    if (ok != 1)
        return lt_envelope_refuse(reason_code, "bad_signature", errstr, errstr_size,
                                  "signature does not verify (key %s)", sb->key_id);
    return 0;
}

lt_envelope_t *lt_envelope_open(const uint8_t *value, size_t len, size_t max_bytes,
                                const lt_envelope_signer_t *signer, const char **reason_code,
                                char *errstr, size_t errstr_size)
{
    char detail[512];
    lt_decode_err_t err;
    lt_envelope_t *env = calloc(1, sizeof(*env));
    if (!env)
        abort();
    env->signed_batch =
        lt_signed_batch_decode(value, len, max_bytes, &err, detail, sizeof(detail));
    if (!env->signed_batch) {
        lt_envelope_refuse(reason_code, lt_decode_err_code(err), errstr, errstr_size,
                           "SignedBatch: %s", detail);
        goto fail;
    }
    if (lt_envelope_check_signer(env->signed_batch, signer, reason_code, errstr,
                                 errstr_size) != 0)
        goto fail;
    env->batch = lt_batch_decode(env->signed_batch->batch.data, env->signed_batch->batch.len,
                                 max_bytes, &err, detail, sizeof(detail));
    if (!env->batch) {
        lt_envelope_refuse(reason_code, lt_decode_err_code(err), errstr, errstr_size,
                           "Batch: %s", detail);
        goto fail;
    }
    return env;
fail:
    lt_envelope_destroy(env);
    return NULL;
}

void lt_envelope_destroy(lt_envelope_t *env)
{
    if (!env)
        return;
    if (env->batch)
        protobuf_c_message_free_unpacked(&env->batch->base, NULL);
    if (env->signed_batch)
        protobuf_c_message_free_unpacked(&env->signed_batch->base, NULL);
    free(env);
}

/* -------------------------------------------------------------- accessors */

const Lienthong__V1__Batch *lt_envelope_batch(const lt_envelope_t *env)
{
    return env->batch;
}

const char *lt_envelope_key_id(const lt_envelope_t *env)
{
    return env->signed_batch->key_id;
}

const uint8_t *lt_envelope_signature(const lt_envelope_t *env, size_t *len)
{
    *len = env->signed_batch->signature.len;
    return env->signed_batch->signature.data;
}

void lt_envelope_batch_hash(const lt_envelope_t *env, uint8_t hash[LT_ENVELOPE_HASH_LEN])
{
    lt_sha256(env->signed_batch->batch.data, env->signed_batch->batch.len, hash);
}
