/* lt_rules — business rules on civil-status records and dossiers, as pure
 * functions over plain C values (no protobuf types: a glue layer applies them
 * to messages).
 *
 * Every check returns LT_RULE_OK (0) or a negative lt_rule_code_t, and on
 * failure writes into (errstr, errstr_size) a sentence that names the input,
 * e.g. "personal ID 001200012345: digit 4 is 2 (male, born 2000-2099) but the
 * sex is female". lt_rule_code_name() gives the stable machine-readable name of
 * a code, e.g. "personal_id_sex_mismatch". */
#ifndef LT_RULES_H
#define LT_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "lt_text.h"
#include "lt_units.h"

/* Reason codes. Values and names are stable (stored with quarantined records):
 * add new ones at the end, never renumber. */
typedef enum {
    LT_RULE_OK = 0,
    LT_RULE_BAD_TEXT = -1,              /* invalid UTF-8 or a control character */
    LT_RULE_BAD_DATE = -2,              /* not a calendar date (partial allowed) */
    LT_RULE_DATE_ORDER = -3,            /* certainly before a date it cannot precede */
    LT_RULE_BAD_CODE_LIST_VERSION = -4, /* not a code-list version this build knows */
    LT_RULE_BAD_UNIT_CODE = -5,         /* not a unit of that code list */
    LT_RULE_OLD_CODE_AFTER_REFORM = -6, /* pre-reform code on a record of 2025-07-01 on */
    LT_RULE_COMMUNE_NOT_IN_PROVINCE = -7,
    LT_RULE_BAD_PERSONAL_ID = -8,
    LT_RULE_PERSONAL_ID_SEX_MISMATCH = -9,
    LT_RULE_PERSONAL_ID_YEAR_MISMATCH = -10,
    LT_RULE_BAD_DOSSIER_CODE = -11,
    LT_RULE_DOSSIER_CODE_DATE_MISMATCH = -12,
    LT_RULE_BAD_STATUS = -13,            /* unspecified or unknown status value */
    LT_RULE_BAD_STATUS_TRANSITION = -14, /* not in the transition table */
    LT_RULE_TERMINAL_STATUS = -15,       /* a change out of a terminal status */
    LT_RULE_TIME_ORDER = -16,            /* status history times go backwards */
    LT_RULE_KIND_MISMATCH = -17,         /* a record kind that is not the record carried */
    LT_RULE_MISSING_RECEIVED_AT = -18,   /* received, but nothing says when */
    LT_RULE_HISTORY_TOO_LONG = -19,      /* more than LT_DOSSIER_HISTORY_MAX steps */
} lt_rule_code_t;

/* "ok", "bad_text", "bad_date", ..., or "unknown" for any other value. */
const char *lt_rule_code_name(int code);

/* ------------------------------------------------------------ text */

/* s (NUL-terminated) must be valid text of kind; what names the field. */
int lt_rule_text(const char *s, const char *what, lt_text_kind_t kind, char *errstr,
                 size_t errstr_size) __attribute__((warn_unused_result));

/* ------------------------------------------------------------ dates */

/* A PartialDate: year required; month 0 = unknown; day 0 = unknown (and must be
 * 0 when the month is unknown). {0, 0, 0} is "no date". */
typedef struct lt_date {
    int year, month, day;
} lt_date_t;

#define LT_BIRTH_REGISTRATION_DAYS 60 /* Luật Hộ tịch: register a birth within 60 days \
                                       */
#define LT_DEATH_REGISTRATION_DAYS 15 /* and a death within 15 days */

/* A valid (possibly partial) calendar date, year 1..9999. what names the field. */
int lt_rule_date(lt_date_t date, const char *what, char *errstr, size_t errstr_size)
    __attribute__((warn_unused_result));

/* -1 if a is certainly before b, 1 if certainly after, 0 if they may be the same
 * day (unknown parts cover every value they could take). Both must be valid. */
int lt_rule_date_cmp(lt_date_t a, lt_date_t b);

/* Checks both dates, then that later is not certainly before earlier (e.g. the
 * registration not before the birth, the death not before the birth): fails
 * with LT_RULE_DATE_ORDER only when every reading of the unknown parts puts
 * later first. A "no date" side is skipped. */
