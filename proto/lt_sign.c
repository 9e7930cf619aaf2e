/* lt_sign — Ed25519 batch signatures through OpenSSL 3 EVP, and the
 * integrity-only "sha256:" scheme. */
#include "lt_sign.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "lt_buf.h"
#include "lt_codec.h"
#include "lt_util.h"

#define LT_SCHEME_SHA256 "sha256:"
#define LT_SCHEME_ED25519 "ed25519:"
#define LT_ED25519_PUB_LEN 32
#define LT_ED25519_SIG_LEN 64
#define LT_KEY_ID_HEX 16 /* hex digits of SHA-256(public key) in a key id */

struct lt_signer {
    EVP_PKEY *pkey; /* NULL for the "sha256:" scheme */
    char key_id[LT_KEY_ID_MAX];
};

/* errstr gets "what: OpenSSL's reason"; the OpenSSL error queue is emptied so a
 * stale error never shows up in an unrelated later report. Returns -1. */
static int lt_sign_fail(char *errstr, size_t errstr_size, const char *what)
{
    char reason[256] = "no OpenSSL error";
    unsigned long e = ERR_peek_last_error();

    if (e)
        ERR_error_string_n(e, reason, sizeof(reason));
    ERR_clear_error();
    return lt_err(errstr, errstr_size, "%s: %s", what, reason);
}

/* Never ask for a passphrase: an encrypted key fails to load instead of making
 * OpenSSL prompt on the terminal of a daemon. */
static int lt_no_passphrase(char *buf, int size, int rwflag, void *u)
{
    (void)buf;
    (void)size;
    (void)rwflag;
    (void)u;
    return -1;
}

/* "ed25519:" + the first 16 hex digits of SHA-256 over the raw public key. */
static int lt_key_id_of_pkey(EVP_PKEY *pkey, char *key_id, size_t key_id_size,
                             char *errstr, size_t errstr_size)
{
    uint8_t raw[LT_ED25519_PUB_LEN], digest[LT_SHA256_LEN];
    char hex[2 * LT_SHA256_LEN + 1];
    size_t raw_len = sizeof(raw);

    if (!EVP_PKEY_is_a(pkey, "ED25519"))
        return lt_err(errstr, errstr_size, "not an Ed25519 key");
    if (!EVP_PKEY_get_raw_public_key(pkey, raw, &raw_len) || raw_len != sizeof(raw))
        return lt_sign_fail(errstr, errstr_size, "reading the raw public key");
    lt_sha256(raw, raw_len, digest);
    lt_hex(digest, LT_KEY_ID_HEX / 2, hex);
    if (snprintf(key_id, key_id_size, "%s%s", LT_SCHEME_ED25519, hex) >= (int)key_id_size)
        return lt_err(errstr, errstr_size, "key id buffer too small");
    return 0;
}

/* ------------------------------------------------------------------ keygen */

/* The private key file is created (or truncated) with mode 0600 and chmod'ed
 * again, since an existing file keeps its old mode through O_TRUNC. */
