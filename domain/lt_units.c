#include "lt_units.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "lt_log.h"
#include "lt_util.h"

#define LT_MERGES_FILE "merges-2025-07-01.json"

/* A pre-reform unit: commune, island district or province. */
typedef struct lt_old_unit {
    const char *code;
    const char *full_name;
    const char *province_code; /* the post-reform province of its successors */
    lt_unit_level_t level;
    size_t first, n; /* its successors: succ[first .. first+n) */
} lt_old_unit_t;

struct lt_units {
    json_t *root;        /* owns every string the units point at, until compacted */
    lt_unit_t *communes; /* sorted by code */
    size_t n_communes;
    lt_unit_t *provinces; /* in file order */
    size_t n_provinces;
    char *pool; /* after lt_units_compact: every string of the indexes */
    char *path;         /* the units file, to find the merges file beside it */
    json_t *merges;     /* owns every string of the pre-reform list */
    lt_old_unit_t *old; /* sorted by code */
    size_t n_old;
    lt_unit_successor_t *succ;
    size_t n_succ;
    lt_unit_t *named2025; /* the merges file's post-reform names, by its codes */
    size_t n_named2025;
};

static int lt_unit_cmp(const void *a, const void *b)
{
    return strcmp(((const lt_unit_t *)a)->code, ((const lt_unit_t *)b)->code);
}

/* The directory of the running program, from /proc/self/exe (symbolic
 * links resolved), into dir; 0, or -1 if the kernel does not say. */
static int lt_units_exe_dir(char *dir, size_t size)
{
    ssize_t n = readlink("/proc/self/exe", dir, size - 1);
    if (n <= 0 || (size_t)n >= size - 1)
        return -1;
    dir[n] = '\0';
    char *slash = strrchr(dir, '/');
    if (!slash)
        return -1;
    *slash = '\0';
    return 0;
}

/* dir joined with a relative path, its leading "../" taken off dir. */
static char *lt_units_join(const char *dir, const char *rel)
{
    size_t len = strlen(dir);
    while (strncmp(rel, "../", 3) == 0 && len > 0) {
        while (len > 0 && dir[len - 1] != '/')
            len--;
        if (len > 0)
            len--; /* the slash */
        rel += 3;
    }
    size_t size = len + 1 + strlen(rel) + 1;
    char *path = malloc(size);
    if (path)
        snprintf(path, size, "%.*s/%s", (int)len, dir, rel);
    return path;
}

/* Whether dir (free of symbolic links) is inside the build tree this
 * program was built in (LT_BUILD_DIR, also free of them). */
static int lt_units_in_build_tree(const char *dir)
{
    size_t len = strlen(LT_BUILD_DIR);
    return strncmp(dir, LT_BUILD_DIR, len) == 0 && (dir[len] == '/' || dir[len] == '\0');
}

/* The unit list a program reads when units_file is unset. The rule:
 *  1. the copy installed with the program: <its directory>/LT_UNITS_RELATIVE,
 *     i.e. <prefix>/bin/../share/lienthong/, wherever the prefix is (a
 *     package unpacked into any directory uses its own data);
 *  2. only for a program that runs from its build tree (LT_BUILD_DIR): the
 *     source tree's copy, LT_UNITS_SOURCE. An installed program never reads
 *     the source tree, even when it is there.
 * Otherwise the first, so that the error names the file that is missing.
 * Returns a string to free, or NULL with errstr. */
static char *lt_units_default_path(char *errstr, size_t errstr_size)
{
    char dir[PATH_MAX];
    if (lt_units_exe_dir(dir, sizeof(dir)) != 0) {
        lt_err(errstr, errstr_size, "no unit list: /proc/self/exe does not say where this "
                                    "program is installed; set units_file");
        return NULL;
    }
    char *installed = lt_units_join(dir, LT_UNITS_RELATIVE);
    if (installed && access(installed, R_OK) != 0 && lt_units_in_build_tree(dir) &&
        access(LT_UNITS_SOURCE, R_OK) == 0) {
        free(installed);
        return strdup(LT_UNITS_SOURCE);
    }
    if (!installed)
        lt_err(errstr, errstr_size, "unit list: out of memory");
    return installed;
}

