/* lt_codec — decoding under hard limits, the validation emitter on lt_walk,
 * hashing. */
#include "lt_codec.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "lt_path.h"
#include "lt_util.h"
#include "lt_walk.h"

const char *lt_decode_err_code(lt_decode_err_t err)
{
    switch (err) {
    case LT_DECODE_OK:
        return "ok";
    case LT_DECODE_TOO_LARGE:
        return "too_large";
    case LT_DECODE_MALFORMED:
        return "malformed";
    case LT_DECODE_UNKNOWN_FIELD:
        return "unknown_field";
    case LT_DECODE_BAD_TEXT:
        return "bad_text";
    case LT_DECODE_BAD_ENUM:
        return "bad_enum";
    }
    return "unknown";
}

/* ------------------------------------------------------------------ check */

/* The validation emitter on lt_walk: the first fault stops the walk. */
typedef struct {
    lt_decode_err_t err;
    char *errstr;
    size_t errstr_size;
} lt_check_t;

/* The path of the value being looked at; the message type at the root. */
static const char *lt_check_where(const lt_walk_t *walk, lt_path_t *path,
                                  const ProtobufCMessageDescriptor *desc)
{
    const char *where = lt_walk_path(walk, path);

    return where[0] ? where : desc->name;
}

__attribute__((format(printf, 4, 5))) static lt_walk_step_t
lt_check_fail(lt_check_t *chk, const lt_walk_t *walk, lt_decode_err_t err, const char *fmt, ...)
{
    lt_path_t path;
    char what[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    lt_err(chk->errstr, chk->errstr_size, "%s: %s", lt_walk_path(walk, &path), what);
    chk->err = err;
    return LT_WALK_STOP;
}

static lt_walk_step_t lt_check_unknown(void *arg, const lt_walk_t *walk,
                                       const ProtobufCMessage *msg)
{
    lt_check_t *chk = arg;
    const ProtobufCMessageUnknownField *uf = msg->unknown_fields;
    lt_path_t path;

    if (msg->n_unknown_fields == 0)
        return LT_WALK_NEXT;
    lt_err(chk->errstr, chk->errstr_size, "%s: unknown field %u (wire type %d) in %s",
           lt_check_where(walk, &path, msg->descriptor), (unsigned)uf->tag,
           (int)uf->wire_type, msg->descriptor->name);
    chk->err = LT_DECODE_UNKNOWN_FIELD;
    return LT_WALK_STOP;
}

/* Only strings, enums and submessages can be wrong once unpacked. */
static lt_walk_step_t lt_check_field(void *arg, const lt_walk_t *walk,
                                     const ProtobufCFieldDescriptor *field)
{
    (void)arg;
    (void)walk;
    return field->type == PROTOBUF_C_TYPE_STRING || field->type == PROTOBUF_C_TYPE_ENUM ||
                   field->type == PROTOBUF_C_TYPE_MESSAGE
               ? LT_WALK_NEXT
               : LT_WALK_SKIP;
}

static lt_walk_step_t lt_check_string(lt_check_t *chk, const lt_walk_t *walk, const char *s)
{
    size_t off = 0;
    const char *why = s ? lt_text_check(s, strlen(s), &off) : NULL;

    if (why == NULL)
        return LT_WALK_NEXT;
    return lt_check_fail(chk, walk, LT_DECODE_BAD_TEXT, "%s (byte 0x%02x at offset %zu)", why,
                         (unsigned char)s[off], off);
}

/* proto3 enums are open: the unpacker keeps any number it reads. One the enum
 * does not define would be stored as a code nobody can read ("sex": 7). */
static lt_walk_step_t lt_check_enum(lt_check_t *chk, const lt_walk_t *walk,
                                    const ProtobufCFieldDescriptor *field, int32_t value)
{
    const ProtobufCEnumDescriptor *edesc = field->descriptor;

    if (protobuf_c_enum_descriptor_get_value(edesc, value) != NULL)
        return LT_WALK_NEXT;
    return lt_check_fail(chk, walk, LT_DECODE_BAD_ENUM, "%d is not a value of %s", (int)value,
                         edesc->name);
}

static lt_walk_step_t lt_check_value(void *arg, const lt_walk_t *walk,
                                     const ProtobufCFieldDescriptor *field, const void *member)
{
    lt_check_t *chk = arg;

    if (field->type == PROTOBUF_C_TYPE_STRING)
        return lt_check_string(chk, walk, *(const char *const *)member);
    if (field->type == PROTOBUF_C_TYPE_ENUM)
        return lt_check_enum(chk, walk, field, *(const int32_t *)member);
    if (*(const void *const *)member == NULL)
        return LT_WALK_NEXT; /* a hole in a repeated field of a hand-built tree */
    return lt_check_fail(chk, walk, LT_DECODE_MALFORMED, "nested deeper than %d messages",
                         LT_WALK_MAX_DEPTH);
}

static const lt_walk_visitor_t lt_check_visitor = {
    .message_begin = lt_check_unknown,
    .field_begin = lt_check_field,
    .value = lt_check_value,
};

lt_decode_err_t lt_pb_check(const ProtobufCMessage *msg, char *errstr, size_t errstr_size)
{
    lt_check_t chk = {LT_DECODE_OK, errstr, errstr_size};

    lt_walk_message(msg, &lt_check_visitor, &chk);
    return chk.err;
}

/* ------------------------------------------------------------------ wire scan */

/* protobuf-c copies a string field up to its length and NUL-terminates it, so a
 * NUL inside a string silently truncates the value: lt_pb_check cannot see it in
 * the unpacked tree. This scan of the wire bytes (already accepted by the
 * unpacker, so well formed) finds strings containing a NUL byte. */

typedef struct {
    lt_path_t path;
    char *errstr;
    size_t errstr_size;
} lt_wire_t;

/* Counts occurrences of repeated fields to name "events[i]"; messages with more
 * fields than this get no index in the path. */
#define LT_WIRE_MAX_FIELDS 64

static int lt_wire_varint(const uint8_t *buf, size_t len, size_t *pos, uint64_t *v)
{
    unsigned shift = 0;

    *v = 0;
    while (*pos < len && shift < 64) {
        uint8_t b = buf[(*pos)++];
        *v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80))
            return 0;
        shift += 7;
    }
    return -1;
}