static int lt_write_private_pem(EVP_PKEY *pkey, const char *path, char *errstr,
                                size_t errstr_size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    FILE *fp = NULL;
    int ok;

    if (fd < 0)
        return lt_err(errstr, errstr_size, "%s: %s", path, strerror(errno));
    if (fchmod(fd, 0600) < 0) {
        lt_err(errstr, errstr_size, "%s: chmod 0600: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    fp = fdopen(fd, "w");
    if (fp == NULL) {
        lt_err(errstr, errstr_size, "%s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    ok = PEM_write_PrivateKey(fp, pkey, NULL, NULL, 0, NULL, NULL);
    if (fclose(fp) != 0 && ok)
        return lt_err(errstr, errstr_size, "%s: %s", path, strerror(errno));
    if (!ok)
        return lt_sign_fail(errstr, errstr_size, "writing the private key");
    return 0;
}

static int lt_write_public_pem(EVP_PKEY *pkey, const char *path, char *errstr,
                               size_t errstr_size)
{
    FILE *fp = fopen(path, "w");
    int ok;

    if (fp == NULL)
        return lt_err(errstr, errstr_size, "%s: %s", path, strerror(errno));
    ok = PEM_write_PUBKEY(fp, pkey);
    if (fclose(fp) != 0 && ok)
        return lt_err(errstr, errstr_size, "%s: %s", path, strerror(errno));
    if (!ok)
        return lt_sign_fail(errstr, errstr_size, "writing the public key");
    return 0;
}

int lt_sign_keygen(const char *priv_path, const char *pub_path, char *errstr,
                   size_t errstr_size)
{
    EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    int rc = -1;

    if (pkey == NULL)
        return lt_sign_fail(errstr, errstr_size, "generating an Ed25519 key");
    if (lt_write_private_pem(pkey, priv_path, errstr, errstr_size) < 0)
        goto fail;
    if (lt_write_public_pem(pkey, pub_path, errstr, errstr_size) < 0)
        goto fail;
    rc = 0;
fail:
    EVP_PKEY_free(pkey);
    return rc;
}

/* ------------------------------------------------------------------ signer */

static EVP_PKEY *lt_read_private_pem(const char *path, char *errstr, size_t errstr_size)
{
    FILE *fp = fopen(path, "r");
    EVP_PKEY *pkey;

    if (fp == NULL) {
        lt_err(errstr, errstr_size, "%s: %s", path, strerror(errno));
        return NULL;
    }
    pkey = PEM_read_PrivateKey(fp, NULL, lt_no_passphrase, NULL);
    fclose(fp);
    if (pkey == NULL)
        lt_sign_fail(errstr, errstr_size, "reading the private key");
    return pkey;
}

/* A private key that group or others may read is refused: whoever can
 * read it can sign for the commune. Checked once the file proved to hold
 * an Ed25519 key, so a wrong file is named for what it is. */
static int lt_key_file_private(const char *path, char *errstr, size_t errstr_size)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return lt_err(errstr, errstr_size, "%s: %s", path, strerror(errno));
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) == 0)
        return 0;
    return lt_err(errstr, errstr_size, "%s is %s by group or others (mode %04o): chmod 600 %s",
                  path, st.st_mode & (S_IRGRP | S_IROTH) ? "readable" : "writable or executable",
                  (unsigned)(st.st_mode & 07777), path);
}

lt_signer_t *lt_signer_new(const char *priv_path, char *errstr, size_t errstr_size)
{
    lt_signer_t *signer = calloc(1, sizeof(*signer));

    if (signer == NULL) {
        lt_err(errstr, errstr_size, "out of memory");
        return NULL;
    }
    if (priv_path == NULL) {
        memcpy(signer->key_id, LT_SCHEME_SHA256, sizeof(LT_SCHEME_SHA256));
        return signer;
    }
    signer->pkey = lt_read_private_pem(priv_path, errstr, errstr_size);
    if (signer->pkey == NULL)
        goto fail;
    if (lt_key_id_of_pkey(signer->pkey, signer->key_id, sizeof(signer->key_id), errstr,
                          errstr_size) < 0)
        goto fail;
    if (lt_key_file_private(priv_path, errstr, errstr_size) < 0)
        goto fail;
    return signer;
fail:
    lt_signer_destroy(signer);
    return NULL;
}

void lt_signer_destroy(lt_signer_t *signer)
{
    if (signer == NULL)
        return;
    EVP_PKEY_free(signer->pkey);
    free(signer);
}

const char *lt_signer_key_id(const lt_signer_t *signer)
{
    return signer->key_id;
}

int lt_signer_sign(lt_signer_t *signer, const uint8_t *buf, size_t len, uint8_t *sig,
                   size_t *sig_len)
{
    static const uint8_t empty[1];
    EVP_MD_CTX *ctx;
    int ok;

    if (signer->pkey == NULL) {
        lt_sha256(buf, len, sig);
        *sig_len = LT_SHA256_LEN;
        return 0;
    }
    ctx = EVP_MD_CTX_new();
    *sig_len = LT_SIGNATURE_MAX;
    /* Ed25519 signs the message itself: no digest, one-shot only. */
    ok = ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, signer->pkey) == 1 &&
         EVP_DigestSign(ctx, sig, sig_len, len ? buf : empty, len) == 1;
    EVP_MD_CTX_free(ctx);
    if (!ok) {
        ERR_clear_error();
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ verify */

static EVP_PKEY *lt_read_public_pem(const char *pem, char *errstr, size_t errstr_size)
{
    BIO *bio = pem ? BIO_new_mem_buf(pem, -1) : NULL;
    EVP_PKEY *pkey;

    if (bio == NULL) {
        lt_sign_fail(errstr, errstr_size, "reading the public key");
        return NULL;
    }
    pkey = PEM_read_bio_PUBKEY(bio, NULL, lt_no_passphrase, NULL);
    BIO_free(bio);
    if (pkey == NULL)
        lt_sign_fail(errstr, errstr_size, "reading the public key");
    return pkey;
}

int lt_sign_key_id_of_pem(const char *pub_pem, char *key_id, size_t key_id_size,
                          char *errstr, size_t errstr_size)
{
    EVP_PKEY *pkey = lt_read_public_pem(pub_pem, errstr, errstr_size);
    int rc;

    if (pkey == NULL)
        return -1;
    rc = lt_key_id_of_pkey(pkey, key_id, key_id_size, errstr, errstr_size);
    EVP_PKEY_free(pkey);
    return rc;
}

static int lt_verify_sha256(const uint8_t *buf, size_t len, const uint8_t *sig,
                            size_t sig_len)
{
    uint8_t digest[LT_SHA256_LEN];

    if (sig_len != LT_SHA256_LEN)
        return 0;
    lt_sha256(buf, len, digest);
    return CRYPTO_memcmp(digest, sig, LT_SHA256_LEN) == 0;
}

/* The key must be the one key_id names: a valid signature by another key is
 * still not a signature by the claimed signer. */
static int lt_verify_ed25519(const char *key_id, const char *pub_pem, const uint8_t *buf,
                             size_t len, const uint8_t *sig, size_t sig_len)
{
    static const uint8_t empty[1];
    char pem_key_id[LT_KEY_ID_MAX];
    EVP_PKEY *pkey;
    EVP_MD_CTX *ctx = NULL;
    int rc = -1;

    if (pub_pem == NULL || (pkey = lt_read_public_pem(pub_pem, NULL, 0)) == NULL)
        return -1;
    if (lt_key_id_of_pkey(pkey, pem_key_id, sizeof(pem_key_id), NULL, 0) < 0)
        goto fail;
    rc = 0;
    if (strcmp(pem_key_id, key_id) != 0 || sig_len != LT_ED25519_SIG_LEN)
        goto fail;
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL || EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) != 1) {
        rc = -1;
        goto fail;
    }
    rc = EVP_DigestVerify(ctx, sig, sig_len, len ? buf : empty, len) == 1;
fail:
    ERR_clear_error();
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    return rc;
}

int lt_sign_verify(const char *key_id, const char *pub_pem, const uint8_t *buf,
                   size_t len, const uint8_t *sig, size_t sig_len)
{
    if (key_id == NULL || sig == NULL)
        return 0;
    if (strcmp(key_id, LT_SCHEME_SHA256) == 0)
        return lt_verify_sha256(buf, len, sig, sig_len);
    if (strncmp(key_id, LT_SCHEME_ED25519, strlen(LT_SCHEME_ED25519)) == 0)
        return lt_verify_ed25519(key_id, pub_pem, buf, len, sig, sig_len);
    return 0; /* a scheme this version does not know verifies nothing */
}