static int lt_units_index(lt_units_t *units, char *errstr, size_t errstr_size)
{
    size_t i, total = 0;
    json_t *prov;
    json_array_foreach(units->root, i, prov) total += json_array_size(json_object_get(prov, "Wards"));
    units->communes = calloc(total ? total : 1, sizeof(*units->communes));
    units->provinces = calloc(json_array_size(units->root) + 1, sizeof(*units->provinces));
    if (!units->communes || !units->provinces)
        return lt_err(errstr, errstr_size, "unit list: out of memory");
    json_array_foreach(units->root, i, prov)
    {
        const char *pcode = json_string_value(json_object_get(prov, "Code"));
        const char *pname = json_string_value(json_object_get(prov, "FullName"));
        if (pcode && pname)
            units->provinces[units->n_provinces++] =
                (lt_unit_t){.code = pcode, .province_code = pcode, .full_name = pname};
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
    lt_units_t *units = calloc(1, sizeof(*units));
    units->path = path ? strdup(path) : lt_units_default_path(errstr, errstr_size);
    if (!units->path) {
        if (path)
            lt_err(errstr, errstr_size, "unit list: out of memory");
        goto fail;
    }
    units->root = json_load_file(units->path, 0, &jerr);
    if (!units->root || !json_is_array(units->root)) {
        lt_err(errstr, errstr_size, "%s:%d: cannot read the unit list: %s%s", units->path,
               jerr.line, units->root ? "expected a JSON array" : jerr.text,
               path ? "" : " (the copy installed with this program; units_file names another)");
        goto fail;
    }
    if (lt_units_index(units, errstr, errstr_size) != 0)
        goto fail;
    lt_debug("unit list loaded", "path=%s communes=%zu", units->path, units->n_communes);
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
    free(units->provinces);
    free(units->pool);
    free(units->path);
    json_decref(units->merges);
    free(units->old);
    free(units->succ);
    free(units->named2025);
    free(units);
}

const lt_unit_t *lt_units_commune(const lt_units_t *units, const char *code)
{
    lt_unit_t key = {.code = code};
    return bsearch(&key, units->communes, units->n_communes, sizeof(key), lt_unit_cmp);
}

static const lt_unit_t *lt_units_province(const lt_units_t *units, const char *code)
{
    for (size_t i = 0; i < units->n_provinces; i++)
        if (strcmp(units->provinces[i].code, code) == 0)
            return &units->provinces[i];
    return NULL;
}

const char *lt_units_province_name(const lt_units_t *units, const char *code)
{
    const lt_unit_t *p = lt_units_province(units, code);
    return p ? p->full_name : NULL;
}

const lt_unit_t *lt_units_province_commune(const lt_units_t *units, const char *province,
                                           size_t n)
{
    for (size_t i = 0; i < units->n_communes; i++)
        if (strcmp(units->communes[i].province_code, province) == 0 && n-- == 0)
            return &units->communes[i];
    return NULL;
}

/* ------------------------------------------------------------ versions */

/* s[0..n) are ASCII digits (s may go on). */
static int lt_units_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static int lt_units_is_iso_date(const char *s)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, m, d;

    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-' || !lt_units_digits(s, 4) ||
        !lt_units_digits(s + 5, 2) || !lt_units_digits(s + 8, 2))
        return 0;
    y = atoi(s);
    m = atoi(s + 5);
    d = atoi(s + 8);
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return 0;
    return m != 2 || d < 29 || (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0));
}