static lt_decode_err_t lt_wire_scan(lt_wire_t *w, const ProtobufCMessageDescriptor *desc,
                                    const uint8_t *buf, size_t len, int depth);

/* A length-delimited value of a known field: check strings, descend into messages. */
static lt_decode_err_t lt_wire_value(lt_wire_t *w, const ProtobufCFieldDescriptor *field,
                                     unsigned index, const uint8_t *val, size_t vlen,
                                     int depth)
{
    int is_text = field->type == PROTOBUF_C_TYPE_STRING;
    const uint8_t *nul = is_text ? memchr(val, 0, vlen) : NULL;
    lt_decode_err_t err = LT_DECODE_OK;
    size_t saved = lt_path_field(&w->path, field->name);

    if (field->label == PROTOBUF_C_LABEL_REPEATED && index != (unsigned)-1)
        lt_path_index(&w->path, index);
    if (nul) {
        lt_err(w->errstr, w->errstr_size,
               "%s: control character (byte 0x00 at offset %zu)", w->path.buf,
               (size_t)(nul - val));
        err = LT_DECODE_BAD_TEXT;
    } else if (field->type == PROTOBUF_C_TYPE_MESSAGE) {
        err = lt_wire_scan(w, field->descriptor, val, vlen, depth + 1);
    }
    lt_path_pop(&w->path, saved);
    return err;
}

/* Skip one value of wire type wt at *pos; -1 if it runs past the end. */
static int lt_wire_skip(const uint8_t *buf, size_t len, size_t *pos, unsigned wt,
                        uint64_t *vlen)
{
    uint64_t v;

    *vlen = 0;
    switch (wt) {
    case PROTOBUF_C_WIRE_TYPE_VARINT:
        return lt_wire_varint(buf, len, pos, &v);
    case PROTOBUF_C_WIRE_TYPE_64BIT:
        *vlen = 8;
        break;
    case PROTOBUF_C_WIRE_TYPE_32BIT:
        *vlen = 4;
        break;
    case PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED:
        if (lt_wire_varint(buf, len, pos, vlen) < 0)
            return -1;
        break;
    default:
        return -1;
    }
    if (*vlen > len - *pos)
        return -1;
    *pos += (size_t)*vlen;
    return 0;
}

static lt_decode_err_t lt_wire_scan(lt_wire_t *w, const ProtobufCMessageDescriptor *desc,
                                    const uint8_t *buf, size_t len, int depth)
{
    unsigned counts[LT_WIRE_MAX_FIELDS] = {0};
    const ProtobufCFieldDescriptor *field;
    lt_decode_err_t err = LT_DECODE_OK;
    size_t pos = 0, idx;
    uint64_t key, vlen;
    unsigned index;

    if (depth > LT_WALK_MAX_DEPTH) {
        lt_err(w->errstr, w->errstr_size, "%s: nested deeper than %d messages",
               w->path.buf, LT_WALK_MAX_DEPTH);
        return LT_DECODE_MALFORMED;
    }
    while (pos < len && err == LT_DECODE_OK) {
        if (lt_wire_varint(buf, len, &pos, &key) < 0 ||
            lt_wire_skip(buf, len, &pos, (unsigned)(key & 7), &vlen) < 0) {
            lt_err(w->errstr, w->errstr_size, "%s: truncated field", w->path.buf);
            return LT_DECODE_MALFORMED;
        }
        if ((key & 7) != PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED || key >> 35)
            continue;
        field = protobuf_c_message_descriptor_get_field(desc, (unsigned)(key >> 3));
        if (field == NULL)
            continue;
        idx = (size_t)(field - desc->fields);
        index = idx < LT_WIRE_MAX_FIELDS ? counts[idx]++ : (unsigned)-1;
        err = lt_wire_value(w, field, index, buf + pos - vlen, (size_t)vlen, depth);
    }
    return err;
}

