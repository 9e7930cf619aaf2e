/* test_json_pb — the proto3 JSON mapping: round trips of real records, every
 * scalar type through a hand-written descriptor, and a table of errors in
 * $LT_TEST_DATA/json_pb/errors.tsv. */
#include "lt_json_pb.h"

#include <stddef.h>

#include "lt_codec.h"
#include "lt_test.h"

static void free_msg(ProtobufCMessage *msg)
{
    protobuf_c_message_free_unpacked(msg, NULL);
}

static json_t *parse(const char *text)
{
    json_error_t jerr;
    json_t *json = json_loads(text, 0, &jerr);

    if (json == NULL)
        fprintf(stderr, "bad JSON in test: %s: %s\n", text, jerr.text);
    return json;
}

/* JSON text -> message of desc -> JSON; NULL (and errstr) if conversion fails. */
static json_t *through_pb(const ProtobufCMessageDescriptor *desc, const char *text,
                          char *errstr, size_t errstr_size)
{
    json_t *in = parse(text), *out = NULL;
    ProtobufCMessage *msg = in ? lt_json_to_pb(desc, in, errstr, errstr_size) : NULL;

    if (msg)
        out = lt_pb_to_json(msg);
    free_msg(msg);
    json_decref(in);
    return out;
}

/* Asserts that text converts and comes back equal to want (JSON text). */
#define ASSERT_JSON_MAPS(desc, text, want)                                              \
    do {                                                                                \
        char errstr_[256] = "";                                                         \
        json_t *got_ = through_pb(desc, text, errstr_, sizeof(errstr_));                \
        json_t *want_ = parse(want);                                                    \
        char *dump_ = got_ ? json_dumps(got_, JSON_COMPACT | JSON_SORT_KEYS) : NULL;    \
        ASSERT_EQ_STR(errstr_, "");                                                     \
        ASSERT_TRUE(got_ && want_ && json_equal(got_, want_));                          \
        if (!(got_ && want_ && json_equal(got_, want_)))                                \
            fprintf(stderr, "  got %s\n  want %s\n", dump_ ? dump_ : "(null)", want);   \
        free(dump_);                                                                    \
        json_decref(got_);                                                              \
        json_decref(want_);                                                             \
    } while (0)

/* ------------------------------------------------------------------ files */

static char *data_path(const char *name, char *buf, size_t size)
{
    const char *dir = getenv("LT_TEST_DATA");

    snprintf(buf, size, "%s/json_pb/%s", dir ? dir : "tests/data", name);
    return buf;
}

/* file -> pb -> JSON equals the file; pb -> wire -> decode+check -> JSON too. */
static void round_trip_file(const char *name, const ProtobufCMessageDescriptor *desc)
{
    char path[512], errstr[256] = "";
    json_error_t jerr;
    json_t *in = json_load_file(data_path(name, path, sizeof(path)), 0, &jerr), *out;
    ProtobufCMessage *msg, *again = NULL;
    size_t len = 0;
    uint8_t *buf;

    ASSERT_TRUE(in != NULL);
    if (in == NULL) {
        fprintf(stderr, "  %s: %s (set LT_TEST_DATA)\n", path, jerr.text);
        return;
    }
    msg = lt_json_to_pb(desc, in, errstr, sizeof(errstr));
    ASSERT_EQ_STR(errstr, "");
    ASSERT_TRUE(msg != NULL);
    if (msg == NULL) {
        json_decref(in);
        return;
    }
    out = lt_pb_to_json(msg);
    ASSERT_TRUE(out && json_equal(in, out));
    json_decref(out);
    buf = lt_pb_pack(msg, &len);
    again = protobuf_c_message_unpack(desc, NULL, len, buf);
    ASSERT_TRUE(again != NULL);
    if (again) {
        ASSERT_EQ_INT(lt_pb_check(again, errstr, sizeof(errstr)), LT_DECODE_OK);
        out = lt_pb_to_json(again);
        ASSERT_TRUE(out && json_equal(in, out));
        json_decref(out);
    }
    free(buf);
    free_msg(again);
    free_msg(msg);
    json_decref(in);
}

static void test_round_trip_birth(void)
{
    round_trip_file("birth.json", &lienthong__v1__event__descriptor);
}

