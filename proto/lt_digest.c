#include "lt_digest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#define LT_DIGEST_SEP 0x1f /* between type and id: a byte no id contains */

static void lt_digest_sha256(const void *parts[], const size_t lens[], size_t n,
                             uint8_t out[32])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int len = 32;
    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
        abort();
    for (size_t i = 0; i < n; i++)
        if (lens[i] && EVP_DigestUpdate(ctx, parts[i], lens[i]) != 1)
            abort();
    if (EVP_DigestFinal_ex(ctx, out, &len) != 1)
        abort();
    EVP_MD_CTX_free(ctx);
}

static int64_t lt_digest_word(const uint8_t *p)
{
    uint64_t w = 0;
    for (int i = 0; i < 8; i++)
        w = w << 8 | p[i];
    return (int64_t)w;
}

static void lt_digest_put_word(uint8_t *p, int64_t word)
{
    uint64_t w = (uint64_t)word;
    for (int i = 7; i >= 0; i--, w >>= 8)
        p[i] = (uint8_t)(w & 0xff);
}

uint32_t lt_digest_bucket_of(const char *entity_type, const char *entity_id)
{
    static const uint8_t sep = LT_DIGEST_SEP;
    const void *parts[] = {entity_type, &sep, entity_id};
    const size_t lens[] = {strlen(entity_type), 1, strlen(entity_id)};
    uint8_t h[32];
    lt_digest_sha256(parts, lens, 3, h);
    uint32_t x = (uint32_t)h[0] << 24 | (uint32_t)h[1] << 16 | (uint32_t)h[2] << 8 | h[3];
    return x % LT_DIGEST_BUCKETS;
}

void lt_digest_member(const char *entity_type, const char *entity_id, uint64_t version,
                      int deleted, const uint8_t *content_hash, size_t content_hash_len,
                      lt_digest_member_t *out)
{
    static const uint8_t sep = LT_DIGEST_SEP;
    uint8_t tail[9], h[32];
    lt_digest_put_word(tail, (int64_t)version);
    tail[8] = deleted ? 1 : 0;
    const void *parts[] = {entity_type, &sep, entity_id, &sep, tail, content_hash};
    const size_t lens[] = {strlen(entity_type), 1, strlen(entity_id), 1, sizeof(tail),
                           content_hash ? content_hash_len : 0};
    lt_digest_sha256(parts, lens, 6, h);
    out->bucket = lt_digest_bucket_of(entity_type, entity_id);
    for (int i = 0; i < 4; i++)
        out->h[i] = lt_digest_word(h + 8 * i);
}

void lt_digest_add(lt_digest_t *d, const lt_digest_member_t *m)
{
    lt_digest_bucket_t *b = &d->b[m->bucket % LT_DIGEST_BUCKETS];
    b->count++;
    for (int i = 0; i < 4; i++)
        b->h[i] ^= m->h[i];
}

void lt_digest_remove(lt_digest_t *d, const lt_digest_member_t *m)
{
    lt_digest_bucket_t *b = &d->b[m->bucket % LT_DIGEST_BUCKETS];
    b->count--;
    for (int i = 0; i < 4; i++)
        b->h[i] ^= m->h[i];
}

int lt_digest_bucket_equal(const lt_digest_t *a, const lt_digest_t *b, uint32_t i)
{
    return memcmp(&a->b[i], &b->b[i], sizeof(a->b[i])) == 0;
}

size_t lt_digest_diff(const lt_digest_t *a, const lt_digest_t *b, uint32_t *diverged)
{
    size_t n = 0;
    for (uint32_t i = 0; i < LT_DIGEST_BUCKETS; i++)
        if (!lt_digest_bucket_equal(a, b, i))
            diverged[n++] = i;
    return n;
}

Lienthong__V1__Digest *lt_digest_to_pb(const lt_digest_t *d)
{
    Lienthong__V1__Digest *pb = calloc(1, sizeof(*pb));
    Lienthong__V1__DigestBucket **buckets = calloc(LT_DIGEST_BUCKETS, sizeof(*buckets));
    Lienthong__V1__DigestBucket *cells = calloc(LT_DIGEST_BUCKETS, sizeof(*cells));
    uint8_t *hashes = calloc(LT_DIGEST_BUCKETS, 32);
    if (!pb || !buckets || !cells || !hashes)
        abort();
    lienthong__v1__digest__init(pb);
    pb->bucket_count = LT_DIGEST_BUCKETS;
    pb->n_buckets = LT_DIGEST_BUCKETS;
    pb->buckets = buckets;
    for (uint32_t i = 0; i < LT_DIGEST_BUCKETS; i++) {
        lienthong__v1__digest_bucket__init(&cells[i]);
        cells[i].index = i;
        cells[i].count = (uint64_t)d->b[i].count;
        for (int w = 0; w < 4; w++)
            lt_digest_put_word(hashes + 32 * i + 8 * w, d->b[i].h[w]);
        cells[i].hash.data = hashes + 32 * i;
        cells[i].hash.len = 32;
        buckets[i] = &cells[i];
    }
    return pb;
}

void lt_digest_pb_free(Lienthong__V1__Digest *pb)
{
    if (!pb)
        return;
    if (pb->n_buckets) {
        free(pb->buckets[0]->hash.data); /* one block for every hash */
        free(pb->buckets[0]);            /* one block for every bucket */
    }
    free(pb->buckets);
    free(pb);
}

int lt_digest_from_pb(const Lienthong__V1__Digest *pb, lt_digest_t *d, char *errstr,
                      size_t errstr_size)
{
    uint8_t seen[LT_DIGEST_BUCKETS] = {0};
    memset(d, 0, sizeof(*d));
    if (pb->bucket_count != LT_DIGEST_BUCKETS || pb->n_buckets != LT_DIGEST_BUCKETS) {
        snprintf(errstr, errstr_size, "digest has %u buckets (%zu listed); %d expected",
                 pb->bucket_count, pb->n_buckets, LT_DIGEST_BUCKETS);
        return -1;
    }
    for (size_t i = 0; i < pb->n_buckets; i++) {
        const Lienthong__V1__DigestBucket *b = pb->buckets[i];
        if (b->index >= LT_DIGEST_BUCKETS || seen[b->index]++ || b->hash.len != 32) {
            snprintf(errstr, errstr_size, "digest bucket %zu (index %u): out of range, repeated"
                     " or its hash is not 32 bytes", i, b->index);
            return -1;
        }
        d->b[b->index].count = (int64_t)b->count;
        for (int w = 0; w < 4; w++)
            d->b[b->index].h[w] = lt_digest_word(b->hash.data + 8 * w);
    }
    return 0;
}
