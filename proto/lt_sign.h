/* lt_sign — batch signatures.
 *
 * A commune signs the exact bytes of each Batch with its Ed25519 key (OpenSSL
 * EVP one-shot). key_id is "ed25519:" followed by the first 16 hex digits of
 * SHA-256 over the raw 32-byte public key, so the province can look up the
 * signer. The scheme "sha256:" (signature = SHA-256 of the batch) proves only
 * integrity; it exists for agents without a key and a sink accepts it only
 * when configured to. */
#ifndef LT_SIGN_H
#define LT_SIGN_H

#include <stddef.h>
#include <stdint.h>

#define LT_KEY_ID_MAX 64
#define LT_SIGNATURE_MAX 64

typedef struct lt_signer lt_signer_t;

/* Generate an Ed25519 key pair: private key PEM (PKCS#8) written to priv_path
 * with mode 0600, public key PEM to pub_path. Returns 0 or -1 with errstr. */
int lt_sign_keygen(const char *priv_path, const char *pub_path, char *errstr,
                   size_t errstr_size);

/* Load a private key PEM; NULL path gives the integrity-only "sha256:" signer.
 * A key file that group or others may read or write is refused ("KEY is
 * readable by group or others (mode 0644): chmod 600 KEY").
 * Returns NULL with errstr on failure. */
lt_signer_t *lt_signer_new(const char *priv_path, char *errstr, size_t errstr_size);
void lt_signer_destroy(lt_signer_t *signer);
const char *lt_signer_key_id(const lt_signer_t *signer);

/* Sign buf into sig (at least LT_SIGNATURE_MAX bytes); *sig_len gets the length.
 * Returns 0, or -1 if OpenSSL fails. */
int lt_signer_sign(lt_signer_t *signer, const uint8_t *buf, size_t len, uint8_t *sig,
                   size_t *sig_len);

/* Key id of a public key given as PEM text. Returns 0 or -1 with errstr. */
int lt_sign_key_id_of_pem(const char *pub_pem, char *key_id, size_t key_id_size,
                          char *errstr, size_t errstr_size);

/* Verify sig over buf. pub_pem is the signer's public key PEM text, or NULL for
 * the "sha256:" scheme. Returns 1 valid, 0 invalid, -1 on a malformed key. */
int lt_sign_verify(const char *key_id, const char *pub_pem, const uint8_t *buf, size_t len,
                   const uint8_t *sig, size_t sig_len);

#endif
