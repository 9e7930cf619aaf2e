/* test_codec — wire decoding under limits, the message checker, payload hashes. */
#include "lt_codec.h"

#include "lt_buf.h"
#include "lt_test.h"

/* A Batch with a birth record event and a dossier event, built on the stack.
 * The generated init functions are used instead of the INIT macros, whose
 * (char *) casts of protobuf_c_empty_string trip -Wcast-qual. */
typedef struct {
    Lienthong__V1__Batch batch;
    Lienthong__V1__Event ev[2];
    Lienthong__V1__Event *evp[2];
    Lienthong__V1__CivilRecord cr;
    Lienthong__V1__Registration reg;
    Lienthong__V1__PartialDate reg_on, dob;
    Lienthong__V1__BirthRecord birth;
    Lienthong__V1__Person child, mother;
    Lienthong__V1__PersonName child_name, mother_name, applicant_name;
    Lienthong__V1__Applicant applicant;
    Lienthong__V1__AdminUnitRef place;
    Lienthong__V1__Dossier dossier;
    Lienthong__V1__DossierStatusChange hist[2];
    Lienthong__V1__DossierStatusChange *histp[2];
    Lienthong__V1__Heartbeat hb;
    uint8_t prev_hash[LT_SHA256_LEN];
} sample_t;

static void sample_birth(sample_t *s)
{
    lienthong__v1__civil_record__init(&s->cr);
    lienthong__v1__registration__init(&s->reg);
    lienthong__v1__partial_date__init(&s->reg_on);
    lienthong__v1__partial_date__init(&s->dob);
    lienthong__v1__birth_record__init(&s->birth);
    lienthong__v1__person__init(&s->child);
    lienthong__v1__person__init(&s->mother);
    lienthong__v1__person_name__init(&s->child_name);
    lienthong__v1__person_name__init(&s->mother_name);
    lienthong__v1__admin_unit_ref__init(&s->place);
    s->reg_on.year = 2025, s->reg_on.month = 7, s->reg_on.day = 3;
    s->reg.authority = "00004";
    s->reg.book_number = "01/2025";
    s->reg.entry_number = "123";
    s->reg.registered_on = &s->reg_on;
    s->reg.officer = "Trần Thị Bình";
    s->dob.year = 2025, s->dob.month = 6, s->dob.day = 30;
    s->child_name.family = "Nguyễn";
    s->child_name.middle = "Văn";
    s->child_name.given = "An";
    s->child_name.full = "Nguyễn Văn An";
    s->child.name = &s->child_name;
    s->child.date_of_birth = &s->dob;
    s->child.sex = LIENTHONG__V1__SEX__SEX_MALE;
    s->child.ethnicity = "01";
    s->child.nationality = "VN";
    s->mother_name.full = "Lê Thị Hoa";
    s->mother.name = &s->mother_name;
    s->mother.personal_id = "001190012345";
    s->place.code = "00004";
    s->place.code_list_version = "2025-07-01";
    s->birth.child = &s->child;
    s->birth.mother = &s->mother;
    s->birth.place = &s->place;
    s->birth.birth_certificate_number = "GCS-77";
    s->cr.kind = LIENTHONG__V1__CIVIL_RECORD_KIND__CIVIL_RECORD_KIND_BIRTH;
    s->cr.registration = &s->reg;
    s->cr.record_case = LIENTHONG__V1__CIVIL_RECORD__RECORD_BIRTH;
    s->cr.birth = &s->birth;
}

