/* lt_units — the administrative-unit registry (34 provinces, 3,321 communes).
 *
 * Which province a commune belongs to comes from this table, never from the
 * digits of its code. */
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
 * installed copy, then the source tree's. NULL with errstr on failure. */
lt_units_t *lt_units_load(const char *path, char *errstr, size_t errstr_size);
void lt_units_destroy(lt_units_t *units);

/* The commune with this code, or NULL. */
const lt_unit_t *lt_units_commune(const lt_units_t *units, const char *code);
/* Province full name, or NULL if the code is not a province. */
const char *lt_units_province_name(const lt_units_t *units, const char *code);
/* The n-th commune of a province (0-based), or NULL past the end. */
const lt_unit_t *lt_units_province_commune(const lt_units_t *units, const char *province,
                                           size_t n);

#endif