lt_units_era_t lt_units_version_era(const char *version)
{
    if (!lt_units_is_iso_date(version))
        return LT_UNITS_ERA_UNKNOWN;
    if (strcmp(version, LT_UNITS_REFORM_VERSION) < 0)
        return LT_UNITS_ERA_OLD;
    if (strcmp(version, LT_UNITS_REFORM_VERSION) == 0 ||
        strcmp(version, LT_UNITS_SNAPSHOT_VERSION) == 0)
        return LT_UNITS_ERA_NEW;
    return LT_UNITS_ERA_UNKNOWN;
}

/* ------------------------------------------------------------ aliases */

/* The two post-reform codes on which the units file and the merges file disagree. */
static const struct {
    const char *units_code, *merges_code;
} lt_unit_aliases[] = {
    {"06978", "06970"}, /* Xã Ba Chẽ, Quảng Ninh */
    {"23938", "23737"}, /* Xã Ia Mơ, Gia Lai (23737 was Xã Ia Mơ Nông before) */
};

/* The units file's code for a post-reform code of either file. */
static const char *lt_units_canonical(const char *code, int *alias)
{
    for (size_t i = 0; i < sizeof(lt_unit_aliases) / sizeof(*lt_unit_aliases); i++)
        if (strcmp(code, lt_unit_aliases[i].merges_code) == 0) {
            *alias = 1;
            return lt_unit_aliases[i].units_code;
        }
    *alias = 0;
    return code;
}

/* The merges file's code for a units-file code. */
static const char *lt_units_merges_code(const char *code)
{
    for (size_t i = 0; i < sizeof(lt_unit_aliases) / sizeof(*lt_unit_aliases); i++)
        if (strcmp(code, lt_unit_aliases[i].units_code) == 0)
            return lt_unit_aliases[i].merges_code;
    return code;
}

/* ------------------------------------------------------------ merges */

/* One old unit -> one new unit row, before grouping by old code. */
typedef struct lt_merge_row {
    const char *old_code, *old_name, *new_code, *new_province;
    lt_unit_level_t level;
    int partial;
} lt_merge_row_t;

static int lt_merge_row_cmp(const void *a, const void *b)
{
    const lt_merge_row_t *x = a, *y = b;
    int c = strcmp(x->old_code, y->old_code);
    return c ? c : strcmp(x->new_code, y->new_code);
}

static int lt_old_unit_cmp(const void *a, const void *b)
{
    return strcmp(((const lt_old_unit_t *)a)->code, ((const lt_old_unit_t *)b)->code);
}