static void test_round_trip_death(void)
{
    round_trip_file("death.json", &lienthong__v1__event__descriptor);
}

static void test_round_trip_dossier(void)
{
    round_trip_file("dossier.json", &lienthong__v1__event__descriptor);
}

static void test_round_trip_batch(void)
{
    round_trip_file("batch.json", &lienthong__v1__batch__descriptor);
}

/* The decoded birth record holds what the file says, down to the leaves. */
static void test_birth_values(void)
{
    char path[512], errstr[256] = "";
    json_t *in = json_load_file(data_path("birth.json", path, sizeof(path)), 0, NULL);
    Lienthong__V1__Event *ev = (Lienthong__V1__Event *)lt_json_to_pb(
        &lienthong__v1__event__descriptor, in, errstr, sizeof(errstr));
    Lienthong__V1__BirthRecord *birth;

    ASSERT_TRUE(ev != NULL);
    if (ev == NULL) {
        json_decref(in);
        return;
    }
    ASSERT_EQ_INT(ev->seq, 41);
    ASSERT_EQ_INT(ev->occurred_at_us, 1751400000000000);
    ASSERT_EQ_INT(ev->content_hash.len, LT_SHA256_LEN);
    ASSERT_EQ_INT(ev->payload_case, LIENTHONG__V1__EVENT__PAYLOAD_CIVIL_RECORD);
    ASSERT_EQ_INT(ev->civil_record->record_case,
                  LIENTHONG__V1__CIVIL_RECORD__RECORD_BIRTH);
    birth = ev->civil_record->birth;
    ASSERT_EQ_STR(birth->child->name->full, "Nguyễn Văn An");
    ASSERT_EQ_INT(birth->child->date_of_birth->day, 30);
    ASSERT_EQ_INT(birth->child->sex, LIENTHONG__V1__SEX__SEX_MALE);
    ASSERT_EQ_INT(birth->mother->date_of_birth->month, 0);
    /* absent strings keep the descriptor default, which free_unpacked skips */
    ASSERT_TRUE(birth->father->name->family == protobuf_c_empty_string);
    ASSERT_TRUE(birth->father->residence == protobuf_c_empty_string);
    free_msg(&ev->base);
    json_decref(in);
}

/* ------------------------------------------------------------------ mapping */

static void test_both_name_forms(void)
{
    static const char *snake =
        "{\"entity_id\": \"x\", \"occurred_at_us\": \"5\", \"content_hash\": \"AAE=\","
        " \"civil_record\": {\"birth\": {\"child\": {\"date_of_birth\": {\"year\": 2000},"
        " \"personal_id\": \"001\"}, \"birth_certificate_number\": \"9\"}}}";
    static const char *camel =
        "{\"entityId\": \"x\", \"occurredAtUs\": \"5\", \"contentHash\": \"AAE=\","
        " \"civilRecord\": {\"birth\": {\"child\": {\"dateOfBirth\": {\"year\": 2000},"
        " \"personalId\": \"001\"}, \"birthCertificateNumber\": \"9\"}}}";
    static const char *mixed =
        "{\"entityId\": \"x\", \"occurred_at_us\": \"5\", \"contentHash\": \"AAE=\","
        " \"civil_record\": {\"birth\": {\"child\": {\"dateOfBirth\": {\"year\": 2000},"
        " \"personal_id\": \"001\"}, \"birthCertificateNumber\": \"9\"}}}";

    ASSERT_JSON_MAPS(&lienthong__v1__event__descriptor, snake, camel);
    ASSERT_JSON_MAPS(&lienthong__v1__event__descriptor, camel, camel);
    ASSERT_JSON_MAPS(&lienthong__v1__event__descriptor, mixed, camel);
}

static void test_int64_as_string(void)
{
    const ProtobufCMessageDescriptor *ev = &lienthong__v1__event__descriptor;

    ASSERT_JSON_MAPS(ev, "{\"seq\": 5, \"occurredAtUs\": -7, \"recordedAtUs\": 1e15}",
                     "{\"seq\": \"5\", \"occurredAtUs\": \"-7\","
                     " \"recordedAtUs\": \"1000000000000000\"}");
    ASSERT_JSON_MAPS(ev, "{\"seq\": \"18446744073709551615\","
                         " \"occurredAtUs\": \"-9223372036854775808\","
                         " \"recordedAtUs\": \"9223372036854775807\"}",
                     "{\"seq\": \"18446744073709551615\","
                     " \"occurredAtUs\": \"-9223372036854775808\","
                     " \"recordedAtUs\": \"9223372036854775807\"}");
    /* 32-bit integers stay numbers; strings and integral reals are accepted */
    ASSERT_JSON_MAPS(&lienthong__v1__partial_date__descriptor,
                     "{\"year\": \"2025\", \"month\": 7.0, \"day\": 4294967295}",
                     "{\"year\": 2025, \"month\": 7, \"day\": 4294967295}");
}

