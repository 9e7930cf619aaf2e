#include "lt_validate.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lt_text.h"
#include "lt_util.h"
#include "lt_walk.h"

#define LT_VN_UTC_OFFSET (7 * 3600)

/* ----------------------------------------------------------- text walking */

/* The string visitor on lt_walk: every non-empty string of a payload, brought
 * to NFC (normalize) or only compared with its NFC form (check). */
typedef struct {
    int check_only;
    char *errstr;
    size_t errstr_size;
} lt_nfc_t;

static lt_walk_step_t lt_nfc_fail(lt_nfc_t *nfc, const lt_walk_t *walk, const char *what)
{
    lt_path_t path;

    lt_err(nfc->errstr, nfc->errstr_size, "%s: %s", lt_walk_field_path(walk, &path), what);
    return LT_WALK_STOP;
}

/* Only strings and the messages holding them. */
static lt_walk_step_t lt_nfc_field(void *arg, const lt_walk_t *walk,
                                   const ProtobufCFieldDescriptor *field)
{
    (void)arg;
    (void)walk;
    return field->type == PROTOBUF_C_TYPE_STRING || field->type == PROTOBUF_C_TYPE_MESSAGE
               ? LT_WALK_NEXT
               : LT_WALK_SKIP;
}

/* normalize owns the tree (lt_pb_normalize_text takes it non-const), so the
 * string slot the walk hands over may be replaced. */
static lt_walk_step_t lt_nfc_value(void *arg, const lt_walk_t *walk,
                                   const ProtobufCFieldDescriptor *field, const void *member)
{
    lt_nfc_t *nfc = arg;
    char **slot = (char **)(uintptr_t)member, inner[256], *norm;

    if (field->type == PROTOBUF_C_TYPE_MESSAGE)
        return *slot ? lt_nfc_fail(nfc, walk, "nested too deeply") : LT_WALK_NEXT;
    if (*slot == NULL || **slot == '\0')
        return LT_WALK_NEXT;
    int is_nfc = lt_text_is_nfc(*slot, strlen(*slot), LT_TEXT_MULTILINE, inner, sizeof(inner));
    if (is_nfc < 0)
        return lt_nfc_fail(nfc, walk, inner);
    if (is_nfc)
        return LT_WALK_NEXT; /* nothing to change: most text, decided without a copy */
    if (nfc->check_only)
        return lt_nfc_fail(nfc, walk, "text is not in Unicode NFC");
    norm = lt_text_nfc(*slot, strlen(*slot), LT_TEXT_MULTILINE, inner, sizeof(inner));
    if (!norm)
        return lt_nfc_fail(nfc, walk, inner);
    free(*slot);
    *slot = norm;
    return LT_WALK_NEXT;
}

static const lt_walk_visitor_t lt_nfc_visitor = {
    .field_begin = lt_nfc_field,
    .value = lt_nfc_value,
};

int lt_pb_normalize_text(ProtobufCMessage *msg, char *errstr, size_t errstr_size)
{
    lt_nfc_t nfc = {0, errstr, errstr_size};
    return lt_walk_message(msg, &lt_nfc_visitor, &nfc) == LT_WALK_NEXT ? 0 : -1;
}

int lt_pb_check_nfc(const ProtobufCMessage *msg, char *errstr, size_t errstr_size)
{
    lt_nfc_t nfc = {1, errstr, errstr_size};
    return lt_walk_message(msg, &lt_nfc_visitor, &nfc) == LT_WALK_NEXT ? 0 : -1;
}

/* ------------------------------------------------------------ helpers */

static lt_date_t lt_v_date(const Lienthong__V1__PartialDate *d)
{
    lt_date_t out = {0, 0, 0};
    if (d)
        out = (lt_date_t){(int)d->year, (int)d->month, (int)d->day};
    return out;
}

static int lt_v_fail(lt_validate_result_t *r, int code, const char *where, const char *detail)
{
    r->code = code;
    snprintf(r->text, sizeof(r->text), "%s: %s", where, detail);
    return code;
}

/* Run one rule; on failure record it with the field path. */
#define LT_V_RULE(r, where, call)                                                       \
    do {                                                                                \
        char detail_[400];                                                              \
        size_t errstr_size = sizeof(detail_);                                           \
        char *errstr = detail_;                                                         \
        int rc_ = (call);                                                               \
        (void)errstr_size;                                                              \
        (void)errstr;                                                                   \
        if (rc_ != LT_RULE_OK)                                                          \
            return lt_v_fail((r), rc_, (where), detail_);                               \
    } while (0)

