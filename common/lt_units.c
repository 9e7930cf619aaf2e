#include "lt_units.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "lt_util.h"

struct lt_units {
    json_t *root;        /* owns every string the units point at */
    lt_unit_t *communes; /* sorted by code */
    size_t n_communes;
};

static int lt_unit_cmp(const void *a, const void *b)
{
    return strcmp(((const lt_unit_t *)a)->code, ((const lt_unit_t *)b)->code);
}

static const char *lt_units_default_path(void)
{
    static const char *const candidates[] = {LT_UNITS_INSTALLED, LT_UNITS_SOURCE};
    for (size_t i = 0; i < sizeof(candidates) / sizeof(*candidates); i++)
        if (access(candidates[i], R_OK) == 0)
            return candidates[i];
    return LT_UNITS_INSTALLED;
}

static int lt_units_index(lt_units_t *units, char *errstr, size_t errstr_size)
{
    size_t i, total = 0;
    json_t *prov;
    json_array_foreach(units->root, i, prov) total += json_array_size(json_object_get(prov, "Wards"));
    units->communes = calloc(total ? total : 1, sizeof(*units->communes));
    json_array_foreach(units->root, i, prov)
    {
        const char *pcode = json_string_value(json_object_get(prov, "Code"));
        size_t j;
        json_t *ward;
        json_array_foreach(json_object_get(prov, "Wards"), j, ward)
        {
            lt_unit_t *u = &units->communes[units->n_communes];
            u->code = json_string_value(json_object_get(ward, "Code"));
            u->full_name = json_string_value(json_object_get(ward, "FullName"));
            u->province_code = pcode;
            if (!u->code || !u->full_name || !pcode)
                return lt_err(errstr, errstr_size, "unit entry %zu/%zu lacks Code or FullName",
                              i, j);
            units->n_communes++;
        }
    }
    qsort(units->communes, units->n_communes, sizeof(*units->communes), lt_unit_cmp);
    return 0;
}

lt_units_t *lt_units_load(const char *path, char *errstr, size_t errstr_size)
{
    json_error_t jerr;
    if (!path)
        path = lt_units_default_path();
    lt_units_t *units = calloc(1, sizeof(*units));
    units->root = json_load_file(path, 0, &jerr);
    if (!units->root || !json_is_array(units->root)) {
        lt_err(errstr, errstr_size, "%s:%d: cannot read the unit list: %s", path, jerr.line,
               units->root ? "expected a JSON array" : jerr.text);
        goto fail;
    }
    if (lt_units_index(units, errstr, errstr_size) != 0)
        goto fail;
    return units;
fail:
    lt_units_destroy(units);
    return NULL;
}

void lt_units_destroy(lt_units_t *units)
{
    if (!units)
        return;
    json_decref(units->root);
    free(units->communes);
    free(units);
}

const lt_unit_t *lt_units_commune(const lt_units_t *units, const char *code)
{
    lt_unit_t key = {.code = code};
    return bsearch(&key, units->communes, units->n_communes, sizeof(key), lt_unit_cmp);
}

const char *lt_units_province_name(const lt_units_t *units, const char *code)
{
    size_t i;
    json_t *prov;
    json_array_foreach(units->root, i, prov)
    {
        const char *pcode = json_string_value(json_object_get(prov, "Code"));
        if (pcode && strcmp(pcode, code) == 0)
            return json_string_value(json_object_get(prov, "FullName"));
    }
    return NULL;
}

const lt_unit_t *lt_units_province_commune(const lt_units_t *units, const char *province,
                                           size_t n)
{
    for (size_t i = 0; i < units->n_communes; i++)
        if (strcmp(units->communes[i].province_code, province) == 0 && n-- == 0)
            return &units->communes[i];
    return NULL;
}