static void test_enums(void)
{
    const ProtobufCMessageDescriptor *p = &lienthong__v1__person__descriptor;

    ASSERT_JSON_MAPS(p, "{\"sex\": \"SEX_FEMALE\"}", "{\"sex\": \"SEX_FEMALE\"}");
    ASSERT_JSON_MAPS(p, "{\"sex\": 2}", "{\"sex\": \"SEX_FEMALE\"}");
    ASSERT_JSON_MAPS(p, "{\"sex\": 1.0}", "{\"sex\": \"SEX_MALE\"}");
    /* proto3 enums are open: an unknown number passes, as in binary */
    ASSERT_JSON_MAPS(p, "{\"sex\": 9}", "{\"sex\": 9}");
    ASSERT_JSON_MAPS(p, "{\"sex\": -3}", "{\"sex\": -3}");
    ASSERT_JSON_MAPS(p, "{\"sex\": \"SEX_UNSPECIFIED\"}", "{}");
    ASSERT_JSON_MAPS(p, "{\"sex\": 0}", "{}");
}

static void test_bytes_base64(void)
{
    const ProtobufCMessageDescriptor *ev = &lienthong__v1__event__descriptor;
    char errstr[256] = "";
    json_t *in = parse("{\"contentHash\": \"-_8\"}");
    Lienthong__V1__Event *msg = (Lienthong__V1__Event *)lt_json_to_pb(ev, in, errstr,
                                                                      sizeof(errstr));
    const uint8_t *data = msg ? msg->content_hash.data : NULL;

    ASSERT_TRUE(msg && msg->content_hash.len == 2);
    ASSERT_TRUE(data && data[0] == 0xFB && data[1] == 0xFF);
    free_msg((ProtobufCMessage *)msg);
    json_decref(in);
    /* standard, URL-safe, padded or not; always standard and padded on output */
    ASSERT_JSON_MAPS(ev, "{\"contentHash\": \"+/8=\"}", "{\"contentHash\": \"+/8=\"}");
    ASSERT_JSON_MAPS(ev, "{\"contentHash\": \"-_8=\"}", "{\"contentHash\": \"+/8=\"}");
    ASSERT_JSON_MAPS(ev, "{\"contentHash\": \"+/8\"}", "{\"contentHash\": \"+/8=\"}");
    ASSERT_JSON_MAPS(ev, "{\"contentHash\": \"AA\"}", "{\"contentHash\": \"AA==\"}");
    ASSERT_JSON_MAPS(ev, "{\"contentHash\": \"AAEC\"}", "{\"contentHash\": \"AAEC\"}");
    ASSERT_JSON_MAPS(ev, "{\"contentHash\": \"AAECAw\"}",
                     "{\"contentHash\": \"AAECAw==\"}");
    ASSERT_JSON_MAPS(ev, "{\"contentHash\": \"\"}", "{}");
}

static void test_defaults_omitted(void)
{
    char errstr[256] = "";
    json_t *in = parse("{\"seq\": \"0\", \"entityId\": \"\", \"op\": \"OP_UNSPECIFIED\","
                       " \"contentHash\": \"\", \"dossier\": null, \"version\": null}");
    Lienthong__V1__Event *ev = (Lienthong__V1__Event *)lt_json_to_pb(
        &lienthong__v1__event__descriptor, in, errstr, sizeof(errstr));
    json_t *out = ev ? lt_pb_to_json(&ev->base) : NULL;

    ASSERT_TRUE(ev != NULL);
    ASSERT_TRUE(out && json_object_size(out) == 0);
    /* "" keeps the default pointer: nothing for free_unpacked to free */
    ASSERT_TRUE(ev && ev->entity_id == protobuf_c_empty_string);
    ASSERT_TRUE(ev && ev->payload_case == LIENTHONG__V1__EVENT__PAYLOAD__NOT_SET);
    json_decref(out);
    free_msg((ProtobufCMessage *)ev);
    json_decref(in);
    /* an empty repeated field is omitted, an empty oneof message is not */
    ASSERT_JSON_MAPS(&lienthong__v1__dossier__descriptor, "{\"history\": []}", "{}");
    ASSERT_JSON_MAPS(&lienthong__v1__event__descriptor, "{\"dossier\": {}}",
                     "{\"dossier\": {}}");
    ASSERT_JSON_MAPS(&lienthong__v1__civil_record__descriptor, "{\"death\": {}}",
                     "{\"death\": {}}");
}

