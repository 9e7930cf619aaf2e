/* test_json_pb — the proto3 JSON mapping: round trips of real records (one
 * file per civil-record kind, a full dossier, a batch, a signed batch) that
 * between them set every field of every message type of the wire model, every
 * enum value by name and number, every scalar type through a hand-written
 * descriptor, and a table of errors in $LT_TEST_DATA/json_pb/errors.tsv. */
#include "lt_json_pb.h"

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>

#include "lt_buf.h"
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

/* msg as the one JSON writer writes it, read back into a tree to compare. */
static json_t *to_json(const ProtobufCMessage *msg)
{
    lt_buf_t text = {0};
    json_t *json;

    lt_pb_write_json(msg, &text);
    json = parse(lt_buf_cstr(&text));
    lt_buf_free(&text);
    return json;
}

/* JSON text -> message of desc -> JSON; NULL (and errstr) if conversion fails. */
static json_t *through_pb(const ProtobufCMessageDescriptor *desc, const char *text,
                          char *errstr, size_t errstr_size)
{
    json_t *in = parse(text), *out = NULL;
    ProtobufCMessage *msg = in ? lt_json_to_pb(desc, in, errstr, errstr_size) : NULL;

    if (msg)
        out = to_json(msg);
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

/* Asserts that text does not convert, with an error message equal to want. */
#define ASSERT_JSON_REFUSED(desc, text, want)                                           \
    do {                                                                                \
        char errstr_[256] = "";                                                         \
        json_t *got_ = through_pb(desc, text, errstr_, sizeof(errstr_));                \
        ASSERT_TRUE(got_ == NULL);                                                      \
        ASSERT_EQ_STR(errstr_, want);                                                   \
        json_decref(got_);                                                              \
    } while (0)

/* ------------------------------------------------------------------ the model */

/* Every message type of the wire contract: the types reachable from Batch and
 * SignedBatch (the roots of what travels), found through the descriptors, so a
 * type added to the .proto is covered without editing a list here. */
#define MODEL_MAX 64

static const ProtobufCMessageDescriptor *model[MODEL_MAX];
static size_t n_model;

static void model_add(const ProtobufCMessageDescriptor *desc)
{
    size_t i;

    for (i = 0; i < n_model; i++) {
        if (model[i] == desc)
            return;
    }
    ASSERT_TRUE(n_model < MODEL_MAX);
    if (n_model == MODEL_MAX)
        return;
    model[n_model++] = desc;
    for (i = 0; i < desc->n_fields; i++) {
        if (desc->fields[i].type == PROTOBUF_C_TYPE_MESSAGE)
            model_add(desc->fields[i].descriptor);
    }
}

static void model_init(void)
{
    if (n_model == 0) {
        model_add(&lienthong__v1__signed_batch__descriptor);
        model_add(&lienthong__v1__batch__descriptor);
    }
}

static size_t model_index(const ProtobufCMessageDescriptor *desc)
{
    size_t i;

    for (i = 0; i < n_model && model[i] != desc; i++)
        ;
    return i;
}

/* lowerCamelCase of a field name, as the proto3 JSON mapping writes it. */
static const char *json_name(const char *name, char *buf, size_t size)
{
    size_t n = 0;
    int upper = 0;

    for (; *name && n + 1 < size; name++) {
        if (*name == '_') {
            upper = 1;
            continue;
        }
        buf[n++] =
            upper && *name >= 'a' && *name <= 'z' ? (char)(*name - 'a' + 'A') : *name;
        upper = 0;
    }
    buf[n] = '\0';
    return buf;
}

/* ------------------------------------------------------------------ files */

/* Every file in $LT_TEST_DATA/json_pb/ is a round-trip case of this type.
 * Between them they set every field of every message type of the model
 * (test_files_cover_model). */
static const struct {
    const char *name;
    const ProtobufCMessageDescriptor *desc;
} round_trip_files[] = {
    {"batch.json", &lienthong__v1__batch__descriptor},
    {"signed_batch.json", &lienthong__v1__signed_batch__descriptor},
    {"resync_batch.json", &lienthong__v1__batch__descriptor},
    {"birth.json", &lienthong__v1__event__descriptor},
    {"death.json", &lienthong__v1__event__descriptor},
    {"marriage.json", &lienthong__v1__event__descriptor},
    {"recognition.json", &lienthong__v1__event__descriptor},
    {"guardianship.json", &lienthong__v1__event__descriptor},
    {"amendment.json", &lienthong__v1__event__descriptor},
    {"marital_status.json", &lienthong__v1__event__descriptor},
    {"annotation.json", &lienthong__v1__event__descriptor},
    {"dossier.json", &lienthong__v1__event__descriptor},
};
#define N_ROUND_TRIP_FILES (sizeof(round_trip_files) / sizeof(round_trip_files[0]))

static char *data_path(const char *name, char *buf, size_t size)
{
    const char *dir = getenv("LT_TEST_DATA");

    snprintf(buf, size, "%s/json_pb/%s", dir ? dir : "tests/data", name);
    return buf;
}

/* The message in a data file, or NULL after a failed check; *json is the file. */
static ProtobufCMessage *load_file(const char *name,
                                   const ProtobufCMessageDescriptor *desc, json_t **json)
{
    char path[512], errstr[256] = "";
    json_error_t jerr;
    json_t *in = json_load_file(data_path(name, path, sizeof(path)), 0, &jerr);
    ProtobufCMessage *msg;

    *json = in;
    ASSERT_TRUE(in != NULL);
    if (in == NULL) {
        fprintf(stderr, "  %s: %s (set LT_TEST_DATA)\n", path, jerr.text);
        return NULL;
    }
    msg = lt_json_to_pb(desc, in, errstr, sizeof(errstr));
    ASSERT_EQ_STR(errstr, "");
    ASSERT_TRUE(msg != NULL);
    if (msg == NULL)
        fprintf(stderr, "  in %s\n", name);
    return msg;
}

/* file -> pb -> JSON equals the file; pb -> wire -> decode+check -> JSON too;
 * an event's contentHash, where the file gives one, is its payload's hash. */
static void round_trip_file(const char *name, const ProtobufCMessageDescriptor *desc)
{
    char errstr[256] = "";
    json_t *in, *out;
    ProtobufCMessage *msg = load_file(name, desc, &in), *again = NULL;
    const Lienthong__V1__Event *ev;
    size_t len = 0;
    uint8_t *buf, hash[LT_SHA256_LEN];

    if (msg == NULL) {
        json_decref(in);
        return;
    }
    out = to_json(msg);
    ASSERT_TRUE(out && json_equal(in, out));
    if (!(out && json_equal(in, out)))
        fprintf(stderr, "  %s does not come back as it is\n", name);
    json_decref(out);
    buf = lt_pb_pack(msg, &len);
    again = protobuf_c_message_unpack(desc, NULL, len, buf);
    ASSERT_TRUE(again != NULL);
    if (again) {
        ASSERT_EQ_INT(lt_pb_check(again, errstr, sizeof(errstr)), LT_DECODE_OK);
        ASSERT_EQ_STR(errstr, "");
        out = to_json(again);
        ASSERT_TRUE(out && json_equal(in, out));
        json_decref(out);
    }
    ev = desc == &lienthong__v1__event__descriptor ? (const Lienthong__V1__Event *)msg
                                                   : NULL;
    if (ev && ev->content_hash.len) {
        ASSERT_EQ_INT(ev->content_hash.len, LT_SHA256_LEN);
        ASSERT_EQ_INT(lt_event_payload_hash(ev, hash), 0);
        ASSERT_TRUE(memcmp(ev->content_hash.data, hash, LT_SHA256_LEN) == 0);
        if (memcmp(ev->content_hash.data, hash, LT_SHA256_LEN) != 0)
            fprintf(stderr, "  %s: contentHash is not the payload's SHA-256\n", name);
    }
    free(buf);
    free_msg(again);
    free_msg(msg);
    json_decref(in);
}

static void test_round_trip_files(void)
{
    size_t i;

    for (i = 0; i < N_ROUND_TRIP_FILES; i++)
        round_trip_file(round_trip_files[i].name, round_trip_files[i].desc);
}

/* No *.json file in the directory is left out of round_trip_files. */
static void test_every_file_listed(void)
{
    char path[512];
    DIR *dir = opendir(data_path(".", path, sizeof(path)));
    struct dirent *de;
    size_t i, listed = 0;

    ASSERT_TRUE(dir != NULL);
    if (dir == NULL)
        return;
    while ((de = readdir(dir)) != NULL) {
        size_t len = strlen(de->d_name);

        if (len < 5 || strcmp(de->d_name + len - 5, ".json") != 0)
            continue;
        for (i = 0; i < N_ROUND_TRIP_FILES; i++) {
            if (strcmp(round_trip_files[i].name, de->d_name) == 0)
                break;
        }
        ASSERT_TRUE(i < N_ROUND_TRIP_FILES);
        if (i == N_ROUND_TRIP_FILES)
            fprintf(stderr, "  json_pb/%s is not in round_trip_files\n", de->d_name);
        else
            listed++;
    }
    closedir(dir);
    ASSERT_EQ_INT(listed, N_ROUND_TRIP_FILES);
}

/* Bit f of seen_fields[m]: field f of model[m] is set in some data file. */
static uint64_t seen_fields[MODEL_MAX];

static int field_is_set(const ProtobufCMessage *msg,
                        const ProtobufCFieldDescriptor *field)
{
    const char *base = (const char *)msg;
    const void *member = base + field->offset;

    if (field->label == PROTOBUF_C_LABEL_REPEATED)
        return *(const size_t *)(const void *)(base + field->quantifier_offset) != 0;
    if (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return *(const uint32_t *)(const void *)(base + field->quantifier_offset) ==
               field->id;
    switch (field->type) {
    case PROTOBUF_C_TYPE_MESSAGE:
        return *(const ProtobufCMessage *const *)member != NULL;
    case PROTOBUF_C_TYPE_STRING:
        return **(const char *const *)member != '\0';
    case PROTOBUF_C_TYPE_BYTES:
        return ((const ProtobufCBinaryData *)member)->len != 0;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return *(const uint64_t *)member != 0;
    case PROTOBUF_C_TYPE_BOOL:
        return *(const protobuf_c_boolean *)member != 0;
    default: /* 32-bit integers, enums, float */
        return *(const uint32_t *)member != 0;
    }
}

static void mark_fields(const ProtobufCMessage *msg)
{
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    size_t m = model_index(desc), f, i, n;

    ASSERT_TRUE(m < n_model);
    if (m == n_model)
        return;
    for (f = 0; f < desc->n_fields && f < 64; f++) {
        const ProtobufCFieldDescriptor *field = &desc->fields[f];
        const char *member = (const char *)msg + field->offset;

        if (!field_is_set(msg, field))
            continue;
        seen_fields[m] |= (uint64_t)1 << f;
        if (field->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        if (field->label == PROTOBUF_C_LABEL_REPEATED) {
            ProtobufCMessage *const *arr =
                *(ProtobufCMessage *const *const *)(const void *)member;

            n = *(const size_t *)(const void *)((const char *)msg +
                                                field->quantifier_offset);
            for (i = 0; i < n; i++)
                mark_fields(arr[i]);
        } else {
            mark_fields(*(const ProtobufCMessage *const *)(const void *)member);
        }
    }
}

/* Every field of every message type of the model is set in some data file, so
 * the round trips exercise the whole contract. */
static void test_files_cover_model(void)
{
    size_t i, m, f;
    json_t *in;
    char name[128];

    model_init();
    memset(seen_fields, 0, sizeof(seen_fields));
    for (i = 0; i < N_ROUND_TRIP_FILES; i++) {
        ProtobufCMessage *msg =
            load_file(round_trip_files[i].name, round_trip_files[i].desc, &in);

        if (msg)
            mark_fields(msg);
        free_msg(msg);
        json_decref(in);
    }
    ASSERT_TRUE(n_model >= 24);
    for (m = 0; m < n_model; m++) {
        ASSERT_TRUE(model[m]->n_fields <= 64);
        for (f = 0; f < model[m]->n_fields && f < 64; f++) {
            int seen = (int)((seen_fields[m] >> f) & 1);

            ASSERT_TRUE(seen);
            if (!seen)
                fprintf(stderr, "  %s.%s is set in no json_pb/*.json file\n",
                        model[m]->name,
                        json_name(model[m]->fields[f].name, name, sizeof(name)));
        }
    }
}

/* Every value of every enum of the model maps by name and by number. */
static void test_enum_values(void)
{
    size_t m, f;
    unsigned v;
    char name[128], text[256], want[256];

    model_init();
    for (m = 0; m < n_model; m++) {
        for (f = 0; f < model[m]->n_fields; f++) {
            const ProtobufCFieldDescriptor *field = &model[m]->fields[f];
            const ProtobufCEnumDescriptor *e = field->descriptor;

            if (field->type != PROTOBUF_C_TYPE_ENUM)
                continue;
            json_name(field->name, name, sizeof(name));
            ASSERT_TRUE(e->n_values >= 3 && e->values[0].value == 0);
            for (v = 0; v < e->n_values; v++) {
                const ProtobufCEnumValue *ev = &e->values[v];

                if (ev->value == 0)
                    snprintf(want, sizeof(want), "{}");
                else
                    snprintf(want, sizeof(want), "{\"%s\": \"%s\"}", name, ev->name);
                snprintf(text, sizeof(text), "{\"%s\": \"%s\"}", name, ev->name);
                ASSERT_JSON_MAPS(model[m], text, want);
                snprintf(text, sizeof(text), "{\"%s\": %d}", name, ev->value);
                ASSERT_JSON_MAPS(model[m], text, want);
            }
        }
    }
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

/* The full dossier, and the status and channel numbers, which are the
 * National Public Service Portal's codes. */
static void test_dossier_values(void)
{
    json_t *in;
    Lienthong__V1__Event *ev = (Lienthong__V1__Event *)load_file(
        "dossier.json", &lienthong__v1__event__descriptor, &in);
    Lienthong__V1__Dossier *d;

    ASSERT_EQ_INT(LIENTHONG__V1__DOSSIER_STATUS__DOSSIER_STATUS_NEW, 1);
    ASSERT_EQ_INT(LIENTHONG__V1__DOSSIER_STATUS__DOSSIER_STATUS_NOT_ACCEPTED, 3);
    ASSERT_EQ_INT(LIENTHONG__V1__DOSSIER_STATUS__DOSSIER_STATUS_IN_PROCESS, 4);
    ASSERT_EQ_INT(LIENTHONG__V1__DOSSIER_STATUS__DOSSIER_STATUS_WITHDRAWN, 7);
    ASSERT_EQ_INT(LIENTHONG__V1__DOSSIER_STATUS__DOSSIER_STATUS_PROCESSED, 9);
    ASSERT_EQ_INT(LIENTHONG__V1__DOSSIER_STATUS__DOSSIER_STATUS_RESULT_RETURNED, 10);
    ASSERT_EQ_INT(lienthong__v1__dossier_status__descriptor.n_values, 11);
    ASSERT_EQ_INT(LIENTHONG__V1__DOSSIER_CHANNEL__DOSSIER_CHANNEL_POSTAL, 3);
    ASSERT_TRUE(ev != NULL);
    if (ev == NULL) {
        json_decref(in);
        return;
    }
    ASSERT_EQ_INT(ev->payload_case, LIENTHONG__V1__EVENT__PAYLOAD_DOSSIER);
    d = ev->dossier;
    ASSERT_EQ_STR(d->dossier_code, ev->entity_id);
    ASSERT_EQ_INT(d->applicant->type,
                  LIENTHONG__V1__APPLICANT_TYPE__APPLICANT_TYPE_CITIZEN);
    ASSERT_EQ_STR(d->applicant->name->full, "Phạm Minh Đức");
    ASSERT_EQ_INT(d->channel, LIENTHONG__V1__DOSSIER_CHANNEL__DOSSIER_CHANNEL_ONLINE);
    ASSERT_EQ_INT(d->n_history, 7);
    ASSERT_EQ_INT(d->history[3]->status,
                  LIENTHONG__V1__DOSSIER_STATUS__DOSSIER_STATUS_SUPPLEMENT_REQUESTED);
    ASSERT_EQ_INT(d->history[d->n_history - 1]->status, d->status);
    ASSERT_EQ_INT(d->history[d->n_history - 1]->at_us, d->returned_at_us);
    ASSERT_TRUE(d->finished_at_us <= d->due_at_us);
    ASSERT_EQ_INT(d->timeliness,
                  LIENTHONG__V1__DOSSIER_TIMELINESS__DOSSIER_TIMELINESS_ON_TIME);
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
    ASSERT_JSON_MAPS(p, "{\"sex\": \"SEX_UNSPECIFIED\"}", "{}");
    ASSERT_JSON_MAPS(p, "{\"sex\": 0}", "{}");
    /* A number outside the enum would be stored as a code nobody can read:
     * refused, like an unknown name. */
    ASSERT_JSON_REFUSED(p, "{\"sex\": 7}",
                        "sex: number 7 is not a value of lienthong.v1.Sex");
    ASSERT_JSON_REFUSED(p, "{\"sex\": -3}",
                        "sex: number -3 is not a value of lienthong.v1.Sex");
    ASSERT_JSON_REFUSED(&lienthong__v1__dossier__descriptor,
                        "{\"history\": [{\"status\": 4}, {\"status\": 11}]}",
                        "history[1].status: number 11 is not a value of "
                        "lienthong.v1.DossierStatus");
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
    json_t *out = ev ? to_json(&ev->base) : NULL;

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

/* A message type of the model by its short name ("Event"), or NULL. */
static const ProtobufCMessageDescriptor *descriptor_named(const char *name)
{
    size_t i;

    model_init();
    for (i = 0; i < n_model; i++) {
        if (strcmp(model[i]->short_name, name) == 0)
            return model[i];
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
        out = to_json(msg);
        ASSERT_TRUE(out && json_equal(out, expect));
        json_decref(out);
        /* through the wire: the oneof "" and the has_ 0 keep their presence */
        buf = lt_pb_pack(msg, &len);
        again = protobuf_c_message_unpack(&all_descriptor, NULL, len, buf);
        free(buf);
        out = again ? to_json(again) : NULL;
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
    RUN_TEST(test_round_trip_files);
    RUN_TEST(test_every_file_listed);
    RUN_TEST(test_files_cover_model);
    RUN_TEST(test_enum_values);
    RUN_TEST(test_birth_values);
    RUN_TEST(test_dossier_values);
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