static void sample_dossier(sample_t *s)
{
    size_t i;

    lienthong__v1__dossier__init(&s->dossier);
    lienthong__v1__applicant__init(&s->applicant);
    lienthong__v1__person_name__init(&s->applicant_name);
    s->applicant_name.full = "Phạm Minh Đức";
    s->applicant.name = &s->applicant_name;
    s->dossier.dossier_code = "000.00.04.H01-250703-0001";
    s->dossier.procedure_code = "1.001193";
    s->dossier.receiving_agency = "UBND xã Phúc Xá";
    s->dossier.applicant = &s->applicant;
    s->dossier.status = LIENTHONG__V1__DOSSIER_STATUS__DOSSIER_STATUS_IN_PROCESS;
    s->dossier.received_at_us = 1751500000000000;
    s->dossier.due_at_us = 1751900000000000;
    for (i = 0; i < 2; i++) {
        lienthong__v1__dossier_status_change__init(&s->hist[i]);
        s->hist[i].status = (Lienthong__V1__DossierStatus)(i + 1);
        s->hist[i].at_us = 1751500000000000 + (int64_t)i * 1000;
        s->hist[i].by = "cb01";
        s->histp[i] = &s->hist[i];
    }
    s->dossier.n_history = 2;
    s->dossier.history = s->histp;
}

static void sample_init(sample_t *s)
{
    size_t i;

    memset(s, 0, sizeof(*s));
    sample_birth(s);
    sample_dossier(s);
    for (i = 0; i < 2; i++) {
        lienthong__v1__event__init(&s->ev[i]);
        s->ev[i].seq = 41 + i;
        s->ev[i].version = 1;
        s->ev[i].op = LIENTHONG__V1__OP__OP_UPSERT;
        s->ev[i].occurred_at_us = 1751400000000000;
        s->ev[i].recorded_at_us = 1751500000000001;
        s->evp[i] = &s->ev[i];
    }
    s->ev[0].entity_type = LIENTHONG__V1__ENTITY_TYPE__ENTITY_TYPE_CIVIL_RECORD;
    s->ev[0].entity_id = "KS-2025-123";
    s->ev[0].payload_case = LIENTHONG__V1__EVENT__PAYLOAD_CIVIL_RECORD;
    s->ev[0].civil_record = &s->cr;
    s->ev[1].entity_type = LIENTHONG__V1__ENTITY_TYPE__ENTITY_TYPE_DOSSIER;
    s->ev[1].entity_id = "000.00.04.H01-250703-0001";
    s->ev[1].payload_case = LIENTHONG__V1__EVENT__PAYLOAD_DOSSIER;
    s->ev[1].dossier = &s->dossier;
    lienthong__v1__heartbeat__init(&s->hb);
    s->hb.at_us = 1751500000000002;
    s->hb.outbox_pending = 7;
    lienthong__v1__batch__init(&s->batch);
    s->batch.commune_code = "00004";
    s->batch.code_list_version = "2025-07-01";
    s->batch.agent_id = "agent-00004-a";
    s->batch.first_seq = 41;
    s->batch.last_seq = 42;
    memset(s->prev_hash, 0xAB, sizeof(s->prev_hash));
    s->batch.prev_batch_hash.data = s->prev_hash;
    s->batch.prev_batch_hash.len = sizeof(s->prev_hash);
    s->batch.created_at_us = 1751500000000003;
    s->batch.n_events = 2;
    s->batch.events = s->evp;
    s->batch.heartbeat = &s->hb;
}

/* Decode buf as a Batch with the default cap; expect failure `want` and a
 * message containing `needle`. */
static void expect_batch_error(const uint8_t *buf, size_t len, lt_decode_err_t want,
                               const char *needle)
{
    char errstr[256] = "";
    lt_decode_err_t err = LT_DECODE_OK;
    Lienthong__V1__Batch *batch = lt_batch_decode(buf, len, LT_BATCH_MAX_BYTES_DEFAULT,
                                                  &err, errstr, sizeof(errstr));

    ASSERT_TRUE(batch == NULL);
    ASSERT_EQ_STR(lt_decode_err_code(err), lt_decode_err_code(want));
    ASSERT_CONTAINS(errstr, needle);
    protobuf_c_message_free_unpacked((ProtobufCMessage *)batch, NULL);
}

/* Pack the sample's batch and expect decoding it to fail as expect_batch_error. */
static void expect_sample_error(const sample_t *s, lt_decode_err_t want, const char *needle)
{
    size_t len = 0;
    uint8_t *buf = lt_pb_pack(&s->batch.base, &len);

    expect_batch_error(buf, len, want, needle);
    free(buf);
}