static const char *lt_json_str(const json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* Append the rows of one "merges" array (old units into new_code). */
static int lt_merges_rows(const json_t *merges, const char *new_code,
                          const char *province, lt_merge_row_t *rows, size_t *n,
                          char *errstr, size_t errstr_size)
{
    size_t i;
    json_t *m;
    int alias;
    json_array_foreach(merges, i, m)
    {
        lt_merge_row_t *r = &rows[(*n)++];
        const char *type = lt_json_str(m, "type");
        r->old_code = lt_json_str(m, "old_id");
        r->old_name = lt_json_str(m, "name");
        r->new_code = lt_units_canonical(new_code, &alias);
        r->new_province = province;
        if (!r->old_code || !r->old_name || !type)
            return lt_err(errstr, errstr_size,
                          "merge into %s: entry %zu lacks old_id, name "
                          "or type",
                          new_code, i);
        r->partial = strcmp(type, "partial") == 0;
        size_t len = strlen(r->old_code);
        r->level = len == 2   ? LT_UNIT_PROVINCE
                   : len == 3 ? LT_UNIT_DISTRICT
                              : LT_UNIT_COMMUNE;
    }
    return 0;
}

static size_t lt_merges_count(const json_t *data, size_t *n_new)
{
    size_t i, j, total = 0;
    json_t *prov, *l2;
    *n_new = 0;
    json_array_foreach(data, i, prov)
    {
        total += json_array_size(json_object_get(prov, "merges"));
        json_array_foreach(json_object_get(prov, "level2s"), j, l2)
        {
            total += json_array_size(json_object_get(l2, "merges"));
            (*n_new)++;
        }
    }
    return total;
}

/* Every row of the file, and the merges file's post-reform names into named. */
static int lt_merges_collect(lt_units_t *units, const json_t *data, lt_merge_row_t *rows,
                             size_t *n, char *errstr, size_t errstr_size)
{
    size_t i, j;
    json_t *prov, *l2;
    json_array_foreach(data, i, prov)
    {
        const char *pcode = lt_json_str(prov, "level1_id");
        if (!pcode || lt_merges_rows(json_object_get(prov, "merges"), pcode, pcode, rows,
                                     n, errstr, errstr_size) != 0)
            return lt_err(errstr, errstr_size, "merges: province entry %zu is malformed",
                          i);
        json_array_foreach(json_object_get(prov, "level2s"), j, l2)
        {
            lt_unit_t *u = &units->named2025[units->n_named2025++];
            u->code = lt_json_str(l2, "level2_id");
            u->full_name = lt_json_str(l2, "name");
            u->province_code = pcode;
            if (!u->code || !u->full_name)
                return lt_err(errstr, errstr_size,
                              "merges: %s unit %zu lacks level2_id or "
                              "name",
                              pcode, j);
            if (lt_merges_rows(json_object_get(l2, "merges"), u->code, pcode, rows, n,
                               errstr, errstr_size) != 0)
                return -1;
        }
    }
    return 0;
}

/* Group the sorted rows into old units with contiguous successors. */
static void lt_merges_group(lt_units_t *units, const lt_merge_row_t *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const lt_merge_row_t *r = &rows[i];
        if (i == 0 || strcmp(r->old_code, rows[i - 1].old_code) != 0) {
            lt_old_unit_t *o = &units->old[units->n_old++];
            *o = (lt_old_unit_t){.code = r->old_code,
                                 .full_name = r->old_name,
                                 .province_code = r->new_province,
                                 .level = r->level,
                                 .first = units->n_succ};
        }
        units->old[units->n_old - 1].n++;
        units->succ[units->n_succ++] =
            (lt_unit_successor_t){.code = r->new_code, .partial = r->partial};
    }
}

static int lt_merges_index(lt_units_t *units, const json_t *data, char *errstr,
                           size_t errstr_size)
{
    size_t n_new, n = 0, total = lt_merges_count(data, &n_new);
    lt_merge_row_t *rows = calloc(total ? total : 1, sizeof(*rows));
    int rc = -1;

    units->old = calloc(total ? total : 1, sizeof(*units->old));
    units->succ = calloc(total ? total : 1, sizeof(*units->succ));
    units->named2025 = calloc(n_new ? n_new : 1, sizeof(*units->named2025));
    if (!rows || !units->old || !units->succ || !units->named2025) {
        lt_err(errstr, errstr_size, "merges: out of memory");
        goto done;
    }
    if (lt_merges_collect(units, data, rows, &n, errstr, errstr_size) != 0)
        goto done;
    qsort(rows, n, sizeof(*rows), lt_merge_row_cmp);
    lt_merges_group(units, rows, n);
    qsort(units->named2025, units->n_named2025, sizeof(*units->named2025), lt_unit_cmp);
    rc = 0;
done:
    free(rows);
    return rc;
}

static void lt_merges_reset(lt_units_t *units)
{
    json_decref(units->merges);
    free(units->old);
    free(units->succ);
    free(units->named2025);
    units->merges = NULL;
    units->old = NULL;
    units->succ = NULL;
    units->named2025 = NULL;
    units->n_old = units->n_succ = units->n_named2025 = 0;
}