static lt_sex_t lt_v_sex(Lienthong__V1__Sex sex)
{
    return sex == LIENTHONG__V1__SEX__SEX_MALE     ? LT_SEX_MALE
           : sex == LIENTHONG__V1__SEX__SEX_FEMALE ? LT_SEX_FEMALE
                                                   : LT_SEX_UNKNOWN;
}

static int lt_v_person(const lt_validate_ctx_t *ctx, const Lienthong__V1__Person *p,
                       const char *where, lt_validate_result_t *r)
{
    char path[128];
    if (!p)
        return 0;
    lt_date_t dob = lt_v_date(p->date_of_birth);
    snprintf(path, sizeof(path), "%s.dateOfBirth", where);
    if (dob.year)
        LT_V_RULE(r, path, lt_rule_date(dob, path, errstr, errstr_size));
    if (p->personal_id && p->personal_id[0]) {
        int abroad = p->nationality && p->nationality[0] && strcmp(p->nationality, "VN") != 0;
        snprintf(path, sizeof(path), "%s.personalId", where);
        LT_V_RULE(r, path,
                  lt_rule_personal_id(ctx->units, p->personal_id, abroad, lt_v_sex(p->sex),
                                      dob.year, errstr, errstr_size));
    }
    return 0;
}

static void lt_v_subject(lt_validate_result_t *r, const Lienthong__V1__PersonName *name,
                         const char *personal_id)
{
    if (name && name->full && name->full[0]) {
        lt_strlcpy(r->subject_name, name->full, sizeof(r->subject_name));
        char *key = lt_text_name_key(name->full, strlen(name->full), NULL, 0);
        if (key)
            lt_strlcpy(r->subject_name_key, key, sizeof(r->subject_name_key));
        free(key);
    }
    if (personal_id)
        lt_strlcpy(r->personal_id, personal_id, sizeof(r->personal_id));
}

static int lt_v_place(const lt_validate_ctx_t *ctx, const Lienthong__V1__AdminUnitRef *place,
                      lt_date_t registered, const char *where, lt_validate_result_t *r)
{
    if (!place || !place->code || !place->code[0])
        return 0;
    const char *version = place->code_list_version && place->code_list_version[0]
                              ? place->code_list_version
                              : ctx->code_list_version;
    LT_V_RULE(r, where,
              lt_rule_unit_ref(ctx->units, place->code, version, registered, errstr,
                               errstr_size));
    return 0;
}

/* The registering authority: a post-reform commune of this province, or before
 * the reform any unit of the old list. */
static int lt_v_authority(const lt_validate_ctx_t *ctx, const char *code, lt_date_t registered,
                          lt_validate_result_t *r)
{
    const char *where = "registration.authority";
    if (!code || !code[0])
        return 0;
    lt_date_t reform = {2025, 7, 1};
    if (registered.year && lt_rule_date_cmp(registered, reform) < 0) {
        lt_unit_at_t at;
        if (lt_units_lookup(ctx->units, code, "2025-06-30", &at) == 0)
            return 0;
    }
    LT_V_RULE(r, where,
              lt_rule_unit_ref(ctx->units, code, ctx->code_list_version, registered, errstr,
                               errstr_size));
    if (strlen(code) == 5)
        LT_V_RULE(r, where,
                  lt_rule_commune_in_province(ctx->units, code, ctx->province,
                                              ctx->code_list_version, errstr, errstr_size));
    return 0;
}

/* ------------------------------------------------------- civil records */

static int lt_v_birth(const lt_validate_ctx_t *ctx, const Lienthong__V1__BirthRecord *b,
                      lt_date_t registered, lt_validate_result_t *r)
{
    if (lt_v_person(ctx, b->child, "birth.child", r) || lt_v_person(ctx, b->mother, "birth.mother", r) ||
        lt_v_person(ctx, b->father, "birth.father", r) ||
        lt_v_place(ctx, b->place, registered, "birth.place", r))
        return r->code;
    lt_date_t born = lt_v_date(b->child ? b->child->date_of_birth : NULL);
    if (born.year && registered.year)
        LT_V_RULE(r, "registration.registeredOn",
                  lt_rule_date_not_before(registered, "registration date", born, "birth date",
                                          errstr, errstr_size));
    r->late = lt_rule_birth_registered_late(born, registered);
    if (b->child)
        lt_v_subject(r, b->child->name, b->child->personal_id);
    return 0;
}