static void test_batch_round_trip(void)
{
    sample_t s;
    char errstr[256] = "";
    lt_decode_err_t err = LT_DECODE_MALFORMED;
    size_t len = 0, len2 = 0;
    uint8_t *buf, *buf2;
    Lienthong__V1__Batch *batch;
    Lienthong__V1__Event *ev;

    sample_init(&s);
    buf = lt_pb_pack(&s.batch.base, &len);
    ASSERT_TRUE(buf != NULL);
    batch = lt_batch_decode(buf, len, LT_BATCH_MAX_BYTES_DEFAULT, &err, errstr,
                            sizeof(errstr));
    ASSERT_TRUE(batch != NULL);
    ASSERT_EQ_INT(err, LT_DECODE_OK);
    ASSERT_EQ_STR(errstr, "");
    if (batch == NULL) {
        free(buf);
        return;
    }
    ASSERT_EQ_STR(batch->commune_code, "00004");
    ASSERT_EQ_INT(batch->last_seq, 42);
    ASSERT_EQ_INT(batch->prev_batch_hash.len, LT_SHA256_LEN);
    ASSERT_EQ_INT(batch->n_events, 2);
    ev = batch->events[0];
    ASSERT_EQ_INT(ev->payload_case, LIENTHONG__V1__EVENT__PAYLOAD_CIVIL_RECORD);
    ASSERT_EQ_STR(ev->civil_record->birth->child->name->full, "Nguyễn Văn An");
    ASSERT_EQ_INT(batch->events[1]->payload_case, LIENTHONG__V1__EVENT__PAYLOAD_DOSSIER);
    ASSERT_EQ_INT(batch->events[1]->dossier->n_history, 2);
    ASSERT_EQ_STR(batch->events[1]->dossier->applicant->name->full, "Phạm Minh Đức");
    ASSERT_EQ_INT(batch->heartbeat->outbox_pending, 7);
    /* protobuf-c packs canonically: the decoded tree packs to the same bytes */
    buf2 = lt_pb_pack(&batch->base, &len2);
    ASSERT_EQ_INT(len2, len);
    ASSERT_TRUE(buf2 && memcmp(buf, buf2, len) == 0);
    free(buf2);
    free(buf);
    protobuf_c_message_free_unpacked((ProtobufCMessage *)batch, NULL);
}

static void test_signed_batch_round_trip(void)
{
    Lienthong__V1__SignedBatch sb, *out;
    uint8_t payload[] = {0x0A, 0x05, '0', '0', '0', '0', '4'}, sig[64];
    lt_decode_err_t err = LT_DECODE_MALFORMED;
    char errstr[256] = "";
    size_t len = 0;
    uint8_t *buf;

    memset(sig, 0x5A, sizeof(sig));
    lienthong__v1__signed_batch__init(&sb);
    sb.batch.data = payload, sb.batch.len = sizeof(payload);
    sb.signature.data = sig, sb.signature.len = sizeof(sig);
    sb.key_id = "ed25519:0123456789abcdef";
    buf = lt_pb_pack(&sb.base, &len);
    out = lt_signed_batch_decode(buf, len, 1024, &err, errstr, sizeof(errstr));
    ASSERT_TRUE(out != NULL);
    ASSERT_EQ_INT(err, LT_DECODE_OK);
    if (out) {
        ASSERT_EQ_STR(out->key_id, "ed25519:0123456789abcdef");
        ASSERT_EQ_INT(out->batch.len, sizeof(payload));
        ASSERT_TRUE(memcmp(out->batch.data, payload, sizeof(payload)) == 0);
        ASSERT_EQ_INT(out->signature.len, sizeof(sig));
    }
    protobuf_c_message_free_unpacked((ProtobufCMessage *)out, NULL);
    /* a NULL err pointer is allowed */
    out = lt_signed_batch_decode(buf, len, 4, NULL, errstr, sizeof(errstr));
    ASSERT_TRUE(out == NULL);
    ASSERT_CONTAINS(errstr, "lienthong.v1.SignedBatch");
    free(buf);
}

