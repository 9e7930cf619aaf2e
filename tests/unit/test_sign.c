/* test_sign — Ed25519 keys and signatures, and the integrity-only scheme. */
#include "lt_sign.h"

#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "lt_buf.h"
#include "lt_codec.h"
#include "lt_test.h"
#include "lt_util.h"

static char tmp_dir[256];

/* path of name inside the test's temporary directory */
static const char *tmp_path(const char *name, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", tmp_dir, name);
    return buf;
}

static char *read_text(const char *path)
{
    char errstr[256];
    char *text = lt_read_file(path, NULL, errstr, sizeof(errstr));

    if (text == NULL)
        fprintf(stderr, "  %s\n", errstr);
    return text;
}

/* A fresh key pair "<name>.key" / "<name>.pub"; returns the signer, NULL on failure. */
static lt_signer_t *make_key(const char *name, char **pub_pem)
{
    char priv[512], pub[512], file[64], errstr[256] = "";
    lt_signer_t *signer;

    snprintf(file, sizeof(file), "%s.key", name);
    tmp_path(file, priv, sizeof(priv));
    snprintf(file, sizeof(file), "%s.pub", name);
    tmp_path(file, pub, sizeof(pub));
    ASSERT_EQ_INT(lt_sign_keygen(priv, pub, errstr, sizeof(errstr)), 0);
    ASSERT_EQ_STR(errstr, "");
    signer = lt_signer_new(priv, errstr, sizeof(errstr));
    ASSERT_TRUE(signer != NULL);
    ASSERT_EQ_STR(errstr, "");
    *pub_pem = read_text(pub);
    ASSERT_TRUE(*pub_pem != NULL);
    return signer;
}

static void test_keygen_files(void)
{
    char priv[512], pub[512], errstr[256] = "", *text;
    struct stat st;
    FILE *fp;

    tmp_path("k.key", priv, sizeof(priv));
    tmp_path("k.pub", pub, sizeof(pub));
    /* an existing private key file with a loose mode is tightened */
    fp = fopen(priv, "w");
    ASSERT_TRUE(fp != NULL);
    if (fp) {
        fputs("old", fp);
        fclose(fp);
    }
    ASSERT_EQ_INT(chmod(priv, 0644), 0);
    ASSERT_EQ_INT(lt_sign_keygen(priv, pub, errstr, sizeof(errstr)), 0);
    ASSERT_EQ_INT(stat(priv, &st), 0);
    ASSERT_EQ_INT(st.st_mode & 0777, 0600);
    text = read_text(priv);
    ASSERT_CONTAINS(text, "-----BEGIN PRIVATE KEY-----"); /* PKCS#8 */
    free(text);
    text = read_text(pub);
    ASSERT_CONTAINS(text, "-----BEGIN PUBLIC KEY-----");
    free(text);
    ASSERT_EQ_INT(lt_sign_keygen("/nonexistent-dir/x.key", pub, errstr, sizeof(errstr)),
                  -1);
    ASSERT_CONTAINS(errstr, "/nonexistent-dir/x.key");
}

static void test_key_id(void)
{
    char *pub_pem = NULL, key_id[LT_KEY_ID_MAX], errstr[256] = "";
    lt_signer_t *signer = make_key("id", &pub_pem);
    const char *id = signer ? lt_signer_key_id(signer) : NULL;
    EVP_PKEY *pkey;
    BIO *bio;
    uint8_t raw[32], digest[LT_SHA256_LEN];
    size_t raw_len = sizeof(raw);
    char hex[2 * LT_SHA256_LEN + 1], want[LT_KEY_ID_MAX];

    ASSERT_TRUE(id && strlen(id) == strlen("ed25519:") + 16);
    ASSERT_TRUE(id && strncmp(id, "ed25519:", 8) == 0);
    ASSERT_EQ_INT(lt_sign_key_id_of_pem(pub_pem, key_id, sizeof(key_id), errstr,
                                        sizeof(errstr)),
                  0);
    ASSERT_EQ_STR(key_id, id);
    /* the documented rule, recomputed here from the raw public key */
    bio = BIO_new_mem_buf(pub_pem, -1);
    pkey = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
    ASSERT_TRUE(pkey && EVP_PKEY_get_raw_public_key(pkey, raw, &raw_len) == 1);
    lt_sha256(raw, raw_len, digest);
    snprintf(want, sizeof(want), "ed25519:%.16s", lt_hex(digest, sizeof(digest), hex));
    ASSERT_EQ_STR(key_id, want);
    EVP_PKEY_free(pkey);
    BIO_free(bio);
    /* too small a buffer and a bad PEM are errors, not truncations */
    ASSERT_EQ_INT(lt_sign_key_id_of_pem(pub_pem, key_id, 10, errstr, sizeof(errstr)), -1);
    ASSERT_EQ_INT(lt_sign_key_id_of_pem("not a key", key_id, sizeof(key_id), errstr,
                                        sizeof(errstr)),
                  -1);
    ASSERT_CONTAINS(errstr, "reading the public key");
    lt_signer_destroy(signer);
    free(pub_pem);
}