static int lt_v_death(const lt_validate_ctx_t *ctx, const Lienthong__V1__DeathRecord *d,
                      lt_date_t registered, lt_validate_result_t *r)
{
    if (lt_v_person(ctx, d->deceased, "death.deceased", r) ||
        lt_v_place(ctx, d->place, registered, "death.place", r))
        return r->code;
    lt_date_t died = lt_v_date(d->date_of_death);
    lt_date_t born = lt_v_date(d->deceased ? d->deceased->date_of_birth : NULL);
    if (died.year) {
        LT_V_RULE(r, "death.dateOfDeath", lt_rule_date(died, "date of death", errstr, errstr_size));
        if (born.year)
            LT_V_RULE(r, "death.dateOfDeath",
                      lt_rule_date_not_before(died, "date of death", born, "birth date", errstr,
                                              errstr_size));
        if (registered.year)
            LT_V_RULE(r, "registration.registeredOn",
                      lt_rule_date_not_before(registered, "registration date", died,
                                              "date of death", errstr, errstr_size));
    }
    r->late = lt_rule_death_registered_late(died, registered);
    if (d->deceased)
        lt_v_subject(r, d->deceased->name, d->deceased->personal_id);
    return 0;
}

/* The person a record of another kind is about, and its persons to check. */
static int lt_v_other(const lt_validate_ctx_t *ctx, const Lienthong__V1__CivilRecord *c,
                      lt_validate_result_t *r)
{
    const Lienthong__V1__Person *subject = NULL, *second = NULL;
    const char *subject_where = "", *second_where = "";
    switch (c->record_case) {
    case LIENTHONG__V1__CIVIL_RECORD__RECORD_MARRIAGE:
        subject = c->marriage->husband, second = c->marriage->wife;
        subject_where = "marriage.husband", second_where = "marriage.wife";
        break;
    case LIENTHONG__V1__CIVIL_RECORD__RECORD_RECOGNITION:
        subject = c->recognition->child, second = c->recognition->parent;
        subject_where = "recognition.child", second_where = "recognition.parent";
        break;
    case LIENTHONG__V1__CIVIL_RECORD__RECORD_GUARDIANSHIP:
        subject = c->guardianship->ward, second = c->guardianship->guardian;
        subject_where = "guardianship.ward", second_where = "guardianship.guardian";
        break;
    case LIENTHONG__V1__CIVIL_RECORD__RECORD_MARITAL_STATUS:
        subject = c->marital_status->person, subject_where = "maritalStatus.person";
        break;
    default:
        return 0; /* amendments and annotations are about another record */
    }
    if (lt_v_person(ctx, subject, subject_where, r) || lt_v_person(ctx, second, second_where, r))
        return r->code;
    if (subject)
        lt_v_subject(r, subject->name, subject->personal_id);
    return 0;
}

/* CivilRecordKind value that goes with each member of the record oneof. */
static int lt_v_kind_matches(const Lienthong__V1__CivilRecord *c)
{
    static const struct {
        int record_case, kind;
    } pairs[] = {
        {LIENTHONG__V1__CIVIL_RECORD__RECORD_BIRTH, LIENTHONG__V1__CIVIL_RECORD_KIND__CIVIL_RECORD_KIND_BIRTH},
        {LIENTHONG__V1__CIVIL_RECORD__RECORD_DEATH, LIENTHONG__V1__CIVIL_RECORD_KIND__CIVIL_RECORD_KIND_DEATH},
        {LIENTHONG__V1__CIVIL_RECORD__RECORD_MARRIAGE, LIENTHONG__V1__CIVIL_RECORD_KIND__CIVIL_RECORD_KIND_MARRIAGE},
        {LIENTHONG__V1__CIVIL_RECORD__RECORD_RECOGNITION, LIENTHONG__V1__CIVIL_RECORD_KIND__CIVIL_RECORD_KIND_RECOGNITION},
        {LIENTHONG__V1__CIVIL_RECORD__RECORD_GUARDIANSHIP, LIENTHONG__V1__CIVIL_RECORD_KIND__CIVIL_RECORD_KIND_GUARDIANSHIP},
        {LIENTHONG__V1__CIVIL_RECORD__RECORD_AMENDMENT, LIENTHONG__V1__CIVIL_RECORD_KIND__CIVIL_RECORD_KIND_AMENDMENT},
        {LIENTHONG__V1__CIVIL_RECORD__RECORD_MARITAL_STATUS, LIENTHONG__V1__CIVIL_RECORD_KIND__CIVIL_RECORD_KIND_MARITAL_STATUS},
        {LIENTHONG__V1__CIVIL_RECORD__RECORD_ANNOTATION, LIENTHONG__V1__CIVIL_RECORD_KIND__CIVIL_RECORD_KIND_ANNOTATION},
    };
    for (size_t i = 0; i < sizeof(pairs) / sizeof(*pairs); i++)
        if ((int)c->record_case == pairs[i].record_case)
            return (int)c->kind == pairs[i].kind;
    return 0;
}