static void test_size_cap(void)
{
    sample_t s;
    char errstr[256] = "";
    lt_decode_err_t err = LT_DECODE_OK;
    size_t len = 0;
    uint8_t *buf;
    Lienthong__V1__Batch *batch;

    sample_init(&s);
    buf = lt_pb_pack(&s.batch.base, &len);
    batch = lt_batch_decode(buf, len, len - 1, &err, errstr, sizeof(errstr));
    ASSERT_TRUE(batch == NULL);
    ASSERT_EQ_INT(err, LT_DECODE_TOO_LARGE);
    ASSERT_EQ_STR(lt_decode_err_code(err), "too_large");
    ASSERT_CONTAINS(errstr, "over the cap");
    batch = lt_batch_decode(buf, len, len, &err, errstr, sizeof(errstr));
    ASSERT_TRUE(batch != NULL);
    ASSERT_EQ_INT(err, LT_DECODE_OK);
    protobuf_c_message_free_unpacked((ProtobufCMessage *)batch, NULL);
    free(buf);
}

static void test_malformed(void)
{
    static const uint8_t garbage[] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    static const uint8_t zero_tag[] = {0x00, 0x01};
    static const uint8_t wrong_wire_type[] = {0x08, 0x01}; /* commune_code as varint */
    static const uint8_t group[] = {0x0B, 0x0C};           /* groups are not supported */
    sample_t s;
    size_t len = 0;
    uint8_t *buf;

    expect_batch_error(garbage, sizeof(garbage), LT_DECODE_MALFORMED,
                       "lienthong.v1.Batch");
    expect_batch_error(zero_tag, sizeof(zero_tag), LT_DECODE_MALFORMED, "not a valid");
    expect_batch_error(wrong_wire_type, sizeof(wrong_wire_type), LT_DECODE_MALFORMED,
                       "not a valid");
    expect_batch_error(group, sizeof(group), LT_DECODE_MALFORMED, "not a valid");
    sample_init(&s);
    buf = lt_pb_pack(&s.batch.base, &len);
    expect_batch_error(buf, len - 3, LT_DECODE_MALFORMED, "not a valid"); /* truncated */
    free(buf);
}

/* Field 1000, wire type varint, value 1, appended to a packed Batch by hand:
 * the key 1000 << 3 = 8000 is the varint C0 3E. */
static void test_unknown_field_appended(void)
{
    sample_t s;
    size_t len = 0;
    uint8_t *buf, *longer;

    sample_init(&s);
    buf = lt_pb_pack(&s.batch.base, &len);
    longer = malloc(len + 3);
    memcpy(longer, buf, len);
    longer[len] = 0xC0, longer[len + 1] = 0x3E, longer[len + 2] = 0x01;
    expect_batch_error(longer, len + 3, LT_DECODE_UNKNOWN_FIELD,
                       "lienthong.v1.Batch: unknown field 1000");
    free(longer);
    free(buf);
}

static void test_unknown_field_nested(void)
{
    /* events[0] holding field 500 (key 4000 = A0 1F), hand-written */
    static const uint8_t in_event[] = {0x42, 0x03, 0xA0, 0x1F, 0x07};
    uint8_t data[] = {0x05};
    ProtobufCMessageUnknownField uf = {99, PROTOBUF_C_WIRE_TYPE_VARINT, 1, data};
    sample_t s;
    size_t len = 0;
    uint8_t *buf;

    expect_batch_error(in_event, sizeof(in_event), LT_DECODE_UNKNOWN_FIELD,
                       "events[0]: unknown field 500 (wire type 0) in "
                       "lienthong.v1.Event");
    /* protobuf-c packs the unknown fields it holds, so the packer can plant one
     * deep in the tree */
    sample_init(&s);
    s.applicant.base.n_unknown_fields = 1;
    s.applicant.base.unknown_fields = &uf;
    buf = lt_pb_pack(&s.batch.base, &len);
    expect_batch_error(buf, len, LT_DECODE_UNKNOWN_FIELD,
                       "events[1].dossier.applicant: unknown field 99");
    free(buf);
}

