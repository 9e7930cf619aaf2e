/* lt_envelope — the signed envelope around every batch on the wire.
 *
 * A Kafka record's value is a SignedBatch: the exact bytes of one Batch, a
 * signature over those bytes and the id of the key that made it. Sealing
 * (the agent) serializes the batch, signs it and wraps it; opening (the
 * sink, a quarantine replay) decodes the envelope under the size cap, checks
 * the signer against what the province registered for the commune,
 * verifies the signature and only then decodes the Batch inside. */
#ifndef LT_ENVELOPE_H
#define LT_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "lienthong/v1/lienthong.pb-c.h"

/* SHA-256 of a batch's bytes: the link the next batch chains to. */
#define LT_ENVELOPE_HASH_LEN 32

struct lt_signer; /* lt_sign.h */

/* An opened envelope: the verified Batch and how it was signed. */
typedef struct lt_envelope lt_envelope_t;

/* Whom the province expects to have signed a commune's batches. */
typedef struct lt_envelope_signer {
    const char *commune;      /* the commune's code, named in refusals */
    const char *key_id;       /* its registered key's id; NULL: none registered */
    const char *public_key;   /* that key, PEM */
    int allow_integrity_only; /* without a registered key, accept "sha256:" batches */
} lt_envelope_signer_t;

/* Serialize batch, sign its exact bytes with signer and wrap them in a
 * SignedBatch. hash receives the SHA-256 of the batch bytes. Returns the
 * envelope (malloc'd: the caller frees it or hands it to librdkafka with
 * RD_KAFKA_MSG_F_FREE) with its length in *len, or NULL when packing or
 * signing fails. */
uint8_t *lt_envelope_seal(const Lienthong__V1__Batch *batch, struct lt_signer *signer,
                          size_t *len, uint8_t hash[LT_ENVELOPE_HASH_LEN]);

/* Open the envelope value[0..len), at most max_bytes, signed as signer says.
 * Returns the opened envelope (lt_envelope_destroy it; it does not point
 * into value), or NULL with *reason_code set to a stable code for the
 * quarantine ("too_large", "malformed", ..., "wrong_signer",
 * "bad_signature") and a sentence in errstr. */
lt_envelope_t *lt_envelope_open(const uint8_t *value, size_t len, size_t max_bytes,
                                const lt_envelope_signer_t *signer, const char **reason_code,
                                char *errstr, size_t errstr_size);

/* NULL is allowed. */
void lt_envelope_destroy(lt_envelope_t *env);

/* The Batch inside, owned by env. */
const Lienthong__V1__Batch *lt_envelope_batch(const lt_envelope_t *env);

/* The signer's key id and the signature (owned by env). */
const char *lt_envelope_key_id(const lt_envelope_t *env);
const uint8_t *lt_envelope_signature(const lt_envelope_t *env, size_t *len);

/* hash <- SHA-256 of the batch's exact bytes, as lt_envelope_seal gave it. */
void lt_envelope_batch_hash(const lt_envelope_t *env, uint8_t hash[LT_ENVELOPE_HASH_LEN]);

#endif