static void test_invalid_utf8_value(void)
{
    const ProtobufCMessageDescriptor *name = &lienthong__v1__person_name__descriptor;
    char errstr[256] = "";
    json_t *in = json_object();
    ProtobufCMessage *msg;

    /* jansson's parser never yields this, but a caller-built object can */
    json_object_set_new(in, "full", json_stringn_nocheck("Ph\xE1\xBA", 4));
    msg = lt_json_to_pb(name, in, errstr, sizeof(errstr));
    ASSERT_TRUE(msg == NULL);
    ASSERT_EQ_STR(errstr, "full: invalid UTF-8 (byte 0xe1 at offset 2)");
    json_object_set_new(in, "full", json_stringn("a\0b", 3));
    msg = lt_json_to_pb(name, in, errstr, sizeof(errstr));
    ASSERT_TRUE(msg == NULL);
    ASSERT_EQ_STR(errstr, "full: control character (byte 0x00 at offset 1)");
    json_decref(in);
}

static void test_small_errstr(void)
{
    char errstr[8];
    json_t *in = parse("{\"dossier\": {\"foo\": 1}}");
    ProtobufCMessage *msg;

    memset(errstr, 'z', sizeof(errstr));
    msg = lt_json_to_pb(&lienthong__v1__event__descriptor, in, errstr, sizeof(errstr));
    ASSERT_TRUE(msg == NULL);
    ASSERT_EQ_STR(errstr, "dossier");
    msg = lt_json_to_pb(&lienthong__v1__event__descriptor, in, NULL, 0);
    ASSERT_TRUE(msg == NULL);
    json_decref(in);
}

/* ------------------------------------------------------------------ error table */

static const ProtobufCMessageDescriptor *descriptor_named(const char *name)
{
    static const ProtobufCMessageDescriptor *const all[] = {
        &lienthong__v1__signed_batch__descriptor,
        &lienthong__v1__batch__descriptor,
        &lienthong__v1__event__descriptor,
        &lienthong__v1__heartbeat__descriptor,
        &lienthong__v1__digest__descriptor,
        &lienthong__v1__digest_bucket__descriptor,
        &lienthong__v1__person_name__descriptor,
        &lienthong__v1__partial_date__descriptor,
        &lienthong__v1__person__descriptor,
        &lienthong__v1__admin_unit_ref__descriptor,
        &lienthong__v1__registration__descriptor,
        &lienthong__v1__civil_record__descriptor,
        &lienthong__v1__birth_record__descriptor,
        &lienthong__v1__death_record__descriptor,
        &lienthong__v1__dossier_status_change__descriptor,
        &lienthong__v1__dossier__descriptor,
    };
    size_t i;

    for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (strcmp(all[i]->short_name, name) == 0)
            return all[i];
    }
    return NULL;
}

/* One line "Type<TAB>json[<TAB>expected]": no expected text means accepted (the
 * column may be missing: editors trim a trailing tab). */