static void test_sign_verify(void)
{
    static const uint8_t batch[] = "a serialized Batch, exactly as signed";
    char *pub_pem = NULL;
    lt_signer_t *signer = make_key("sv", &pub_pem);
    uint8_t sig[LT_SIGNATURE_MAX], copy[sizeof(batch)];
    size_t sig_len = 0;
    const char *id;

    if (signer == NULL)
        return;
    id = lt_signer_key_id(signer);
    ASSERT_EQ_INT(lt_signer_sign(signer, batch, sizeof(batch), sig, &sig_len), 0);
    ASSERT_EQ_INT(sig_len, 64);
    ASSERT_EQ_INT(lt_sign_verify(id, pub_pem, batch, sizeof(batch), sig, sig_len), 1);
    /* one flipped bit in the batch, in the signature, a short signature */
    memcpy(copy, batch, sizeof(batch));
    copy[5] ^= 0x01;
    ASSERT_EQ_INT(lt_sign_verify(id, pub_pem, copy, sizeof(copy), sig, sig_len), 0);
    sig[10] ^= 0x80;
    ASSERT_EQ_INT(lt_sign_verify(id, pub_pem, batch, sizeof(batch), sig, sig_len), 0);
    sig[10] ^= 0x80;
    ASSERT_EQ_INT(lt_sign_verify(id, pub_pem, batch, sizeof(batch), sig, sig_len - 1), 0);
    ASSERT_EQ_INT(lt_sign_verify(id, pub_pem, batch, sizeof(batch) - 1, sig, sig_len), 0);
    /* an empty batch signs and verifies too */
    ASSERT_EQ_INT(lt_signer_sign(signer, NULL, 0, sig, &sig_len), 0);
    ASSERT_EQ_INT(lt_sign_verify(id, pub_pem, NULL, 0, sig, sig_len), 1);
    lt_signer_destroy(signer);
    free(pub_pem);
}

static void test_wrong_key(void)
{
    static const uint8_t batch[] = {1, 2, 3, 4, 5};
    char *pub_a = NULL, *pub_b = NULL;
    lt_signer_t *a = make_key("a", &pub_a), *b = make_key("b", &pub_b);
    uint8_t sig[LT_SIGNATURE_MAX];
    size_t sig_len = 0;

    if (a && b) {
        const char *id_a = lt_signer_key_id(a), *id_b = lt_signer_key_id(b);

        ASSERT_TRUE(strcmp(id_a, id_b) != 0);
        ASSERT_EQ_INT(lt_signer_sign(a, batch, sizeof(batch), sig, &sig_len), 0);
        /* B's key under B's id: the signature does not match */
        ASSERT_EQ_INT(lt_sign_verify(id_b, pub_b, batch, sizeof(batch), sig, sig_len), 0);
        /* A's id with B's key: the key is not the one the id names */
        ASSERT_EQ_INT(lt_sign_verify(id_a, pub_b, batch, sizeof(batch), sig, sig_len), 0);
        ASSERT_EQ_INT(lt_sign_verify(id_a, pub_a, batch, sizeof(batch), sig, sig_len), 1);
    }
    lt_signer_destroy(a);
    lt_signer_destroy(b);
    free(pub_a);
    free(pub_b);
}

