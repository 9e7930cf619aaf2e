/* lt_validate — the business rules (lt_rules) applied to protobuf payloads.
 *
 * One library for both levels: the agent refuses a row before it is numbered
 * and sent; the sink checks again as a defence and quarantines what fails.
 * It also extracts what the province indexes: the subject's name, its
 * comparison key, the personal ID and the late-registration flag. */
#ifndef LT_VALIDATE_H
#define LT_VALIDATE_H

#include "lienthong/v1/lienthong.pb-c.h"
#include "lt_rules.h"
#include "lt_units.h"

typedef struct lt_validate_ctx {
    const lt_units_t *units;       /* with lt_units_load_merges() done */
    const char *province;          /* the province the commune belongs to */
    const char *commune;           /* the sending commune */
    const char *code_list_version; /* the batch's */
} lt_validate_ctx_t;

typedef struct lt_validate_result {
    int code;          /* LT_RULE_OK or the failed rule; lt_rule_code_name() names it */
    char text[640];    /* "birth.child.personalId: ..." naming the field */
    int late;          /* registered after the legal time limit (a flag, not an error) */
    char subject_name[256];     /* the person the record is about, or the applicant */
    char subject_name_key[256]; /* lt_text_name_key of it */
    char personal_id[16];       /* the subject's personal ID, if any */
} lt_validate_result_t;

/* Check the payload of ev (deletes pass). Returns r->code. */
int lt_validate_event(const lt_validate_ctx_t *ctx, const Lienthong__V1__Event *ev,
                      lt_validate_result_t *r);

/* Replace every string of msg with its NFC form (the agent does this before
 * hashing, so both levels store and hash the same bytes). Returns 0, or -1
 * with errstr when a string is not valid text. */
int lt_pb_normalize_text(ProtobufCMessage *msg, char *errstr, size_t errstr_size);

/* 0 if every string of msg is NFC already, else -1 with the path in errstr. */
int lt_pb_check_nfc(const ProtobufCMessage *msg, char *errstr, size_t errstr_size);

#endif