static void run_error_case(char *line, int lineno)
{
    char *type = line, *text = strchr(line, '\t'), *want, errstr[256] = "";
    const ProtobufCMessageDescriptor *desc;
    ProtobufCMessage *msg;
    json_t *in;

    ASSERT_TRUE(text != NULL);
    if (text == NULL)
        return;
    *text++ = '\0';
    text[strcspn(text, "\n")] = '\0';
    want = strchr(text, '\t');
    if (want)
        *want++ = '\0';
    else
        want = text + strlen(text);
    desc = descriptor_named(type);
    in = json_loads(text, JSON_DECODE_ANY, NULL);
    ASSERT_TRUE(desc && in);
    if (!desc || !in) {
        fprintf(stderr, "  errors.tsv:%d: bad case\n", lineno);
        json_decref(in);
        return;
    }
    msg = lt_json_to_pb(desc, in, errstr, sizeof(errstr));
    if (*want) {
        ASSERT_TRUE(msg == NULL);
        ASSERT_CONTAINS(errstr, want);
    } else {
        ASSERT_TRUE(msg != NULL);
        ASSERT_EQ_STR(errstr, "");
    }
    if ((*want != '\0') != (msg == NULL) || (*want && !strstr(errstr, want)))
        fprintf(stderr, "  errors.tsv:%d: %s\n", lineno, text);
    free_msg(msg);
    json_decref(in);
}

static void test_error_table(void)
{
    char path[512], line[1024];
    FILE *fp = fopen(data_path("errors.tsv", path, sizeof(path)), "r");
    int lineno = 0, cases = 0;

    ASSERT_TRUE(fp != NULL);
    if (fp == NULL) {
        fprintf(stderr, "  %s: cannot open (set LT_TEST_DATA)\n", path);
        return;
    }
    while (fgets(line, sizeof(line), fp)) {
        lineno++;
        if (line[0] == '#' || line[0] == '\n')
            continue;
        run_error_case(line, lineno);
        cases++;
    }
    fclose(fp);
    ASSERT_TRUE(cases >= 40);
}

/* ------------------------------------------------------------------ all scalars */

/* The lienthong proto has no signed 32-bit, fixed, float, bool, repeated scalar
 * or proto3-optional fields; this hand-written descriptor has them all, so the
 * generic walker is exercised on every type protobuf-c knows. */
typedef struct {
    ProtobufCMessage base;
    int32_t an_int32;
    int32_t a_sint32;
    int32_t a_sfixed32;
    int64_t an_int64;
    int64_t a_sint64;
    int64_t a_sfixed64;
    uint32_t a_uint32;
    uint32_t a_fixed32;
    uint64_t a_uint64;
    uint64_t a_fixed64;
    float a_float;
    double a_double;
    protobuf_c_boolean a_bool;
    size_t n_ints;
    int32_t *ints;
    size_t n_texts;
    char **texts;
    size_t n_blobs;
    ProtobufCBinaryData *blobs;
    protobuf_c_boolean has_maybe_int;
    int32_t maybe_int;
    uint32_t pick_case;
    union {
        char *pick_text;
        int32_t pick_number;
    };
} all_t;

static void all_init(ProtobufCMessage *msg);

#define ALL_FIELD(name, id, label, type, q)                                             \
    {                                                                                   \
        #name, id, PROTOBUF_C_LABEL_##label, PROTOBUF_C_TYPE_##type, q,                 \
            offsetof(all_t, name), NULL, NULL, 0, 0, NULL, NULL                         \
    }
#define ALL_ONEOF(name, id, type)                                                       \
    {                                                                                   \
        #name, id, PROTOBUF_C_LABEL_NONE, PROTOBUF_C_TYPE_##type,                       \
            offsetof(all_t, pick_case), offsetof(all_t, name), NULL, NULL,              \
            PROTOBUF_C_FIELD_FLAG_ONEOF, 0, NULL, NULL                                  \
    }

static const ProtobufCFieldDescriptor all_fields[] = {
    ALL_FIELD(an_int32, 1, NONE, INT32, 0),
    ALL_FIELD(a_sint32, 2, NONE, SINT32, 0),
    ALL_FIELD(a_sfixed32, 3, NONE, SFIXED32, 0),
    ALL_FIELD(an_int64, 4, NONE, INT64, 0),
    ALL_FIELD(a_sint64, 5, NONE, SINT64, 0),
    ALL_FIELD(a_sfixed64, 6, NONE, SFIXED64, 0),
    ALL_FIELD(a_uint32, 7, NONE, UINT32, 0),
    ALL_FIELD(a_fixed32, 8, NONE, FIXED32, 0),
    ALL_FIELD(a_uint64, 9, NONE, UINT64, 0),
    ALL_FIELD(a_fixed64, 10, NONE, FIXED64, 0),
    ALL_FIELD(a_float, 11, NONE, FLOAT, 0),
    ALL_FIELD(a_double, 12, NONE, DOUBLE, 0),
    ALL_FIELD(a_bool, 13, NONE, BOOL, 0),
    ALL_FIELD(ints, 14, REPEATED, INT32, offsetof(all_t, n_ints)),
    ALL_FIELD(texts, 15, REPEATED, STRING, offsetof(all_t, n_texts)),
    ALL_FIELD(blobs, 16, REPEATED, BYTES, offsetof(all_t, n_blobs)),
    ALL_FIELD(maybe_int, 17, OPTIONAL, INT32, offsetof(all_t, has_maybe_int)),
    ALL_ONEOF(pick_text, 18, STRING),
    ALL_ONEOF(pick_number, 19, INT32),
};