int lt_rule_date_not_before(lt_date_t later, const char *later_what, lt_date_t earlier,
                            const char *earlier_what, char *errstr, size_t errstr_size)
    __attribute__((warn_unused_result));

/* Late-registration flags (not errors): 1 if registered is certainly more than
 * LT_BIRTH_REGISTRATION_DAYS after birth (resp. LT_DEATH_REGISTRATION_DAYS after
 * death), 0 otherwise, also when a date is missing or invalid. */
int lt_rule_birth_registered_late(lt_date_t birth, lt_date_t registered);
int lt_rule_death_registered_late(lt_date_t death, lt_date_t registered);

/* The civil date of Unix microseconds at a UTC offset in seconds (Vietnam: 7 * 3600). */
lt_date_t lt_rule_date_from_us(int64_t unix_us, int utc_offset_s);

/* ------------------------------------------------------------ personal ID */

typedef enum { LT_SEX_UNKNOWN = 0, LT_SEX_MALE = 1, LT_SEX_FEMALE = 2 } lt_sex_t;

/* The 12-digit personal ID (số định danh cá nhân): digits 1-3 the province that
 * registered the birth (a pre- or post-reform province code, zero-padded: 001 Hà
 * Nội, 079 Hồ Chí Minh) or, when born_abroad, any 3-digit country code; digit 4
 * the century and sex (0/1 male/female 1900-1999, 2/3 2000-2099, ... 8/9
 * 2300-2399); digits 5-6 the last two digits of the birth year; the rest free.
 * There is no check digit. sex LT_SEX_UNKNOWN or birth_year 0 skips that part.
 * The pre-reform province codes need lt_units_load_merges(). */
int lt_rule_personal_id(const lt_units_t *units, const char *id, int born_abroad,
                        lt_sex_t sex, int birth_year, char *errstr, size_t errstr_size)
    __attribute__((warn_unused_result));

/* ------------------------------------------------------------ dossiers */

/* Dossier code AAA.BB.CC.DDD-YYMMDD-NNNN (Thông tư 01/2018/TT-VPCP, Điều 19):
 * the receiving agency's identifier V1V2V3.Z1Z2.Y1Y2.MX1X2 (3 upper-case letters
 * or digits, 2 digits, 2 digits, 3 upper-case letters or digits), the receipt
 * date YYMMDD, the day's sequence number NNNN. YYMMDD must be a calendar date
 * equal to received (the receipt date in Vietnam time; a "no date" skips that). */
int lt_rule_dossier_code(const char *code, lt_date_t received, char *errstr,
                         size_t errstr_size) __attribute__((warn_unused_result));

/* The national portal's ten dossier statuses; a glue layer maps the protobuf
 * enum here by name (lt_rule_status_from_name). */
typedef enum {
    LT_DOSSIER_UNSPECIFIED = 0,
    LT_DOSSIER_NEW,                  /* mới tiếp nhận (submitted online) */
    LT_DOSSIER_ACCEPTED,             /* đã tiếp nhận */
    LT_DOSSIER_NOT_ACCEPTED,         /* không tiếp nhận (terminal) */
    LT_DOSSIER_IN_PROCESS,           /* đang xử lý */
    LT_DOSSIER_SUPPLEMENT_REQUESTED, /* yêu cầu bổ sung */
    LT_DOSSIER_FEE_REQUESTED,      /* yêu cầu thực hiện nghĩa vụ tài chính */
    LT_DOSSIER_WITHDRAWN,          /* công dân yêu cầu rút hồ sơ (terminal) */
    LT_DOSSIER_PROCESSING_STOPPED, /* dừng xử lý (terminal) */
    LT_DOSSIER_PROCESSED,          /* đã xử lý xong */
    LT_DOSSIER_RESULT_RETURNED,    /* đã trả kết quả (terminal) */
} lt_dossier_status_t;

#define LT_DOSSIER_STATUS_COUNT 11 /* including UNSPECIFIED */

/* "NEW", "ACCEPTED", ...; "UNSPECIFIED" for anything else. */
const char *lt_rule_status_name(lt_dossier_status_t status);
/* By name, with or without the protobuf prefix "DOSSIER_STATUS_"; "RETURNED" is
 * taken for RESULT_RETURNED. LT_DOSSIER_UNSPECIFIED if unknown. */
