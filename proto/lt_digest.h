/* lt_digest — the bucketed set digest each level keeps of a commune's
 * current state, defined once for both.
 *
 * Every entity (type, id) falls in one of LT_DIGEST_BUCKETS buckets by a
 * hash of its type and id. Its member hash is SHA-256 over (type, id,
 * version, deleted, content hash). A bucket holds how many entities it has
 * and the XOR of their member hashes, kept as four signed 64-bit words so
 * PostgreSQL can store and XOR them (bigint, #, bit_xor). The digest is
 * order-independent and changes in O(1) per change: XOR the old member out
 * and the new one in. Two levels hold the same entities, versions, contents
 * and tombstones exactly when all buckets match (up to SHA-256 collisions),
 * and a differing bucket names the 1/256th of the commune to resend. */
#ifndef LT_DIGEST_H
#define LT_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "lienthong/v1/lienthong.pb-c.h"

#define LT_DIGEST_BUCKETS 256

/* One entity's contribution. */
typedef struct lt_digest_member {
    uint32_t bucket;
    int64_t h[4]; /* SHA-256, as four big-endian 64-bit words */
} lt_digest_member_t;

typedef struct lt_digest_bucket {
    int64_t count;
    int64_t h[4];
} lt_digest_bucket_t;

typedef struct lt_digest {
    lt_digest_bucket_t b[LT_DIGEST_BUCKETS];
} lt_digest_t;

/* The bucket of entity (type, id): type is the entity type's wire name
 * ("civil_record", "dossier"). */
uint32_t lt_digest_bucket_of(const char *entity_type, const char *entity_id);

/* The member hash and bucket of one entity state. content_hash may be NULL
 * (len 0) for a tombstone. */
void lt_digest_member(const char *entity_type, const char *entity_id, uint64_t version,
                      int deleted, const uint8_t *content_hash, size_t content_hash_len,
                      lt_digest_member_t *out);

/* Add a member to d, or take it out (XOR is its own inverse; count moves). */
void lt_digest_add(lt_digest_t *d, const lt_digest_member_t *m);
void lt_digest_remove(lt_digest_t *d, const lt_digest_member_t *m);

/* Is bucket i of a and b the same? */
int lt_digest_bucket_equal(const lt_digest_t *a, const lt_digest_t *b, uint32_t i);

/* Indexes of the buckets where a and b differ, ascending, into diverged
 * (room for LT_DIGEST_BUCKETS). Returns how many. */
size_t lt_digest_diff(const lt_digest_t *a, const lt_digest_t *b, uint32_t *diverged);

/* The wire form: every bucket, hash as 32 bytes. The result and its parts
 * are malloc'd: free with lt_digest_pb_free. */
Lienthong__V1__Digest *lt_digest_to_pb(const lt_digest_t *d);
void lt_digest_pb_free(Lienthong__V1__Digest *pb);

/* Read the wire form. Returns 0, or -1 with errstr when it is not a digest
 * of LT_DIGEST_BUCKETS buckets, each once with a 32-byte hash. */
int lt_digest_from_pb(const Lienthong__V1__Digest *pb, lt_digest_t *d, char *errstr,
                      size_t errstr_size);

#endif