/* ------------------------------------------------------------------ decode */

static ProtobufCMessage *lt_decode(const ProtobufCMessageDescriptor *desc,
                                   const uint8_t *buf, size_t len, size_t max_bytes,
                                   lt_decode_err_t *err, char *errstr, size_t errstr_size)
{
    lt_wire_t wire = {.errstr = errstr, .errstr_size = errstr_size};
    ProtobufCMessage *msg = NULL;

    if (len > max_bytes) {
        lt_err(errstr, errstr_size, "%s of %zu bytes is over the cap of %zu bytes",
               desc->name, len, max_bytes);
        *err = LT_DECODE_TOO_LARGE;
        return NULL;
    }
    msg = protobuf_c_message_unpack(desc, NULL, len, buf);
    if (msg == NULL) {
        lt_err(errstr, errstr_size, "%zu bytes are not a valid %s encoding", len,
               desc->name);
        *err = LT_DECODE_MALFORMED;
        return NULL;
    }
    *err = lt_pb_check(msg, errstr, errstr_size);
    if (*err == LT_DECODE_OK)
        *err = lt_wire_scan(&wire, desc, buf, len, 0);
    if (*err != LT_DECODE_OK) {
        protobuf_c_message_free_unpacked(msg, NULL);
        return NULL;
    }
    return msg;
}

Lienthong__V1__SignedBatch *lt_signed_batch_decode(const uint8_t *buf, size_t len,
                                                   size_t max_bytes, lt_decode_err_t *err,
                                                   char *errstr, size_t errstr_size)
{
    lt_decode_err_t local;
    ProtobufCMessage *msg = lt_decode(&lienthong__v1__signed_batch__descriptor, buf, len,
                                      max_bytes, err ? err : &local, errstr, errstr_size);

    return (Lienthong__V1__SignedBatch *)msg;
}

Lienthong__V1__Batch *lt_batch_decode(const uint8_t *buf, size_t len, size_t max_bytes,
                                      lt_decode_err_t *err, char *errstr,
                                      size_t errstr_size)
{
    lt_decode_err_t local;
    ProtobufCMessage *msg = lt_decode(&lienthong__v1__batch__descriptor, buf, len,
                                      max_bytes, err ? err : &local, errstr, errstr_size);

    return (Lienthong__V1__Batch *)msg;
}

/* ------------------------------------------------------------------ pack, hash */

uint8_t *lt_pb_pack(const ProtobufCMessage *msg, size_t *len)
{
    size_t size = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = malloc(size ? size : 1); /* never NULL for an empty message */

    if (buf == NULL)
        return NULL;
    *len = protobuf_c_message_pack(msg, buf);
    return buf;
}

void lt_sha256(const void *buf, size_t len, uint8_t out[LT_SHA256_LEN])
{
    static const uint8_t empty[1];

    /* Only a broken OpenSSL installation fails here; a wrong hash would poison
     * the audit chain, so stop rather than return garbage. */
    if (!EVP_Digest(len ? buf : empty, len, out, NULL, EVP_sha256(), NULL)) {
        fprintf(stderr, "lt_sha256: OpenSSL SHA-256 failed\n");
        abort();
    }
}

int lt_event_payload_hash(const Lienthong__V1__Event *ev, uint8_t out[LT_SHA256_LEN])
{
    const ProtobufCMessage *payload = NULL;
    uint8_t *buf;
    size_t len = 0;

    switch (ev->payload_case) {
    case LIENTHONG__V1__EVENT__PAYLOAD_CIVIL_RECORD:
        payload = ev->civil_record ? &ev->civil_record->base : NULL;
        break;
    case LIENTHONG__V1__EVENT__PAYLOAD_DOSSIER:
        payload = ev->dossier ? &ev->dossier->base : NULL;
        break;
    default:
        break;
    }
    if (payload == NULL)
        return -1;
    buf = lt_pb_pack(payload, &len);
    if (buf == NULL)
        return -1;
    lt_sha256(buf, len, out);
    free(buf);
    return 0;
}
