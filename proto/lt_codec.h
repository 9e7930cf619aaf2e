/* lt_codec — the wire format with hard limits.
 *
 * Decoding never trusts its input: the size is capped before unpacking, unknown
 * fields anywhere in the tree are rejected, every string must be text by the
 * one text rule (lt_utf8: strict UTF-8, no C0 or C1 control character and no
 * DEL, but tab, newline and carriage return), every enum field a value of its enum. The checks are
 * the validation emitter on the one tree walker (lt_walk). Every failure carries a
 * reason code (stable, machine-readable, stored in the quarantine table) and a
 * human sentence naming the field. */
#ifndef LT_CODEC_H
#define LT_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "lienthong/v1/lienthong.pb-c.h"
#include "lt_utf8.h" /* lt_text_check: the rule every decoded string passes */

#define LT_SHA256_LEN 32

/* The one size limit of the system: the largest Kafka message of a commune.
 * Provisioning sets each events topic's max.message.bytes to it; the agent
 * reads it back from the topic and cuts batches below it (lt_batch_budget);
 * the sink decodes messages up to it. */
#define LT_MAX_MESSAGE_BYTES_DEFAULT (4u * 1024u * 1024u)
#define LT_BATCH_MAX_BYTES_DEFAULT LT_MAX_MESSAGE_BYTES_DEFAULT

/* What an event costs inside a Batch: its encoding, a tag and a length prefix. */
static inline size_t lt_batch_event_bytes(const Lienthong__V1__Event *ev)
{
    size_t sz = protobuf_c_message_get_packed_size(&ev->base);
    return sz + 1 + (sz < 128 ? 1 : sz < 16384 ? 2 : sz < 2097152 ? 3 : sz < 268435456 ? 4 : 5);
}

/* The most event bytes (sum of lt_batch_event_bytes) one batch may hold so
 * that, with its header, signature envelope, Kafka record framing and the
 * worst case of compression (zstd grows incompressible data by < 1/128),
 * it fits a Kafka message of at most max_message_bytes. */
static inline size_t lt_batch_budget(size_t max_message_bytes)
{
    size_t overhead = 4096 + max_message_bytes / 128;
    return max_message_bytes > 2 * overhead ? max_message_bytes - overhead : max_message_bytes / 2;
}

typedef enum {
    LT_DECODE_OK = 0,
    LT_DECODE_TOO_LARGE,     /* over the size cap, not unpacked */
    LT_DECODE_MALFORMED,     /* not a valid protobuf encoding of the type */
    LT_DECODE_UNKNOWN_FIELD, /* a field this version does not know */
    LT_DECODE_BAD_TEXT,      /* invalid UTF-8 or a control character in a string */
    LT_DECODE_BAD_ENUM,      /* an enum field holding a number its enum does not define */
} lt_decode_err_t;

/* Stable reason code, e.g. "too_large", "malformed", "unknown_field", "bad_text",
 * "bad_enum". */
const char *lt_decode_err_code(lt_decode_err_t err);

/* Unpack a SignedBatch / Batch under the cap and check it with lt_pb_check().
 * Returns the message (free with protobuf_c_message_free_unpacked(msg, NULL))
 * or NULL with *err set and a sentence in errstr. */
Lienthong__V1__SignedBatch *lt_signed_batch_decode(const uint8_t *buf, size_t len,
                                                   size_t max_bytes, lt_decode_err_t *err,
                                                   char *errstr, size_t errstr_size);
Lienthong__V1__Batch *lt_batch_decode(const uint8_t *buf, size_t len, size_t max_bytes,
                                      lt_decode_err_t *err, char *errstr,
                                      size_t errstr_size);

/* Check a decoded message tree (the values the packer would write, see
 * lt_walk): no unknown fields, all strings valid text (lt_text_check), every
 * enum field a value its enum defines (proto3 enums are open on the wire, so the
 * unpacker keeps any number; a code nobody can read is refused here instead).
 * On failure errstr names the field path, e.g. "events[3].dossier.applicant.full". */
lt_decode_err_t lt_pb_check(const ProtobufCMessage *msg, char *errstr, size_t errstr_size);

/* Pack any message into a malloc'd buffer; *len receives its size. NULL on OOM. */
uint8_t *lt_pb_pack(const ProtobufCMessage *msg, size_t *len);

void lt_sha256(const void *buf, size_t len, uint8_t out[LT_SHA256_LEN]);

/* SHA-256 of the serialized payload message (civil_record or dossier) of ev.
 * Returns 0 and fills out, or -1 when the event has no payload. */
int lt_event_payload_hash(const Lienthong__V1__Event *ev, uint8_t out[LT_SHA256_LEN]);

#endif