static void test_sha256_scheme(void)
{
    static const uint8_t batch[] = "integrity only";
    char errstr[256] = "";
    lt_signer_t *signer = lt_signer_new(NULL, errstr, sizeof(errstr));
    uint8_t sig[LT_SIGNATURE_MAX], want[LT_SHA256_LEN];
    size_t sig_len = 0;

    ASSERT_TRUE(signer != NULL);
    if (signer == NULL)
        return;
    ASSERT_EQ_STR(lt_signer_key_id(signer), "sha256:");
    ASSERT_EQ_INT(lt_signer_sign(signer, batch, sizeof(batch), sig, &sig_len), 0);
    ASSERT_EQ_INT(sig_len, LT_SHA256_LEN);
    lt_sha256(batch, sizeof(batch), want);
    ASSERT_TRUE(memcmp(sig, want, sizeof(want)) == 0);
    ASSERT_EQ_INT(lt_sign_verify("sha256:", NULL, batch, sizeof(batch), sig, sig_len), 1);
    ASSERT_EQ_INT(lt_sign_verify("sha256:", NULL, batch, 3, sig, sig_len), 0);
    sig[0] ^= 1;
    ASSERT_EQ_INT(lt_sign_verify("sha256:", NULL, batch, sizeof(batch), sig, sig_len), 0);
    sig[0] ^= 1;
    ASSERT_EQ_INT(lt_sign_verify("sha256:", NULL, batch, sizeof(batch), sig, 31), 0);
    /* the key id is exactly "sha256:" */
    ASSERT_EQ_INT(lt_sign_verify("sha256:x", NULL, batch, sizeof(batch), sig, 32), 0);
    ASSERT_EQ_INT(lt_sign_verify("sha256", NULL, batch, sizeof(batch), sig, sig_len), 0);
    lt_signer_destroy(signer);
}

static void test_verify_bad_input(void)
{
    static const uint8_t batch[] = {9};
    static const char *id = "ed25519:0011223344556677";
    uint8_t sig[64] = {0};

    ASSERT_EQ_INT(lt_sign_verify(id, NULL, batch, 1, sig, 64), -1);
    ASSERT_EQ_INT(lt_sign_verify(id, "garbage", batch, 1, sig, 64), -1);
    ASSERT_EQ_INT(lt_sign_verify("rsa:1234", "garbage", batch, 1, sig, 64), 0);
    ASSERT_EQ_INT(lt_sign_verify(NULL, NULL, batch, 1, sig, 64), 0);
}

static void test_signer_errors(void)
{
    char path[512], errstr[256] = "";
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    FILE *fp;

    ASSERT_TRUE(lt_signer_new(tmp_path("missing.key", path, sizeof(path)), errstr,
                              sizeof(errstr)) == NULL);
    ASSERT_CONTAINS(errstr, "missing.key");
    /* a key of another type is refused */
    fp = fopen(tmp_path("ec.key", path, sizeof(path)), "w");
    ASSERT_TRUE(fp && ec && PEM_write_PrivateKey(fp, ec, NULL, NULL, 0, NULL, NULL) == 1);
    if (fp)
        fclose(fp);
    EVP_PKEY_free(ec);
    ASSERT_TRUE(lt_signer_new(path, errstr, sizeof(errstr)) == NULL);
    ASSERT_CONTAINS(errstr, "not an Ed25519 key");
    /* a public key where the private key belongs */
    ASSERT_TRUE(lt_signer_new(tmp_path("sv.pub", path, sizeof(path)), errstr,
                              sizeof(errstr)) == NULL);
    ASSERT_CONTAINS(errstr, "reading the private key");
    lt_signer_destroy(NULL);
}

/* rm -r of the few files the tests made */
static void remove_tmp_dir(void)
{
    static const char *const files[] = {"k.key", "k.pub",  "id.key", "id.pub", "sv.key",
                                        "sv.pub", "a.key", "a.pub",  "b.key",  "b.pub",
                                        "ec.key"};
    char path[512];
    size_t i;

    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        unlink(tmp_path(files[i], path, sizeof(path)));
    rmdir(tmp_dir);
}

int main(void)
{
    const char *base = getenv("TMPDIR");

    if (base == NULL || *base == '\0')
        base = "/tmp";
    snprintf(tmp_dir, sizeof(tmp_dir), "%s/lt_sign_XXXXXX", base);
    if (mkdtemp(tmp_dir) == NULL) {
        perror("mkdtemp");
        return EXIT_FAILURE;
    }
    RUN_TEST(test_keygen_files);
    RUN_TEST(test_key_id);
    RUN_TEST(test_sign_verify);
    RUN_TEST(test_wrong_key);
    RUN_TEST(test_sha256_scheme);
    RUN_TEST(test_verify_bad_input);
    RUN_TEST(test_signer_errors);
    remove_tmp_dir();
    return LT_TEST_EXIT();
}