/* merges-2025-07-01.json in the directory of the units file. */
static char *lt_merges_default_path(const lt_units_t *units)
{
    const char *slash = units->path ? strrchr(units->path, '/') : NULL;
    size_t dir = slash ? (size_t)(slash - units->path) + 1 : 0;
    char *p = units->path ? malloc(dir + sizeof(LT_MERGES_FILE)) : NULL;
    if (p) {
        memcpy(p, units->path, dir);
        memcpy(p + dir, LT_MERGES_FILE, sizeof(LT_MERGES_FILE));
    }
    return p;
}

int lt_units_load_merges(lt_units_t *units, const char *path, char *errstr,
                         size_t errstr_size)
{
    char *owned = path ? NULL : lt_merges_default_path(units);
    json_error_t jerr;
    json_t *data;
    int rc = -1;

    if (!path && !(path = owned))
        return lt_err(errstr, errstr_size, "merges: out of memory");
    lt_merges_reset(units);
    units->merges = json_load_file(path, 0, &jerr);
    data = json_object_get(units->merges, "data");
    if (!json_is_array(data))
        lt_err(errstr, errstr_size, "%s:%d: cannot read the merge mapping: %s", path,
               jerr.line,
               units->merges ? "expected an object with a \"data\" array" : jerr.text);
    else
        rc = lt_merges_index(units, data, errstr, errstr_size);
    if (rc != 0)
        lt_merges_reset(units);
    free(owned);
    return rc;
}

/* ------------------------------------------------------------ lookup */

static int lt_units_lookup_new(const lt_units_t *units, const char *code,
                               const char *version, lt_unit_at_t *out)
{
    const lt_unit_t *u;

    if (strlen(code) == 2 && (u = lt_units_province(units, code))) {
        out->level = LT_UNIT_PROVINCE;
        out->code = out->province_code = u->code;
        out->full_name = u->full_name;
        return 0;
    }
    if (strlen(code) != 5 ||
        !(u = lt_units_commune(units, lt_units_canonical(code, &out->alias))))
        return -1;
    out->level = LT_UNIT_COMMUNE;
    out->code = u->code;
    out->province_code = u->province_code;
    out->full_name = u->full_name;
    if (strcmp(version, LT_UNITS_REFORM_VERSION) == 0 && units->n_named2025) {
        lt_unit_t key = {.code = lt_units_merges_code(u->code)};
        const lt_unit_t *named =
            bsearch(&key, units->named2025, units->n_named2025, sizeof(key), lt_unit_cmp);
        if (named)
            out->full_name = named->full_name;
    }
    return 0;
}

static int lt_units_lookup_old(const lt_units_t *units, const char *code,
                               lt_unit_at_t *out)
{
    lt_old_unit_t key = {.code = code};
    const lt_old_unit_t *o = units->n_old ? bsearch(&key, units->old, units->n_old,
                                                    sizeof(key), lt_old_unit_cmp)
                                          : NULL;
    if (!o)
        return -1;
    out->level = o->level;
    out->code = o->code;
    out->full_name = o->full_name;
    out->province_code = o->province_code;
    out->successors = &units->succ[o->first];
    out->n_successors = o->n;
    return 0;
}

int lt_units_lookup(const lt_units_t *units, const char *code, const char *version,
                    lt_unit_at_t *out)
{
    *out = (lt_unit_at_t){.era = lt_units_version_era(version)};
    if (!code || !lt_units_digits(code, strlen(code)))
        return -1;
    if (out->era == LT_UNITS_ERA_NEW)
        return lt_units_lookup_new(units, code, version, out);
    if (out->era == LT_UNITS_ERA_OLD)
        return lt_units_lookup_old(units, code, out);
    return -1;
}

int lt_units_in_province(const lt_units_t *units, const char *commune,
                         const char *province, const char *version)
{
    lt_unit_at_t c, p;
    if (lt_units_lookup(units, commune, version, &c) != 0 ||
        c.level == LT_UNIT_PROVINCE ||
        lt_units_lookup(units, province, version, &p) != 0 || p.level != LT_UNIT_PROVINCE)
        return -1;
    return strcmp(c.province_code, p.province_code) == 0;
}

