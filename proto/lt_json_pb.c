/* lt_json_pb — the proto3 JSON mapping, driven by the protobuf-c descriptors.
 *
 * Memory: every message, string, byte array and repeated array is allocated with
 * plain malloc so that protobuf_c_message_free_unpacked(msg, NULL) releases the
 * tree, also a partly built one. A proto3 string left empty keeps the descriptor's
 * default pointer (protobuf_c_empty_string), which free_unpacked never frees. */
#include "lt_json_pb.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_buf.h"
#include "lt_path.h"
#include "lt_utf8.h"
#include "lt_walk.h"

#define LT_JP_NAME_MAX 128
#define LT_JP_DESCR_MAX 80

typedef struct {
    lt_path_t path; /* "child.dateOfBirth.month", JSON names */
    const char *root; /* the message type, named when the path is empty */
    char *errstr;
    size_t errstr_size;
} lt_jp_t;

/* An integer read from JSON, wide enough for both int64 and uint64. */
typedef struct {
    int neg;
    uint64_t mag;
} lt_jp_int_t;

static int lt_jp_fill(lt_jp_t *jp, ProtobufCMessage *msg, const json_t *json, int depth);

/* ------------------------------------------------------------------ names */

/* protoc's JSON name: drop each '_' and upper-case the letter after it.
 * protobuf-c 1.4 descriptors carry no json_name, so it is derived here: the
 * next character of it (0 at its end), advancing *name. */
static char lt_json_name_next(const char **name)
{
    int upper = 0;

    for (; **name == '_'; (*name)++)
        upper = 1;
    char c = **name;
    if (c == '\0')
        return '\0';
    (*name)++;
    return upper && c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
}

/* The whole JSON name into out. Returns its length, or 0 if it does not fit
 * out with its NUL (no real proto has such names). */
static size_t lt_json_name(const char *name, char *out, size_t size)
{
    size_t n = 0;

    for (char c; (c = lt_json_name_next(&name)) != '\0';) {
        if (n + 1 >= size)
            return 0;
        out[n++] = c;
    }
    out[n] = '\0';
    return n;
}

static const char *lt_field_json_name(const ProtobufCFieldDescriptor *field, char *out,
                                      size_t size)
{
    return lt_json_name(field->name, out, size) ? out : field->name;
}

/* key == the JSON name of name, compared without building it. */
static int lt_json_name_is(const char *name, const char *key)
{
    for (char c; (c = lt_json_name_next(&name)) != '\0';)
        if (*key++ != c)
            return 0;
    return *key == '\0';
}

/* ------------------------------------------------------------------ errors */