static void test_bad_text(void)
{
    sample_t s;

    sample_init(&s);
    s.applicant_name.full = "Ph\xE1\xBA"; /* cut inside a three-byte sequence */
    expect_sample_error(&s, LT_DECODE_BAD_TEXT,
                        "events[1].dossier.applicant.name.full: invalid UTF-8");

    sample_init(&s);
    s.child_name.given = "A\x1B[31mB";
    expect_sample_error(&s, LT_DECODE_BAD_TEXT,
                        "events[0].civil_record.birth.child.name.given: control character "
                        "(byte 0x1b at offset 1)");

    sample_init(&s);
    s.hist[1].by = "cb\x7F";
    expect_sample_error(&s, LT_DECODE_BAD_TEXT, "events[1].dossier.history[1].by");

    /* a C1 control (U+0085) is refused on the wire as the rules refuse it */
    sample_init(&s);
    s.child_name.given = "An\xC2\x85";
    expect_sample_error(&s, LT_DECODE_BAD_TEXT,
                        "events[0].civil_record.birth.child.name.given: control character "
                        "(byte 0xc2 at offset 2)");
}

/* protobuf-c would cut "ab\0cd" to "ab"; the wire scan refuses it instead. */
static void test_nul_in_string(void)
{
    static const uint8_t top[] = {0x0A, 0x05, 'a', 'b', 0x00, 'c', 'd'};
    static const uint8_t nested[] = {0x42, 0x00, 0x42, 0x05, 0x1A, 0x03, 'x', 0x00, 'y'};

    expect_batch_error(top, sizeof(top), LT_DECODE_BAD_TEXT,
                       "commune_code: control character (byte 0x00 at offset 2)");
    expect_batch_error(nested, sizeof(nested), LT_DECODE_BAD_TEXT, "events[1].entity_id");
}

/* proto3 enums are open on the wire: protobuf-c keeps any number. The check
 * walker refuses one its enum does not define, singular or in a repeated
 * message, as the JSON conversion does, so the sink quarantines it. */
static void test_bad_enum(void)
{
    sample_t s;
    char errstr[256] = "";

    sample_init(&s);
    s.child.sex = (Lienthong__V1__Sex)7;
    expect_sample_error(&s, LT_DECODE_BAD_ENUM,
                        "events[0].civil_record.birth.child.sex: 7 is not a value of "
                        "lienthong.v1.Sex");

    sample_init(&s);
    s.hist[1].status = (Lienthong__V1__DossierStatus)11;
    expect_sample_error(&s, LT_DECODE_BAD_ENUM,
                        "events[1].dossier.history[1].status: 11 is not a value of "
                        "lienthong.v1.DossierStatus");

    sample_init(&s);
    s.ev[1].op = (Lienthong__V1__Op)-1;
    ASSERT_EQ_INT(lt_pb_check(&s.batch.base, errstr, sizeof(errstr)), LT_DECODE_BAD_ENUM);
    ASSERT_EQ_STR(errstr, "events[1].op: -1 is not a value of lienthong.v1.Op");

    /* 0 (UNSPECIFIED) is a value of every enum */
    sample_init(&s);
    s.child.sex = LIENTHONG__V1__SEX__SEX_UNSPECIFIED;
    ASSERT_EQ_INT(lt_pb_check(&s.batch.base, errstr, sizeof(errstr)), LT_DECODE_OK);
}