const char *lt_units_any_province_name(const lt_units_t *units, const char *code)
{
    lt_unit_at_t old;
    const char *name = lt_units_province_name(units, code);
    if (name)
        return name;
    if (lt_units_lookup_old(units, code, &old) == 0 && old.level == LT_UNIT_PROVINCE)
        return old.full_name;
    return NULL;
}

int lt_units_has_merges(const lt_units_t *units)
{
    return units->n_old > 0;
}

/* Copy *s into pool at offset at (when pool is not NULL) and point *s there;
 * the offset after it. */
static size_t lt_units_intern(const char **s, char *pool, size_t at)
{
    if (!*s)
        return at;
    size_t n = strlen(*s) + 1;
    if (pool) {
        memcpy(pool + at, *s, n);
        *s = pool + at;
    }
    return at + n;
}

static size_t lt_units_intern_units(lt_unit_t *u, size_t n, char *pool, size_t at)
{
    for (size_t i = 0; i < n; i++) {
        at = lt_units_intern(&u[i].code, pool, at);
        at = lt_units_intern(&u[i].province_code, pool, at);
        at = lt_units_intern(&u[i].full_name, pool, at);
    }
    return at;
}

/* Every string the indexes point at, into pool (NULL: only counted). */
static size_t lt_units_intern_all(lt_units_t *units, char *pool)
{
    size_t at = lt_units_intern_units(units->communes, units->n_communes, pool, 0);
    at = lt_units_intern_units(units->provinces, units->n_provinces, pool, at);
    at = lt_units_intern_units(units->named2025, units->n_named2025, pool, at);
    for (size_t i = 0; i < units->n_old; i++) {
        at = lt_units_intern(&units->old[i].code, pool, at);
        at = lt_units_intern(&units->old[i].full_name, pool, at);
        at = lt_units_intern(&units->old[i].province_code, pool, at);
    }
    for (size_t i = 0; i < units->n_succ; i++)
        at = lt_units_intern(&units->succ[i].code, pool, at);
    return at;
}

/* Parsed, the two files take about 15 MB that every daemon would hold for
 * its whole life; their strings, copied into one block, under 1 MB. The
 * JSON trees go. Returns 0, or -1 when memory runs out (nothing changed). */
static int lt_units_compact(lt_units_t *units)
{
    char *pool = malloc(lt_units_intern_all(units, NULL) + 1);
    if (!pool)
        return -1;
    lt_units_intern_all(units, pool);
    free(units->pool);
    units->pool = pool;
    json_decref(units->root);
    json_decref(units->merges);
    units->root = units->merges = NULL;
    return 0;
}

lt_units_t *lt_units_open(const char *path, char *errstr, size_t errstr_size)
{
    lt_units_t *units = lt_units_load(path, errstr, errstr_size);
    if (units && lt_units_load_merges(units, NULL, errstr, errstr_size) != 0) {
        lt_units_destroy(units);
        return NULL;
    }
    if (units)
        lt_units_compact(units); /* on failure the trees stay: still correct */
    return units;
}

int lt_units_predecessor(const lt_units_t *units, const char *new_code, size_t n,
                         const char **old_code, const char **old_name, int *partial)
{
    lt_unit_at_t at;
    /* Either spelling of the two codes the files disagree on. */
    const char *canonical =
        lt_units_lookup(units, new_code, LT_UNITS_REFORM_VERSION, &at) == 0 ? at.code : new_code;
    for (size_t i = 0; i < units->n_old; i++) {
        const lt_old_unit_t *o = &units->old[i];
        for (size_t k = o->first; k < o->first + o->n; k++) {
            if (o->level != LT_UNIT_COMMUNE || strcmp(units->succ[k].code, canonical) != 0 ||
                n-- > 0)
                continue;
            *old_code = o->code;
            *old_name = o->full_name;
            *partial = units->succ[k].partial;
            return 0;
        }
    }
    return -1;
}