/* "path: message"; always returns -1. */
__attribute__((format(printf, 2, 3))) static int lt_jp_fail(lt_jp_t *jp, const char *fmt,
                                                            ...)
{
    va_list ap;
    int n;

    if (jp->errstr == NULL || jp->errstr_size == 0)
        return -1;
    n = snprintf(jp->errstr, jp->errstr_size, "%s: ", jp->path.len ? jp->path.buf : jp->root);
    if (n >= 0 && (size_t)n < jp->errstr_size) {
        va_start(ap, fmt);
        vsnprintf(jp->errstr + n, jp->errstr_size - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* A short, log-safe excerpt of s: quotes, backslashes and control characters
 * become '?', and a cut never splits a UTF-8 sequence. */
static void lt_jp_excerpt(const char *s, size_t len, char *out, size_t size)
{
    size_t n = len < size - 4 ? len : size - 4, i;

    if (n < len) {
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = c < 0x20 || c == 0x7F || c == '"' || c == '\\' ? '?' : s[i];
    }
    strcpy(out + n, n < len ? "..." : "");
}

/* The shortest of %.15g..%.17g that reads back as d: "1e+39", not
 * "9.9999999999999994e+38". */
static void lt_jp_format_real(double d, char *out, size_t size)
{
    int prec;

    for (prec = 15; prec < 17; prec++) {
        snprintf(out, size, "%.*g", prec, d);
        if (strtod(out, NULL) == d)
            return;
    }
    snprintf(out, size, "%.17g", d);
}

/* What a JSON value is, for "expected X, got Y". */
static const char *lt_jp_describe(const json_t *json, char *out, size_t size)
{
    char text[LT_JP_DESCR_MAX / 2];

    switch (json_typeof(json)) {
    case JSON_STRING:
        lt_jp_excerpt(json_string_value(json), json_string_length(json), text,
                      sizeof(text));
        snprintf(out, size, "string \"%s\"", text);
        break;
    case JSON_INTEGER:
        snprintf(out, size, "number %" JSON_INTEGER_FORMAT, json_integer_value(json));
        break;
    case JSON_REAL:
        lt_jp_format_real(json_real_value(json), text, sizeof(text));
        snprintf(out, size, "number %s", text);
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        snprintf(out, size, "boolean %s", json_is_true(json) ? "true" : "false");
        break;
    case JSON_NULL:
        snprintf(out, size, "null");
        break;
    case JSON_OBJECT:
        snprintf(out, size, "object");
        break;
    case JSON_ARRAY:
        snprintf(out, size, "array");
        break;
    }
    return out;
}

static int lt_jp_expected(lt_jp_t *jp, const char *what, const json_t *json)
{
    char got[LT_JP_DESCR_MAX];

    lt_jp_describe(json, got, sizeof(got));
    return lt_jp_fail(jp, "expected %s, got %s", what, got);
}

static int lt_jp_out_of_range(lt_jp_t *jp, const json_t *json, const char *type)
{
    char got[LT_JP_DESCR_MAX];

    lt_jp_describe(json, got, sizeof(got));
    return lt_jp_fail(jp, "%s is out of range for %s", got, type);
}

static const char *lt_type_name(ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT32:
        return "int32";
    case PROTOBUF_C_TYPE_SINT32:
        return "sint32";
    case PROTOBUF_C_TYPE_SFIXED32:
        return "sfixed32";
    case PROTOBUF_C_TYPE_INT64:
        return "int64";
    case PROTOBUF_C_TYPE_SINT64:
        return "sint64";
    case PROTOBUF_C_TYPE_SFIXED64:
        return "sfixed64";
    case PROTOBUF_C_TYPE_UINT32:
        return "uint32";
    case PROTOBUF_C_TYPE_FIXED32:
        return "fixed32";
    case PROTOBUF_C_TYPE_UINT64:
        return "uint64";
    case PROTOBUF_C_TYPE_FIXED64:
        return "fixed64";
    case PROTOBUF_C_TYPE_FLOAT:
        return "float";
    case PROTOBUF_C_TYPE_DOUBLE:
        return "double";
    case PROTOBUF_C_TYPE_BOOL:
        return "bool";
    case PROTOBUF_C_TYPE_ENUM:
        return "enum";
    case PROTOBUF_C_TYPE_STRING:
        return "string";
    case PROTOBUF_C_TYPE_BYTES:
        return "bytes";
    case PROTOBUF_C_TYPE_MESSAGE:
        return "message";
    }
    return "?";
}

/* ------------------------------------------------------------------ numbers */

/* A decimal integer string: optional '-', then digits only. */
static int lt_jp_parse_decimal(const char *s, size_t len, lt_jp_int_t *out)
{
    size_t i = 0;

    out->neg = len > 0 && s[0] == '-';
    out->mag = 0;
    i = (size_t)out->neg;
    if (i == len)
        return -1;
    for (; i < len; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (d > 9)
            return -1;
        if (out->mag > (UINT64_MAX - d) / 10)
            return -2; /* an integer, but beyond 64 bits */
        out->mag = out->mag * 10 + d;
    }
    return 0;
}

/* A JSON integer, an integral real (1.0, 1e3) or a decimal string. Returns 0,
 * or -1 after reporting the error. */
static int lt_jp_get_int(lt_jp_t *jp, const ProtobufCFieldDescriptor *field,
                         const json_t *json, lt_jp_int_t *out)
{
    if (json_is_integer(json)) {
        json_int_t v = json_integer_value(json);
        out->neg = v < 0;
        out->mag = v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
        return 0;
    }
    if (json_is_real(json)) {
        double d = json_real_value(json), a = d < 0 ? -d : d;
        /* 2^64 bounds the magnitude; the round trip through uint64 rejects
         * fractions, and NaN fails the comparison. */
        if (!(a < 18446744073709551616.0))
            return lt_jp_out_of_range(jp, json, lt_type_name(field->type));
        out->neg = d < 0;
        out->mag = (uint64_t)a;
        if ((double)out->mag == a)
            return 0;
    }
    if (json_is_string(json)) {
        int rc =
            lt_jp_parse_decimal(json_string_value(json), json_string_length(json), out);
        if (rc == 0)
            return 0;
        if (rc == -2)
            return lt_jp_out_of_range(jp, json, lt_type_name(field->type));
    }
    return lt_jp_expected(jp, "an integer", json);
}

/* Check v against the range of the field's type and store it at dst. */
static int lt_jp_store_int(lt_jp_t *jp, const ProtobufCFieldDescriptor *field,
                           const json_t *json, lt_jp_int_t v, void *dst)
{
    const uint64_t i32 = (uint64_t)1 << 31, i64 = (uint64_t)1 << 63;

    switch (field->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_ENUM:
        if (v.mag > (v.neg ? i32 : i32 - 1))
            break;
        *(int32_t *)dst = v.neg ? (int32_t)(-(int64_t)v.mag) : (int32_t)v.mag;
        return 0;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        if ((v.neg && v.mag) || v.mag > UINT32_MAX)
            break;
        *(uint32_t *)dst = (uint32_t)v.mag;
        return 0;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        if (v.mag > (v.neg ? i64 : i64 - 1))
            break;
        /* -(mag - 1) - 1 stays inside int64 for mag == 2^63 */
        *(int64_t *)dst = v.neg && v.mag ? -(int64_t)(v.mag - 1) - 1 : (int64_t)v.mag;
        return 0;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        if (v.neg && v.mag)
            break;
        *(uint64_t *)dst = v.mag;
        return 0;
    default:
        break;
    }
    return lt_jp_out_of_range(jp, json, lt_type_name(field->type));
}

static int lt_jp_integer(lt_jp_t *jp, const ProtobufCFieldDescriptor *field,
                         const json_t *json, void *dst)
{
    lt_jp_int_t v = {0, 0};

    if (lt_jp_get_int(jp, field, json, &v) < 0)
        return -1;
    return lt_jp_store_int(jp, field, json, v, dst);
}

/* "NaN", "Infinity", "-Infinity" or a decimal number in JSON syntax (so that
 * strtod's extras, hex and "inf" and leading blanks, stay out). */
static int lt_jp_parse_real(const char *s, size_t len, double *out)
{
    size_t sign = s[0] == '-' ? 1 : 0;
    char *end;

    if (strcmp(s, "NaN") == 0) {
        *out = NAN;
        return 0;
    }
    if (strcmp(s + sign, "Infinity") == 0) {
        *out = sign ? -INFINITY : INFINITY;
        return 0;
    }
    if (len <= sign || s[sign] < '0' || s[sign] > '9' ||
        strspn(s, "0123456789+-.eE") != len)
        return -1;
    *out = strtod(s, &end);
    return end == s + len && !isinf(*out) ? 0 : -1;
}

/* A JSON number or a string as above. */
static int lt_jp_get_double(lt_jp_t *jp, const json_t *json, double *out)
{
    if (json_is_number(json)) {
        *out = json_number_value(json);
        return 0;
    }
    if (json_is_string(json) &&
        lt_jp_parse_real(json_string_value(json), json_string_length(json), out) == 0)
        return 0;
    return lt_jp_expected(jp, "a number", json);
}

static int lt_jp_floating(lt_jp_t *jp, const ProtobufCFieldDescriptor *field,
                          const json_t *json, void *dst)
{
    double d = 0;

    if (lt_jp_get_double(jp, json, &d) < 0)
        return -1;
    if (field->type == PROTOBUF_C_TYPE_DOUBLE) {
        *(double *)dst = d;
        return 0;
    }
    if (isfinite(d) && (d > FLT_MAX || d < -FLT_MAX))
        return lt_jp_out_of_range(jp, json, "float");
    *(float *)dst = (float)d;
    return 0;
}

/* ------------------------------------------------------------------ text, bytes */

/* A string checked as lt_pb_check checks decoded ones; result in a malloc'd copy,
 * or the descriptor default when a proto3 field is left empty. */
static int lt_jp_string(lt_jp_t *jp, const ProtobufCFieldDescriptor *field,
                        const json_t *json, char **dst)
{
    const char *s, *why;
    size_t len, off = 0;

    if (!json_is_string(json))
        return lt_jp_expected(jp, "a string", json);
    s = json_string_value(json);
    len = json_string_length(json);
    why = lt_text_check(s, len, &off);
    if (why)
        return lt_jp_fail(jp, "%s (byte 0x%02x at offset %zu)", why,
                          (unsigned char)s[off], off);
    /* Keeping the default pointer keeps free_unpacked from freeing it; oneof
     * members need their own "" because the packer drops a default pointer. */
    if (len == 0 && field->label == PROTOBUF_C_LABEL_NONE && field->default_value &&
        !(field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
        return 0;
    *dst = malloc(len + 1);
    if (*dst == NULL)
        return lt_jp_fail(jp, "out of memory");
    memcpy(*dst, s, len + 1);
    return 0;
}

static int lt_b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-') /* standard or URL-safe alphabet */
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/* Decode standard or URL-safe base64, padded or not, into out (3/4 of len).
 * Returns the decoded length, or -1 with *bad at the offending offset. */
static long lt_b64_decode(const char *s, size_t len, uint8_t *out, size_t *bad)
{
    size_t n = len, i, o = 0;
    uint32_t acc = 0;
    int v;

    while (n > 0 && len - n < 2 && s[n - 1] == '=')
        n--;
    if ((n < len && len % 4 != 0) || n % 4 == 1) {
        *bad = len;
        return -1;
    }
    for (i = 0; i < n; i++) {
        v = lt_b64_value((unsigned char)s[i]);
        if (v < 0) {
            *bad = i;
            return -1;
        }
        acc = acc << 6 | (uint32_t)v;
        if (i % 4 == 3) {
            out[o++] = (uint8_t)(acc >> 16);
            out[o++] = (uint8_t)(acc >> 8);
            out[o++] = (uint8_t)acc;
            acc = 0;
        }
    }
    if (n % 4 == 2) {
        out[o++] = (uint8_t)(acc >> 4);
    } else if (n % 4 == 3) {
        out[o++] = (uint8_t)(acc >> 10);
        out[o++] = (uint8_t)(acc >> 2);
    }
    return (long)o;
}

static int lt_jp_bytes(lt_jp_t *jp, const json_t *json, ProtobufCBinaryData *dst)
{
    size_t len, bad = 0;
    uint8_t *data;
    long n;

    if (!json_is_string(json))
        return lt_jp_expected(jp, "a base64 string", json);
    len = json_string_length(json);
    if (len == 0)
        return 0;
    data = malloc(len / 4 * 3 + 3);
    if (data == NULL)
        return lt_jp_fail(jp, "out of memory");
    n = lt_b64_decode(json_string_value(json), len, data, &bad);
    if (n < 0) {
        free(data);
        if (bad == len)
            return lt_jp_fail(jp, "invalid base64 (bad length or padding)");
        return lt_jp_fail(jp, "invalid base64 (byte 0x%02x at offset %zu)",
                          (unsigned char)json_string_value(json)[bad], bad);
    }
    if (n == 0) {
        free(data);
        return 0;
    }
    dst->data = data;
    dst->len = (size_t)n;
    return 0;
}

static int lt_jp_enum(lt_jp_t *jp, const ProtobufCFieldDescriptor *field,
                      const json_t *json, void *dst)
{
    const ProtobufCEnumDescriptor *edesc = field->descriptor;
    const ProtobufCEnumValue *ev;
    char got[LT_JP_DESCR_MAX];

    if (json_is_string(json)) {
        ev = protobuf_c_enum_descriptor_get_value_by_name(edesc, json_string_value(json));
        if (ev == NULL || strlen(ev->name) != json_string_length(json))
            return lt_jp_fail(jp, "%s is not a value of %s",
                              lt_jp_describe(json, got, sizeof(got)), edesc->name);
        *(int32_t *)dst = ev->value;
        return 0;
    }
    if (!json_is_number(json))
        return lt_jp_expected(jp, "an enum name or number", json);
    if (lt_jp_integer(jp, field, json, dst) < 0)
        return -1;
    /* proto3 enums are open, but a number the enum does not define would be
     * stored as a code no one can read ("sex": 7): refused like an unknown name. */
    if (protobuf_c_enum_descriptor_get_value(edesc, *(int32_t *)dst) == NULL)
        return lt_jp_fail(jp, "%s is not a value of %s",
                          lt_jp_describe(json, got, sizeof(got)), edesc->name);
    return 0;
}

/* ------------------------------------------------------------------ fields */

/* A submessage is linked into its parent before it is filled, so that the
 * parent's free_unpacked also releases a half-built child. */
static int lt_jp_submessage(lt_jp_t *jp, const ProtobufCFieldDescriptor *field,
                            const json_t *json, ProtobufCMessage **dst, int depth)
{
    const ProtobufCMessageDescriptor *desc = field->descriptor;

    if (!json_is_object(json))
        return lt_jp_expected(jp, "an object", json);
    if (depth >= LT_WALK_MAX_DEPTH)
        return lt_jp_fail(jp, "nested deeper than %d messages", LT_WALK_MAX_DEPTH);
    *dst = malloc(desc->sizeof_message);
    if (*dst == NULL)
        return lt_jp_fail(jp, "out of memory");
    protobuf_c_message_init(desc, *dst);
    return lt_jp_fill(jp, *dst, json, depth + 1);
}

/* One value (a singular field or one element of a repeated one) into dst. */
static int lt_jp_value(lt_jp_t *jp, const ProtobufCFieldDescriptor *field,
                       const json_t *json, void *dst, int depth)
{
    switch (field->type) {
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
        return lt_jp_floating(jp, field, json, dst);
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_is_boolean(json))
            return lt_jp_expected(jp, "a boolean", json);
        *(protobuf_c_boolean *)dst = json_is_true(json);
        return 0;
    case PROTOBUF_C_TYPE_ENUM:
        return lt_jp_enum(jp, field, json, dst);
    case PROTOBUF_C_TYPE_STRING:
        return lt_jp_string(jp, field, json, dst);
    case PROTOBUF_C_TYPE_BYTES:
        return lt_jp_bytes(jp, json, dst);
    case PROTOBUF_C_TYPE_MESSAGE:
        return lt_jp_submessage(jp, field, json, dst, depth);
    default:
        return lt_jp_integer(jp, field, json, dst);
    }
}

static int lt_jp_repeated(lt_jp_t *jp, const ProtobufCFieldDescriptor *field,
                          const json_t *json, ProtobufCMessage *msg, int depth)
{
    char *base = (char *)msg, *arr;
    size_t n, i, size = lt_pb_value_size(field->type), saved;

    if (!json_is_array(json))
        return lt_jp_expected(jp, "an array", json);
    n = json_array_size(json);
    if (n == 0)
        return 0;
    arr = calloc(n, size);
    if (arr == NULL)
        return lt_jp_fail(jp, "out of memory");
    /* Linked first: free_unpacked copes with the zeroed elements not yet set. */
    *(size_t *)(base + field->quantifier_offset) = n;
    *(void **)(base + field->offset) = arr;
    for (i = 0; i < n; i++) {
        saved = lt_path_index(&jp->path, i);
        if (lt_jp_value(jp, field, json_array_get(json, i), arr + i * size, depth) < 0)
            return -1;
        lt_path_pop(&jp->path, saved);
    }
    return 0;
}

/* A oneof member: refuse when another member of the same oneof is already set. */
static int lt_jp_oneof_claim(lt_jp_t *jp, const ProtobufCFieldDescriptor *field,
                             ProtobufCMessage *msg)
{
    uint32_t *which = (uint32_t *)((char *)msg + field->quantifier_offset);
    const ProtobufCFieldDescriptor *other;
    char a[LT_JP_NAME_MAX], b[LT_JP_NAME_MAX];

    if (*which != 0 && *which != field->id) {
        other = protobuf_c_message_descriptor_get_field(msg->descriptor, *which);
        return lt_jp_fail(jp, "%s and %s are both set, but they are members of one oneof",
                          other ? lt_field_json_name(other, a, sizeof(a)) : "?",
                          lt_field_json_name(field, b, sizeof(b)));
    }
    *which = field->id;
    return 0;
}

static int lt_jp_field(lt_jp_t *jp, const ProtobufCFieldDescriptor *field,
                       const json_t *json, ProtobufCMessage *msg, int depth)
{
    char *base = (char *)msg, name[LT_JP_NAME_MAX];
    size_t saved;
    int rc;

    if ((field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) && lt_jp_oneof_claim(jp, field, msg))
        return -1;
    saved = lt_path_field(&jp->path, lt_field_json_name(field, name, sizeof(name)));
    if (field->label == PROTOBUF_C_LABEL_REPEATED) {
        rc = lt_jp_repeated(jp, field, json, msg, depth);
    } else {
        rc = lt_jp_value(jp, field, json, base + field->offset, depth);
        /* proto2 and proto3 `optional` scalars carry a has_ flag */
        if (rc == 0 && field->label == PROTOBUF_C_LABEL_OPTIONAL &&
            !(field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
            !lt_pb_is_pointer(field->type))
            *(protobuf_c_boolean *)(base + field->quantifier_offset) = 1;
    }
    if (rc == 0)
        lt_path_pop(&jp->path, saved);
    return rc;
}

#define LT_JP_FIELDS_MAX 64

/* The field key names, by its original or its JSON name; -1 if none. */
static int lt_jp_field_of(const ProtobufCMessageDescriptor *desc, const char *key)
{
    for (unsigned f = 0; f < desc->n_fields; f++)
        if (strcmp(key, desc->fields[f].name) == 0 || lt_json_name_is(desc->fields[f].name, key))
            return (int)f;
    return -1;
}

/* One pass over the object's keys: each value goes to its field in vals
 * (indexed like desc->fields). A key no field has is an error, and so is a
 * field given under both its names. */
static int lt_jp_collect(lt_jp_t *jp, const ProtobufCMessageDescriptor *desc,
                         const json_t *obj, const json_t **vals)
{
    const char *key;
    const json_t *value = NULL;
    char text[LT_JP_DESCR_MAX], jname[LT_JP_NAME_MAX];

    /* jansson's iterators take a non-const object; nothing is modified */
    json_object_foreach((json_t *)(uintptr_t)obj, key, value) {
        int f = lt_jp_field_of(desc, key);
        if (f < 0) {
            lt_jp_excerpt(key, strlen(key), text, sizeof(text));
            lt_path_field(&jp->path, text);
            return lt_jp_fail(jp, "unknown field");
        }
        if (vals[f])
            return lt_jp_fail(jp, "field given twice, as %s and as %s",
                              lt_field_json_name(&desc->fields[f], jname, sizeof(jname)),
                              desc->fields[f].name);
        vals[f] = value;
    }
    return 0;
}

static int lt_jp_fill(lt_jp_t *jp, ProtobufCMessage *msg, const json_t *json, int depth)
{
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    const json_t *on_stack[LT_JP_FIELDS_MAX] = {0}, **vals = on_stack;
    int rc = 0;

    if (!json_is_object(json))
        return lt_jp_expected(jp, "an object", json);
    if (desc->n_fields > LT_JP_FIELDS_MAX && !(vals = calloc(desc->n_fields, sizeof(*vals))))
        return lt_jp_fail(jp, "out of memory");
    rc = lt_jp_collect(jp, desc, json, vals);
    /* In the descriptor's order: the first error reported does not depend
     * on the order of the keys. */
    for (unsigned f = 0; rc == 0 && f < desc->n_fields; f++) {
        if (vals[f] == NULL || json_is_null(vals[f]))
            continue; /* null means absent */
        rc = lt_jp_field(jp, &desc->fields[f], vals[f], msg, depth);
    }
    if (vals != on_stack)
        free(vals);
    return rc;
}

ProtobufCMessage *lt_json_to_pb(const ProtobufCMessageDescriptor *desc,
                                const json_t *json, char *errstr, size_t errstr_size)
{
    lt_jp_t jp = {.root = desc->name, .errstr = errstr, .errstr_size = errstr_size};
    ProtobufCMessage *msg = malloc(desc->sizeof_message);

    if (msg == NULL) {
        lt_jp_fail(&jp, "out of memory");
        return NULL;
    }
    protobuf_c_message_init(desc, msg);
    if (lt_jp_fill(&jp, msg, json, 0) < 0) {
        protobuf_c_message_free_unpacked(msg, NULL);
        return NULL;
    }
    return msg;
}

/* ------------------------------------------------------------------ to JSON */

/* The JSON emitter on lt_walk, writing text straight into a buffer: the sink
 * does this for every applied event, and building a jansson tree per event was
 * most of its CPU time. Compact, fields in descriptor order. */
typedef struct {
    lt_buf_t *out;
    int need_comma; /* something was written at this level since its bracket */
} lt_pw_t;

static void lt_pw_string(const char *s, lt_buf_t *out)
{
    static const char hex[] = "0123456789abcdef";
    const char *run = s;

    lt_buf_append(out, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        lt_buf_append(out, run, (size_t)(s - run));
        run = s + 1;
        switch (c) {
        case '"': lt_buf_append(out, "\\\"", 2); break;
        case '\\': lt_buf_append(out, "\\\\", 2); break;
        case '\n': lt_buf_append(out, "\\n", 2); break;
        case '\t': lt_buf_append(out, "\\t", 2); break;
        case '\r': lt_buf_append(out, "\\r", 2); break;
        default: {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            lt_buf_append(out, esc, 6);
        }
        }
    }
    lt_buf_append(out, run, (size_t)(s - run));
    lt_buf_append(out, "\"", 1);
}

/* "jsonName": in one append (field names are identifiers: nothing to escape). */
static void lt_pw_key(const ProtobufCFieldDescriptor *field, lt_buf_t *out)
{
    char key[LT_JP_NAME_MAX + 3];
    size_t n = lt_json_name(field->name, key + 1, LT_JP_NAME_MAX);

    if (n == 0) {
        lt_pw_string(field->name, out);
        lt_buf_append(out, ":", 1);
        return;
    }
    key[0] = '"';
    key[n + 1] = '"';
    key[n + 2] = ':';
    lt_buf_append(out, key, n + 3);
}

/* Standard base64 with padding, as proto3 JSON writes bytes. */
static void lt_pw_base64(const ProtobufCBinaryData *bytes, lt_buf_t *out)
{
    static const char abc[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const uint8_t *data = bytes->data;
    size_t len = bytes->len, i;
    char quad[4];
    uint32_t acc;

    lt_buf_append(out, "\"", 1);
    for (i = 0; i < len; i += 3) {
        acc = (uint32_t)data[i] << 16;
        if (i + 1 < len)
            acc |= (uint32_t)data[i + 1] << 8;
        if (i + 2 < len)
            acc |= data[i + 2];
        quad[0] = abc[acc >> 18 & 63];
        quad[1] = abc[acc >> 12 & 63];
        quad[2] = i + 1 < len ? abc[acc >> 6 & 63] : '=';
        quad[3] = i + 2 < len ? abc[acc & 63] : '=';
        lt_buf_append(out, quad, 4);
    }
    lt_buf_append(out, "\"", 1);
}

/* NaN and the infinities are strings in proto3 JSON; other numbers are written
 * as jansson writes a real (%.17g, always with '.' or 'e'), as they always were. */
static void lt_pw_real(double d, lt_buf_t *out)
{
    json_t *real;
    char *text;

    if (isnan(d) || isinf(d)) {
        lt_pw_string(isnan(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity", out);
        return;
    }
    real = json_real(d);
    text = real ? json_dumps(real, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    lt_buf_puts(out, text ? text : "null");
    free(text);
    json_decref(real);
}

static void lt_pw_enum(const ProtobufCFieldDescriptor *field, int32_t v, lt_buf_t *out)
{
    const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(field->descriptor, v);

    if (ev)
        lt_pw_string(ev->name, out);
    else
        lt_buf_i64(out, v);
}

/* 64-bit integers are strings: JSON readers often hold numbers in doubles. */
static void lt_pw_int64(const ProtobufCFieldDescriptor *field, const void *member,
                        lt_buf_t *out)
{
    lt_buf_append(out, "\"", 1);
    if (field->type == PROTOBUF_C_TYPE_UINT64 || field->type == PROTOBUF_C_TYPE_FIXED64)
        lt_buf_u64(out, *(const uint64_t *)member);
    else
        lt_buf_i64(out, *(const int64_t *)member);
    lt_buf_append(out, "\"", 1);
}

static void lt_pw_scalar(const ProtobufCFieldDescriptor *field, const void *member,
                         lt_buf_t *out)
{
    switch (field->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        lt_buf_i64(out, *(const int32_t *)member);
        return;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        lt_buf_u64(out, *(const uint32_t *)member);
        return;
    case PROTOBUF_C_TYPE_BOOL:
        lt_buf_puts(out, *(const protobuf_c_boolean *)member ? "true" : "false");
        return;
    case PROTOBUF_C_TYPE_ENUM:
        lt_pw_enum(field, *(const int32_t *)member, out);
        return;
    case PROTOBUF_C_TYPE_STRING:
        lt_pw_string(*(const char *const *)member, out);
        return;
    case PROTOBUF_C_TYPE_FLOAT:
        lt_pw_real(*(const float *)member, out);
        return;
    case PROTOBUF_C_TYPE_DOUBLE:
        lt_pw_real(*(const double *)member, out);
        return;
    case PROTOBUF_C_TYPE_BYTES:
        lt_pw_base64(member, out);
        return;
    case PROTOBUF_C_TYPE_MESSAGE:
        /* a hole in a repeated field, or deeper than any message of ours */
        lt_buf_puts(out, "null");
        return;
    default:
        lt_pw_int64(field, member, out);
    }
}

/* A new item at this level: a comma if the level holds one already, then the
 * key (of a field) and the opening bracket (of a message or a list), after
 * which the next item needs no comma. */
static void lt_pw_open(lt_pw_t *pw, const ProtobufCFieldDescriptor *key, const char *bracket)
{
    if (pw->need_comma)
        lt_buf_append(pw->out, ",", 1);
    if (key)
        lt_pw_key(key, pw->out);
    if (bracket)
        lt_buf_append(pw->out, bracket, 1);
    pw->need_comma = 0;
}

/* The end of an item, with its closing bracket if it has one. */
static void lt_pw_close(lt_pw_t *pw, const char *bracket)
{
    if (bracket)
        lt_buf_append(pw->out, bracket, 1);
    pw->need_comma = 1;
}

static lt_walk_step_t lt_pw_message_begin(void *arg, const lt_walk_t *walk,
                                          const ProtobufCMessage *msg)
{
    (void)walk;
    (void)msg;
    lt_pw_open(arg, NULL, "{");
    return LT_WALK_NEXT;
}

static lt_walk_step_t lt_pw_message_end(void *arg, const lt_walk_t *walk,
                                        const ProtobufCMessage *msg)
{
    (void)walk;
    (void)msg;
    lt_pw_close(arg, "}");
    return LT_WALK_NEXT;
}

static lt_walk_step_t lt_pw_field_begin(void *arg, const lt_walk_t *walk,
                                        const ProtobufCFieldDescriptor *field)
{
    (void)walk;
    lt_pw_open(arg, field, field->label == PROTOBUF_C_LABEL_REPEATED ? "[" : NULL);
    return LT_WALK_NEXT;
}

static lt_walk_step_t lt_pw_field_end(void *arg, const lt_walk_t *walk,
                                      const ProtobufCFieldDescriptor *field)
{
    (void)walk;
    lt_pw_close(arg, field->label == PROTOBUF_C_LABEL_REPEATED ? "]" : NULL);
    return LT_WALK_NEXT;
}

static lt_walk_step_t lt_pw_value(void *arg, const lt_walk_t *walk,
                                  const ProtobufCFieldDescriptor *field, const void *member)
{
    lt_pw_t *pw = arg;

    (void)walk;
    lt_pw_open(pw, NULL, NULL);
    lt_pw_scalar(field, member, pw->out);
    lt_pw_close(pw, NULL);
    return LT_WALK_NEXT;
}

static const lt_walk_visitor_t lt_pw_visitor = {
    .message_begin = lt_pw_message_begin,
    .message_end = lt_pw_message_end,
    .field_begin = lt_pw_field_begin,
    .field_end = lt_pw_field_end,
    .value = lt_pw_value,
};

void lt_pb_write_json(const ProtobufCMessage *msg, lt_buf_t *out)
{
    lt_pw_t pw = {out, 0};

    if (msg == NULL) {
        lt_buf_puts(out, "null");
        return;
    }
    lt_walk_message(msg, &lt_pw_visitor, &pw);
}