static void test_pb_check_direct(void)
{
    sample_t s;
    char errstr[256] = "";

    sample_init(&s);
    ASSERT_EQ_INT(lt_pb_check(&s.batch.base, errstr, sizeof(errstr)), LT_DECODE_OK);
    /* a oneof member not selected is not looked at, even if its pointer aliases */
    s.cr.record_case = LIENTHONG__V1__CIVIL_RECORD__RECORD__NOT_SET;
    ASSERT_EQ_INT(lt_pb_check(&s.batch.base, errstr, sizeof(errstr)), LT_DECODE_OK);
    sample_init(&s);
    s.ev[0].entity_id = "\xC0\xAF"; /* overlong '/' */
    ASSERT_EQ_INT(lt_pb_check(&s.batch.base, errstr, sizeof(errstr)), LT_DECODE_BAD_TEXT);
    ASSERT_CONTAINS(errstr, "events[0].entity_id: invalid UTF-8 (byte 0xc0 at offset 0)");
}

typedef struct {
    const char *text;
    size_t len; /* 0: strlen */
    const char *why;
    size_t offset;
} text_case_t;

static void test_text_check(void)
{
    static const text_case_t cases[] = {
        {"", 0, NULL, 0},
        {"Nguyễn Văn Ánh, xã Phúc Xá", 0, NULL, 0},
        {"tab\tnewline\ncr\r", 0, NULL, 0},
        {"\xEF\xBF\xBF", 0, NULL, 0},         /* U+FFFF */
        {"\xF0\x9F\x98\x80", 0, NULL, 0},     /* U+1F600 */
        {"\xF4\x8F\xBF\xBF", 0, NULL, 0},     /* U+10FFFF */
        {"\xC2\xA0", 0, NULL, 0},             /* U+00A0, smallest two-byte text */
        {"ab\x01", 0, "control character", 2},
        {"\x7F", 0, "control character", 0},
        {"a\0b", 3, "control character", 1},
        {"\xC2\x80", 0, "control character", 0},  /* U+0080: C1 controls, refused */
        {"ab\xC2\x85", 0, "control character", 2}, /* U+0085 NEXT LINE */
        {"\xC2\x9F", 0, "control character", 0},  /* U+009F, the last of them */
        {"a\x80", 0, "invalid UTF-8", 1},     /* lone continuation */
        {"\xC0\xAF", 0, "invalid UTF-8", 0},  /* overlong two-byte */
        {"\xC1\xBF", 0, "invalid UTF-8", 0},
        {"\xE0\x80\xAF", 0, "invalid UTF-8", 0}, /* overlong three-byte */
        {"\xF0\x80\x80\xAF", 0, "invalid UTF-8", 0},
        {"x\xED\xA0\x80", 0, "invalid UTF-8", 1}, /* surrogate U+D800 */
        {"\xED\xBF\xBF", 0, "invalid UTF-8", 0},  /* surrogate U+DFFF */
        {"\xF4\x90\x80\x80", 0, "invalid UTF-8", 0}, /* U+110000 */
        {"\xF5\x80\x80\x80", 0, "invalid UTF-8", 0},
        {"\xFF", 0, "invalid UTF-8", 0},
        {"ab\xE1\xBB", 0, "invalid UTF-8", 2}, /* truncated at the end */
        {"\xE1\xBB" "a", 0, "invalid UTF-8", 0},
    };
    size_t i, off;
    const char *why;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const text_case_t *c = &cases[i];
        off = 999;
        why = lt_text_check(c->text, c->len ? c->len : strlen(c->text), &off);
        if (c->why == NULL) {
            ASSERT_TRUE(why == NULL);
            if (why)
                fprintf(stderr, "  case %zu: %s\n", i, why);
            continue;
        }
        ASSERT_EQ_STR(why, c->why);
        ASSERT_EQ_INT(off, c->offset);
    }
}

