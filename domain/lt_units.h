/* lt_units — the administrative-unit registry (34 provinces, 3,321 communes),
 * and, once lt_units_load_merges() has run, the pre-reform list it replaced
 * (63 provinces, 10,052 communes and island districts) with the merge mapping.
 *
 * Which province a commune belongs to comes from this table, never from the
 * digits of its code. A code alone is ambiguous across list versions (3,314 new
 * codes reuse an old code, most under a new name): look codes up together with
 * their code-list version. */
#ifndef LT_UNITS_H
#define LT_UNITS_H

#include <stddef.h>

typedef struct lt_units lt_units_t;

typedef struct lt_unit {
    const char *code;          /* "00004" */
    const char *province_code; /* "01" */
    const char *full_name;     /* "Phường Ba Đình" */
} lt_unit_t;

/* Load the units file (data/admin-units/units-*.json). NULL path picks the
 * copy installed with the program (<prefix>/share/lienthong, found from the
 * program's own path); only a program in its build tree falls back to the
 * source tree's copy. NULL with errstr on failure. */
lt_units_t *lt_units_load(const char *path, char *errstr, size_t errstr_size);
void lt_units_destroy(lt_units_t *units);

/* lt_units_load() and lt_units_load_merges() beside it: what every program
 * that validates records needs. NULL with errstr. */
lt_units_t *lt_units_open(const char *path, char *errstr, size_t errstr_size);

/* The commune with this code, or NULL. */
const lt_unit_t *lt_units_commune(const lt_units_t *units, const char *code);
/* Province full name, or NULL if the code is not a province. */
const char *lt_units_province_name(const lt_units_t *units, const char *code);
/* The n-th commune of a province (0-based), or NULL past the end. */
const lt_unit_t *lt_units_province_commune(const lt_units_t *units, const char *province,
                                           size_t n);

/* ------------------------------------------------------------ versions
 *
 * A code-list version is an ISO date. "2025-07-01" (the reform) and the units
 * file's snapshot "2026-07-25" name the post-reform list; any earlier date names
 * the pre-reform list as it stood on 30 June 2025 (the only one the merges file
 * describes); anything else is unknown. */
#define LT_UNITS_REFORM_VERSION   "2025-07-01"
#define LT_UNITS_SNAPSHOT_VERSION "2026-07-25"

typedef enum {
    LT_UNITS_ERA_UNKNOWN = 0, /* not a version this build knows */
    LT_UNITS_ERA_OLD = 1,     /* before 2025-07-01 */
    LT_UNITS_ERA_NEW = 2,     /* 2025-07-01 or the 2026-07-25 snapshot */
} lt_units_era_t;

lt_units_era_t lt_units_version_era(const char *version);

/* Load the merge mapping (data/admin-units/merges-2025-07-01.json) into units.
 * NULL path picks merges-2025-07-01.json beside the units file that was loaded.
 * Returns 0, or -1 with errstr; then no pre-reform list is loaded (a previous one
 * is dropped) and the post-reform lookups work as before. */
int lt_units_load_merges(lt_units_t *units, const char *path, char *errstr,
                         size_t errstr_size) __attribute__((warn_unused_result));

/* 1 once lt_units_load_merges() has succeeded. */
int lt_units_has_merges(const lt_units_t *units);

typedef enum {
    LT_UNIT_PROVINCE = 1, /* 2 digits */
    LT_UNIT_DISTRICT = 2, /* 3 digits: the five island districts without communes
                             that became special zones (đặc khu), pre-reform only */
    LT_UNIT_COMMUNE = 3,  /* 5 digits: xã, phường, thị trấn, đặc khu */
} lt_unit_level_t;

/* Where (part of) a pre-reform unit went. */
typedef struct lt_unit_successor {
    const char *code; /* post-reform code, canonical (see lt_unit_at_t.code) */
    int partial;      /* 1: only part of the old unit went into it */
} lt_unit_successor_t;

/* A code as read under one list version. Strings belong to units. */
typedef struct lt_unit_at {
    lt_units_era_t era;
    lt_unit_level_t level;
    /* The code in that list. After the reform the units and merges files disagree
     * on two codes (Xã Ba Chẽ 06978 / 06970, Xã Ia Mơ 23938 / 23737): either is
     * accepted and this is the units file's. */
    const char *code;
    int alias;             /* 1 if the code looked up was the merges file's alias */
    const char *full_name; /* the name under that version: "2025-07-01" gives the
                              merges file's, "2026-07-25" the units file's (with
                              the 2026 Đồng Nai changes), old versions the old */
    /* The post-reform province: of a new unit its province, of an old unit the
     * one its successors lie in, of an old province the one it merged into. */
    const char *province_code;
    const lt_unit_successor_t *successors; /* old units only; else NULL */
    size_t n_successors;
} lt_unit_at_t;

/* Look code up in the list named by version. Returns 0 and fills *out, or -1
 * when the code is not in that list, the version is unknown, or the version is
 * pre-reform and lt_units_load_merges() has not run. */
int lt_units_lookup(const lt_units_t *units, const char *code, const char *version,
                    lt_unit_at_t *out) __attribute__((warn_unused_result));

/* 1 if commune (a commune, or pre-reform an island district) lies in province
 * under version, 0 if not, -1 if either code is not in that list. By the table,
 * never by the digits. Pre-reform the mapping does not say which old province an
 * old commune was in, only which new province took it: an old province code
 * passes when it merged into that same new province (conservative). */
int lt_units_in_province(const lt_units_t *units, const char *commune,
                         const char *province, const char *version);

/* The n-th (0-based, in code order) pre-reform commune the mapping merged
 * wholly or partly into the post-reform commune new_code: its code and name
 * (owned by units) and whether only part of it went there. Returns 0, or -1
 * past the last (or without lt_units_load_merges()). */
int lt_units_predecessor(const lt_units_t *units, const char *new_code, size_t n,
                         const char **old_code, const char **old_name, int *partial);

/* Full name of a province code of either list (post-reform first), or NULL. The
 * pre-reform codes need lt_units_load_merges(). */
const char *lt_units_any_province_name(const lt_units_t *units, const char *code);

#endif