lt_dossier_status_t lt_rule_status_from_name(const char *name);
/* 1 for NOT_ACCEPTED, WITHDRAWN, PROCESSING_STOPPED, RESULT_RETURNED. */
int lt_rule_status_terminal(lt_dossier_status_t status);

/* One status change between versions n and n+1. An unchanged status passes;
 * leaving a terminal status is LT_RULE_TERMINAL_STATUS; any change not in the
 * table (see lt_rules.c) is LT_RULE_BAD_STATUS_TRANSITION. */
int lt_rule_dossier_transition(lt_dossier_status_t from, lt_dossier_status_t to,
                               char *errstr, size_t errstr_size)
    __attribute__((warn_unused_result));

/* 1 when a dossier at status has certainly been received (ACCEPTED, and every
 * status reachable only through it); 0 for NEW, NOT_ACCEPTED and WITHDRAWN,
 * which a dossier submitted online can reach without being received. */
int lt_rule_status_received(lt_dossier_status_t status);

/* A received dossier (lt_rule_status_received) says when: it carries a status
 * history (which starts at its reception) or a receipt time, else
 * LT_RULE_MISSING_RECEIVED_AT. */
int lt_rule_dossier_received(lt_dossier_status_t status, size_t n_history,
                             int64_t received_at_us, char *errstr, size_t errstr_size)
    __attribute__((warn_unused_result));

typedef struct lt_dossier_step {
    lt_dossier_status_t status;
    int64_t at_us;
} lt_dossier_step_t;

/* Most steps a status history may have. Every step is checked, so the cap
 * bounds the work and the province's lt.dossier_history rows per dossier; real
 * histories have tens of steps (each request to supplement adds two). */
#define LT_DOSSIER_HISTORY_MAX 1000

/* n may be at most LT_DOSSIER_HISTORY_MAX, else LT_RULE_HISTORY_TOO_LONG. */
int lt_rule_dossier_history_length(size_t n, char *errstr, size_t errstr_size)
    __attribute__((warn_unused_result));

/* A whole status history: at most LT_DOSSIER_HISTORY_MAX steps, it starts at
 * NEW (online) or ACCEPTED (at the desk), every step is an allowed transition,
 * and times never go backwards (LT_RULE_TIME_ORDER). An empty history passes. */
int lt_rule_dossier_history(const lt_dossier_step_t *steps, size_t n, char *errstr,
                            size_t errstr_size) __attribute__((warn_unused_result));

/* ------------------------------------------------------------ units */

/* An AdminUnitRef: code must be a unit of the code list named by version, and a
 * record registered from 2025-07-01 on must not carry a pre-reform list
 * (LT_RULE_OLD_CODE_AFTER_REFORM; only when registered is certainly on or after
 * that day; a missing or invalid date skips this part; a record registered
 * before may carry either list). */
int lt_rule_unit_ref(const lt_units_t *units, const char *code, const char *version,
                     lt_date_t registered, char *errstr, size_t errstr_size)
    __attribute__((warn_unused_result));

/* commune lies in province under version (by the table, see lt_units_in_province). */
int lt_rule_commune_in_province(const lt_units_t *units, const char *commune,
                                const char *province, const char *version, char *errstr,
                                size_t errstr_size) __attribute__((warn_unused_result));

/* ------------------------------------------------------------ values built
 *
 * For programs that make records (the generator): values built by the same
 * reading the checks above apply, so what they make passes them. */

/* Days since 1970-01-01 of a date with year, month and day (proleptic
 * Gregorian). A day past the end of its month runs on into the next:
 * 2025-02-29 is 2025-03-01. */
int64_t lt_rule_date_days(lt_date_t date);

/* The date of a day number (the inverse of lt_rule_date_days). */
lt_date_t lt_rule_date_from_days(int64_t days);

/* The personal ID lt_rule_personal_id reads as: birth registered in province3
 * (3 digits, e.g. "001"), sex male or female, born in birth_year (1900-2399),
 * serial's last six digits after the year. Returns LT_RULE_OK, or
 * LT_RULE_BAD_PERSONAL_ID (out untouched) when sex or year has no digit 4. */
int lt_rule_personal_id_make(const char *province3, lt_sex_t sex, int birth_year,
                             uint32_t serial, char out[13])
    __attribute__((warn_unused_result));

#endif