static void test_payload_hash(void)
{
    sample_t s;
    uint8_t h1[LT_SHA256_LEN], h2[LT_SHA256_LEN], want[LT_SHA256_LEN];
    size_t len = 0;
    uint8_t *buf;

    sample_init(&s);
    ASSERT_EQ_INT(lt_event_payload_hash(&s.ev[0], h1), 0);
    ASSERT_EQ_INT(lt_event_payload_hash(&s.ev[0], h2), 0);
    ASSERT_TRUE(memcmp(h1, h2, sizeof(h1)) == 0);
    buf = lt_pb_pack(&s.cr.base, &len);
    lt_sha256(buf, len, want);
    free(buf);
    ASSERT_TRUE(memcmp(h1, want, sizeof(h1)) == 0);
    s.child_name.given = "Án"; /* one letter of the payload changes */
    ASSERT_EQ_INT(lt_event_payload_hash(&s.ev[0], h2), 0);
    ASSERT_TRUE(memcmp(h1, h2, sizeof(h1)) != 0);
    /* event fields outside the payload do not change the payload hash */
    s.child_name.given = "An";
    s.ev[0].version = 99;
    ASSERT_EQ_INT(lt_event_payload_hash(&s.ev[0], h2), 0);
    ASSERT_TRUE(memcmp(h1, h2, sizeof(h1)) == 0);

    ASSERT_EQ_INT(lt_event_payload_hash(&s.ev[1], h1), 0);
    s.hist[0].at_us++;
    ASSERT_EQ_INT(lt_event_payload_hash(&s.ev[1], h2), 0);
    ASSERT_TRUE(memcmp(h1, h2, sizeof(h1)) != 0);

    s.ev[1].payload_case = LIENTHONG__V1__EVENT__PAYLOAD__NOT_SET;
    ASSERT_EQ_INT(lt_event_payload_hash(&s.ev[1], h1), -1);
    s.ev[1].payload_case = LIENTHONG__V1__EVENT__PAYLOAD_DOSSIER;
    s.ev[1].dossier = NULL;
    ASSERT_EQ_INT(lt_event_payload_hash(&s.ev[1], h1), -1);
}

static void test_sha256_hex(void)
{
    uint8_t digest[LT_SHA256_LEN];
    char hex[2 * LT_SHA256_LEN + 1];

    lt_sha256("abc", 3, digest);
    ASSERT_EQ_STR(lt_hex(digest, sizeof(digest), hex),
                  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    lt_sha256(NULL, 0, digest);
    ASSERT_EQ_STR(lt_hex(digest, sizeof(digest), hex),
                  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    ASSERT_EQ_STR(lt_hex(digest, 0, hex), "");
}

static void test_pack_empty(void)
{
    Lienthong__V1__Heartbeat hb;
    size_t len = 99;
    uint8_t *buf;

    lienthong__v1__heartbeat__init(&hb);
    buf = lt_pb_pack(&hb.base, &len);
    ASSERT_TRUE(buf != NULL);
    ASSERT_EQ_INT(len, 0);
    free(buf);
}

static void test_err_codes(void)
{
    ASSERT_EQ_STR(lt_decode_err_code(LT_DECODE_OK), "ok");
    ASSERT_EQ_STR(lt_decode_err_code(LT_DECODE_TOO_LARGE), "too_large");
    ASSERT_EQ_STR(lt_decode_err_code(LT_DECODE_MALFORMED), "malformed");
    ASSERT_EQ_STR(lt_decode_err_code(LT_DECODE_UNKNOWN_FIELD), "unknown_field");
    ASSERT_EQ_STR(lt_decode_err_code(LT_DECODE_BAD_TEXT), "bad_text");
    ASSERT_EQ_STR(lt_decode_err_code(LT_DECODE_BAD_ENUM), "bad_enum");
}

int main(void)
{
    RUN_TEST(test_batch_round_trip);
    RUN_TEST(test_signed_batch_round_trip);
    RUN_TEST(test_size_cap);
    RUN_TEST(test_malformed);
    RUN_TEST(test_unknown_field_appended);
    RUN_TEST(test_unknown_field_nested);
    RUN_TEST(test_bad_text);
    RUN_TEST(test_nul_in_string);
    RUN_TEST(test_bad_enum);
    RUN_TEST(test_pb_check_direct);
    RUN_TEST(test_text_check);
    RUN_TEST(test_payload_hash);
    RUN_TEST(test_sha256_hex);
    RUN_TEST(test_pack_empty);
    RUN_TEST(test_err_codes);
    return LT_TEST_EXIT();
}
