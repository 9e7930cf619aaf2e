/* lt_codec — decoding under hard limits, a generic message checker, hashing. */
#include "lt_codec.h"
#include "lt_path.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "lt_util.h"

/* The proto has no recursive types; anything deeper than this is not ours. */
#define LT_PB_MAX_DEPTH 16

static const char *lt_path_str(const lt_path_t *path,
                               const ProtobufCMessageDescriptor *desc)
{
    return path->len ? path->buf : desc->name;
}

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

/* ------------------------------------------------------------------ text */

/* Length of the UTF-8 sequence at s[0..avail), or 0 if it is not valid. The
 * second-byte ranges exclude overlong forms (E0, F0), surrogates (ED) and
 * code points above U+10FFFF (F4); C0, C1 and F5..FF never start a sequence. */
static size_t lt_utf8_seq_len(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t n, i;

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4;
    else
        return 0;
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    if (avail < n || s[1] < lo || s[1] > hi)
        return 0;
    for (i = 2; i < n; i++) {
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    }
    return n;
}

static int lt_is_control(unsigned char c)
{
    return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F;
}

const char *lt_text_check(const char *s, size_t len, size_t *offset)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, n;

    while (i < len) {
        if (lt_is_control(u[i])) {
            if (offset)
                *offset = i;
            return "control character";
        }
        n = lt_utf8_seq_len(u + i, len - i);
        if (n == 0) {
            if (offset)
                *offset = i;
            return "invalid UTF-8";
        }
        i += n;
    }
    return NULL;
}

/* ------------------------------------------------------------------ check */

typedef struct {
    lt_path_t path;
    char *errstr;
    size_t errstr_size;
} lt_check_t;

static lt_decode_err_t lt_check_message(lt_check_t *chk, const ProtobufCMessage *msg,
                                        int depth);

static lt_decode_err_t lt_check_string(lt_check_t *chk, const char *s)
{
    size_t off = 0;
    const char *why;

    if (s == NULL)
        return LT_DECODE_OK;
    why = lt_text_check(s, strlen(s), &off);
    if (why == NULL)
        return LT_DECODE_OK;
    lt_err(chk->errstr, chk->errstr_size, "%s: %s (byte 0x%02x at offset %zu)",
           chk->path.buf, why, (unsigned char)s[off], off);
    return LT_DECODE_BAD_TEXT;
}

/* proto3 enums are open: the unpacker keeps any number it reads. One the enum
 * does not define would be stored as a code nobody can read ("sex": 7). */
static lt_decode_err_t lt_check_enum(lt_check_t *chk,
                                     const ProtobufCFieldDescriptor *field, int32_t value)
{
    const ProtobufCEnumDescriptor *edesc = field->descriptor;

    if (protobuf_c_enum_descriptor_get_value(edesc, value) != NULL)
        return LT_DECODE_OK;
    lt_err(chk->errstr, chk->errstr_size, "%s: %d is not a value of %s", chk->path.buf,
           (int)value, edesc->name);
    return LT_DECODE_BAD_ENUM;
}

/* Only strings, enums and submessages can be wrong once unpacked. */
static int lt_check_needed(ProtobufCType type)
{
    return type == PROTOBUF_C_TYPE_STRING || type == PROTOBUF_C_TYPE_ENUM ||
           type == PROTOBUF_C_TYPE_MESSAGE;
}

/* One value of a field, at member. */
static lt_decode_err_t lt_check_value(lt_check_t *chk,
                                      const ProtobufCFieldDescriptor *field,
                                      const void *member, int depth)
{
    if (field->type == PROTOBUF_C_TYPE_STRING)
        return lt_check_string(chk, *(const char *const *)member);
    if (field->type == PROTOBUF_C_TYPE_ENUM)
        return lt_check_enum(chk, field, *(const int32_t *)member);
    if (field->type == PROTOBUF_C_TYPE_MESSAGE) {
        const ProtobufCMessage *sub = *(const ProtobufCMessage *const *)member;
        return sub ? lt_check_message(chk, sub, depth + 1) : LT_DECODE_OK;
    }
    return LT_DECODE_OK;
}

static lt_decode_err_t lt_check_repeated(lt_check_t *chk,
                                         const ProtobufCFieldDescriptor *field,
                                         const ProtobufCMessage *msg, int depth)
{
    const char *base = (const char *)msg;
    size_t n = *(const size_t *)(base + field->quantifier_offset);
    const char *arr = *(const char *const *)(base + field->offset);
    /* enums are stored as int32_t, strings and messages as pointers */
    size_t size = field->type == PROTOBUF_C_TYPE_ENUM ? sizeof(int32_t) : sizeof(void *);
    lt_decode_err_t err = LT_DECODE_OK;
    size_t i, saved;

    if (!lt_check_needed(field->type))
        return LT_DECODE_OK;
    for (i = 0; i < n && err == LT_DECODE_OK; i++) {
        saved = lt_path_index(&chk->path, i);
        err = lt_check_value(chk, field, arr + i * size, depth);
        lt_path_pop(&chk->path, saved);
    }
    return err;
}

static lt_decode_err_t lt_check_field(lt_check_t *chk,
                                      const ProtobufCFieldDescriptor *field,
                                      const ProtobufCMessage *msg, int depth)
{
    const char *base = (const char *)msg;
    lt_decode_err_t err;
    size_t saved;

    if (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        uint32_t which = *(const uint32_t *)(base + field->quantifier_offset);
        if (which != field->id)
            return LT_DECODE_OK; /* the union holds another member */
    }
    saved = lt_path_field(&chk->path, field->name);
    if (field->label == PROTOBUF_C_LABEL_REPEATED)
        err = lt_check_repeated(chk, field, msg, depth);
    else
        err = lt_check_value(chk, field, base + field->offset, depth);
    lt_path_pop(&chk->path, saved);
    return err;
}

static lt_decode_err_t lt_check_message(lt_check_t *chk, const ProtobufCMessage *msg,
                                        int depth)
{
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    lt_decode_err_t err = LT_DECODE_OK;
    unsigned f;

    if (depth > LT_PB_MAX_DEPTH) {
        lt_err(chk->errstr, chk->errstr_size, "%s: nested deeper than %d messages",
               lt_path_str(&chk->path, desc), LT_PB_MAX_DEPTH);
        return LT_DECODE_MALFORMED;
    }
    if (msg->n_unknown_fields > 0) {
        const ProtobufCMessageUnknownField *uf = &msg->unknown_fields[0];
        lt_err(chk->errstr, chk->errstr_size, "%s: unknown field %u (wire type %d) in %s",
               lt_path_str(&chk->path, desc), (unsigned)uf->tag, (int)uf->wire_type,
               desc->name);
        return LT_DECODE_UNKNOWN_FIELD;
    }
    for (f = 0; f < desc->n_fields && err == LT_DECODE_OK; f++)
        err = lt_check_field(chk, &desc->fields[f], msg, depth);
    return err;
}

lt_decode_err_t lt_pb_check(const ProtobufCMessage *msg, char *errstr, size_t errstr_size)
{
    lt_check_t chk = {.errstr = errstr, .errstr_size = errstr_size};

    return lt_check_message(&chk, msg, 0);
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

    if (depth > LT_PB_MAX_DEPTH) {
        lt_err(w->errstr, w->errstr_size, "%s: nested deeper than %d messages",
               w->path.buf, LT_PB_MAX_DEPTH);
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

char *lt_hex(const uint8_t *bytes, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < len; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 0x0F];
    }
    out[2 * len] = '\0';
    return out;
}
