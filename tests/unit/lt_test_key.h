/* lt_test_key — a throwaway Ed25519 key pair in a temporary directory for
 * tests that sign and verify: the signer, its public key as PEM, and the
 * files, removed again by lt_test_key_drop. Include after lt_test.h. */
#ifndef LT_TEST_KEY_H
#define LT_TEST_KEY_H

#include <stdio.h>
#include <stdlib.h>

#include "lt_sign.h"
#include "lt_util.h"

typedef struct lt_test_key {
    char dir[64], priv[128], pub[128];
    lt_signer_t *signer;
    char *pem; /* the public key */
} lt_test_key_t;

static void lt_test_key_make(lt_test_key_t *k)
{
    char errstr[256];
    snprintf(k->dir, sizeof(k->dir), "/tmp/lt_test_key_XXXXXX");
    ASSERT_TRUE(mkdtemp(k->dir) != NULL);
    snprintf(k->priv, sizeof(k->priv), "%s/k.pem", k->dir);
    snprintf(k->pub, sizeof(k->pub), "%s/k.pub.pem", k->dir);
    ASSERT_EQ_INT(lt_sign_keygen(k->priv, k->pub, errstr, sizeof(errstr)), 0);
    k->signer = lt_signer_new(k->priv, errstr, sizeof(errstr));
    k->pem = lt_read_file(k->pub, NULL, errstr, sizeof(errstr));
}

static void lt_test_key_drop(lt_test_key_t *k)
{
    lt_signer_destroy(k->signer);
    free(k->pem);
    remove(k->priv);
    remove(k->pub);
    remove(k->dir);
}

#endif