static int lt_v_civil(const lt_validate_ctx_t *ctx, const Lienthong__V1__CivilRecord *c,
                      lt_validate_result_t *r)
{
    if (!lt_v_kind_matches(c))
        return lt_v_fail(r, LT_RULE_KIND_MISMATCH, "kind",
                         "the record kind does not match the record it carries");
    lt_date_t registered = lt_v_date(c->registration ? c->registration->registered_on : NULL);
    if (registered.year)
        LT_V_RULE(r, "registration.registeredOn",
                  lt_rule_date(registered, "registration date", errstr, errstr_size));
    if (c->registration && lt_v_authority(ctx, c->registration->authority, registered, r))
        return r->code;
    if (c->record_case == LIENTHONG__V1__CIVIL_RECORD__RECORD_BIRTH)
        return lt_v_birth(ctx, c->birth, registered, r);
    if (c->record_case == LIENTHONG__V1__CIVIL_RECORD__RECORD_DEATH)
        return lt_v_death(ctx, c->death, registered, r);
    return lt_v_other(ctx, c, r);
}

/* ------------------------------------------------------------ dossiers */

static lt_dossier_status_t lt_v_status(Lienthong__V1__DossierStatus status)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&lienthong__v1__dossier_status__descriptor, status);
    return v ? lt_rule_status_from_name(v->name) : LT_DOSSIER_UNSPECIFIED;
}

/* Every step of the history (refused as a whole past LT_DOSSIER_HISTORY_MAX,
 * never checked in part), and the current status is its last. */
static int lt_v_history(const Lienthong__V1__Dossier *d, lt_dossier_status_t status,
                        lt_validate_result_t *r)
{
    lt_dossier_step_t steps[LT_DOSSIER_HISTORY_MAX];
    size_t n = d->n_history;
    LT_V_RULE(r, "history", lt_rule_dossier_history_length(n, errstr, errstr_size));
    for (size_t i = 0; i < n; i++)
        steps[i] = (lt_dossier_step_t){lt_v_status(d->history[i]->status),
                                       d->history[i]->at_us};
    LT_V_RULE(r, "history", lt_rule_dossier_history(steps, n, errstr, errstr_size));
    if (n && steps[n - 1].status != status) {
        char detail[160];
        snprintf(detail, sizeof(detail),
                 "%s differs from the last status of the history, %s",
                 lt_rule_status_name(status), lt_rule_status_name(steps[n - 1].status));
        return lt_v_fail(r, LT_RULE_BAD_STATUS_TRANSITION, "status", detail);
    }
    return 0;
}

static int lt_v_dossier(const lt_validate_ctx_t *ctx, const Lienthong__V1__Dossier *d,
                        lt_validate_result_t *r)
{
    lt_date_t received = d->received_at_us ? lt_rule_date_from_us(d->received_at_us, LT_VN_UTC_OFFSET)
                                            : (lt_date_t){0, 0, 0};
    LT_V_RULE(r, "dossierCode",
              lt_rule_dossier_code(d->dossier_code, received, errstr, errstr_size));
    lt_dossier_status_t status = lt_v_status(d->status);
    if (status == LT_DOSSIER_UNSPECIFIED)
        return lt_v_fail(r, LT_RULE_BAD_STATUS, "status", "no dossier status");
    LT_V_RULE(r, "receivedAtUs",
              lt_rule_dossier_received(status, d->n_history, d->received_at_us, errstr,
                                       errstr_size));
    if (lt_v_history(d, status, r) != 0)
        return r->code;
    if (d->applicant)
        lt_v_subject(r, d->applicant->name, NULL);
    (void)ctx;
    return 0;
}

int lt_validate_event(const lt_validate_ctx_t *ctx, const Lienthong__V1__Event *ev,
                      lt_validate_result_t *r)
{
    memset(r, 0, sizeof(*r));
    if (ev->payload_case == LIENTHONG__V1__EVENT__PAYLOAD_CIVIL_RECORD)
        return lt_v_civil(ctx, ev->civil_record, r);
    if (ev->payload_case == LIENTHONG__V1__EVENT__PAYLOAD_DOSSIER)
        return lt_v_dossier(ctx, ev->dossier, r);
    return 0;
}