/* indexes of all_fields in name order */
static const unsigned all_by_name[] = {12, 11, 7,  9,  10, 2,  5,  1,  4, 6,
                                       8,  0,  3,  15, 13, 16, 18, 17, 14};
static const ProtobufCIntRange all_ranges[] = {{1, 0}, {0, 19}};

static const ProtobufCMessageDescriptor all_descriptor = {
    PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC,
    "test.All",
    "All",
    "All",
    "test",
    sizeof(all_t),
    sizeof(all_fields) / sizeof(all_fields[0]),
    all_fields,
    all_by_name,
    1,
    all_ranges,
    all_init,
    NULL,
    NULL,
    NULL,
};

static void all_init(ProtobufCMessage *msg)
{
    memset(msg, 0, sizeof(all_t));
    msg->descriptor = &all_descriptor;
}

static void test_all_scalars(void)
{
    static const char *in =
        "{\"anInt32\": -2147483648, \"aSint32\": \"-5\", \"aSfixed32\": 2147483647,"
        " \"anInt64\": \"-9223372036854775808\", \"aSint64\": -3,"
        " \"aSfixed64\": \"9223372036854775807\", \"aUint32\": 4294967295,"
        " \"aFixed32\": \"7\", \"aUint64\": \"18446744073709551615\", \"aFixed64\": 1e3,"
        " \"aFloat\": 1.5, \"aDouble\": \"-Infinity\", \"aBool\": true,"
        " \"ints\": [1, \"-2\", 3.0], \"texts\": [\"a\", \"\", \"\xe1\xbb\x85\"],"
        " \"blobs\": [\"AAEC\", \"-_8\", \"\"], \"maybeInt\": 0, \"pickText\": \"\"}";
    static const char *want =
        "{\"anInt32\": -2147483648, \"aSint32\": -5, \"aSfixed32\": 2147483647,"
        " \"anInt64\": \"-9223372036854775808\", \"aSint64\": \"-3\","
        " \"aSfixed64\": \"9223372036854775807\", \"aUint32\": 4294967295,"
        " \"aFixed32\": 7, \"aUint64\": \"18446744073709551615\", \"aFixed64\": \"1000\","
        " \"aFloat\": 1.5, \"aDouble\": \"-Infinity\", \"aBool\": true,"
        " \"ints\": [1, -2, 3], \"texts\": [\"a\", \"\", \"\xe1\xbb\x85\"],"
        " \"blobs\": [\"AAEC\", \"+/8=\", \"\"], \"maybeInt\": 0, \"pickText\": \"\"}";
    char errstr[256] = "";
    json_t *json = parse(in), *out = NULL, *expect = parse(want);
    ProtobufCMessage *msg = lt_json_to_pb(&all_descriptor, json, errstr, sizeof(errstr));
    ProtobufCMessage *again = NULL;
    size_t len = 0;
    uint8_t *buf;

    ASSERT_EQ_STR(errstr, "");
    ASSERT_TRUE(msg != NULL);
    if (msg) {
        out = lt_pb_to_json(msg);
        ASSERT_TRUE(out && json_equal(out, expect));
        json_decref(out);
        /* through the wire: the oneof "" and the has_ 0 keep their presence */
        buf = lt_pb_pack(msg, &len);
        again = protobuf_c_message_unpack(&all_descriptor, NULL, len, buf);
        free(buf);
        out = again ? lt_pb_to_json(again) : NULL;
        ASSERT_TRUE(out && json_equal(out, expect));
        json_decref(out);
    }
    free_msg(again);
    free_msg(msg);
    json_decref(json);
    json_decref(expect);
    ASSERT_JSON_MAPS(&all_descriptor, "{\"an_int32\": 1, \"a_double\": \"NaN\"}",
                     "{\"anInt32\": 1, \"aDouble\": \"NaN\"}");
    ASSERT_JSON_MAPS(&all_descriptor, "{\"aDouble\": \"1e-3\", \"aFloat\": \"Infinity\"}",
                     "{\"aDouble\": 0.001, \"aFloat\": \"Infinity\"}");
    ASSERT_JSON_MAPS(&all_descriptor, "{\"pickNumber\": 0, \"aBool\": false}",
                     "{\"pickNumber\": 0}");
}

static void expect_all_error(const char *text, const char *want)
{
    char errstr[256] = "";
    json_t *in = parse(text);
    ProtobufCMessage *msg = lt_json_to_pb(&all_descriptor, in, errstr, sizeof(errstr));

    ASSERT_TRUE(msg == NULL);
    ASSERT_EQ_STR(errstr, want);
    free_msg(msg);
    json_decref(in);
}

static void test_all_scalar_errors(void)
{
    expect_all_error("{\"anInt32\": 2147483648}",
                     "anInt32: number 2147483648 is out of range for int32");
    expect_all_error("{\"anInt32\": -2147483649}",
                     "anInt32: number -2147483649 is out of range for int32");
    expect_all_error("{\"aSint32\": \"-2147483649\"}",
                     "aSint32: string \"-2147483649\" is out of range for sint32");
    expect_all_error("{\"aFixed32\": -1}",
                     "aFixed32: number -1 is out of range for fixed32");
    expect_all_error("{\"aFixed64\": \"-1\"}",
                     "aFixed64: string \"-1\" is out of range for fixed64");
    expect_all_error("{\"aFloat\": 1e39}",
                     "aFloat: number 1e+39 is out of range for float");
    expect_all_error("{\"aDouble\": \"0x10\"}",
                     "aDouble: expected a number, got string \"0x10\"");
    expect_all_error("{\"aDouble\": \"inf\"}",
                     "aDouble: expected a number, got string \"inf\"");
    expect_all_error("{\"aDouble\": \"1e999\"}",
                     "aDouble: expected a number, got string \"1e999\"");
    expect_all_error("{\"aDouble\": true}",
                     "aDouble: expected a number, got boolean true");
    expect_all_error("{\"aBool\": \"true\"}",
                     "aBool: expected a boolean, got string \"true\"");
    expect_all_error("{\"aBool\": 1}", "aBool: expected a boolean, got number 1");
    expect_all_error("{\"ints\": [1, null]}", "ints[1]: expected an integer, got null");
    expect_all_error("{\"ints\": 1}", "ints: expected an array, got number 1");
    expect_all_error("{\"texts\": [\"ok\", 2]}",
                     "texts[1]: expected a string, got number 2");
    expect_all_error("{\"blobs\": [\"A\"]}",
                     "blobs[0]: invalid base64 (bad length or padding)");
    expect_all_error("{\"maybeInt\": 1.25}",
                     "maybeInt: expected an integer, got number 1.25");
    expect_all_error("{\"pickText\": \"x\", \"pickNumber\": 1}",
                     "test.All: pickText and pickNumber are both set, but they are "
                     "members of one oneof");
    expect_all_error("{\"pick_number\": 1, \"pickText\": null, \"pick_text\": \"\"}",
                     "test.All: field given twice, as pickText and as pick_text");
}

int main(void)
{
    RUN_TEST(test_round_trip_birth);
    RUN_TEST(test_round_trip_death);
    RUN_TEST(test_round_trip_dossier);
    RUN_TEST(test_round_trip_batch);
    RUN_TEST(test_birth_values);
    RUN_TEST(test_both_name_forms);
    RUN_TEST(test_int64_as_string);
    RUN_TEST(test_enums);
    RUN_TEST(test_bytes_base64);
    RUN_TEST(test_defaults_omitted);
    RUN_TEST(test_invalid_utf8_value);
    RUN_TEST(test_small_errstr);
    RUN_TEST(test_error_table);
    RUN_TEST(test_all_scalars);
    RUN_TEST(test_all_scalar_errors);
    return LT_TEST_EXIT();
}
