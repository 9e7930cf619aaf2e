#include "lt_units.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
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

struct lt_strblock; /* the strings, copied out of the files */

struct lt_units {
    struct lt_strblock *strings; /* every string the units point at */
    lt_unit_t *communes;         /* sorted by code */
    size_t n_communes, cap_communes;
    lt_unit_t *provinces; /* in file order */
    size_t n_provinces, cap_provinces;
    char *path;         /* the units file, to find the merges file beside it */
    lt_old_unit_t *old; /* sorted by code */
    size_t n_old;
    lt_unit_successor_t *succ;
    size_t n_succ;
    lt_unit_t *named2025; /* the merges file's post-reform names, by its codes */
    size_t n_named2025, cap_named2025;
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

/* ------------------------------------------------------------ reading */

/* Strings copied out of the JSON, in blocks that never move: the parsed
 * files are freed as soon as they are read. */
typedef struct lt_strblock {
    struct lt_strblock *next;
    size_t used, size;
    char data[];
} lt_strblock_t;

/* A copy of s living as long as units (NULL stays NULL). */
static const char *lt_units_keep(lt_units_t *units, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    lt_strblock_t *b = units->strings;
    if (!b || b->size - b->used < n) {
        size_t size = n > 65536 ? n : 65536;
        if (!(b = malloc(sizeof(*b) + size)))
            abort();
        *b = (lt_strblock_t){.next = units->strings, .size = size};
        units->strings = b;
    }
    char *copy = b->data + b->used;
    memcpy(copy, s, n);
    b->used += n;
    return copy;
}

/* Room for one more element in *array of *n (capacity *cap). */
static void *lt_units_grow(void *array, size_t n, size_t *cap, size_t size)
{
    if (n < *cap)
        return array;
    *cap = *cap ? *cap * 2 : 64;
    if (!(array = realloc(array, *cap * size)))
        abort();
    return array;
}

/* The whole file, NUL-terminated (free it), or NULL with errstr. */
static char *lt_units_read(const char *path, size_t *len, char *errstr, size_t errstr_size)
{
    errno = 0;
    FILE *f = fopen(path, "rb");
    char *text = NULL;
    long size = -1;
    if (f && fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (text = malloc((size_t)size + 1)) && fread(text, 1, (size_t)size, f) == (size_t)size) {
        text[size] = '\0';
        *len = (size_t)size;
        fclose(f);
        return text;
    }
    lt_err(errstr, errstr_size, "%s %s: %s", f ? "cannot read" : "unable to open", path,
           errno ? strerror(errno) : "shorter than its size");
    free(text);
    if (f)
        fclose(f);
    return NULL;
}

/* JSON text, element by element: the files are read one top-level array
 * element at a time (a province each), never as one tree; parsed whole, the
 * 2025 mapping alone takes 10 MB. The scanner only finds where values begin
 * and end (strings and nesting); jansson parses each element. */
static size_t lt_json_ws(const char *t, size_t len, size_t i)
{
    while (i < len && (t[i] == ' ' || t[i] == '\t' || t[i] == '\r' || t[i] == '\n'))
        i++;
    return i;
}

/* The index just after the value starting at t[i], or 0 if the text ends first. */
static size_t lt_json_skip(const char *t, size_t len, size_t i)
{
    int depth = 0;
    for (; i < len; i++) {
        char c = t[i];
        if (depth == 0 && (c == ',' || c == ']' || c == '}' || c == ':'))
            return i; /* the end of a scalar */
        if (c == '"') {
            for (i++; i < len && t[i] != '"'; i++)
                i += t[i] == '\\';
            if (i >= len)
                return 0;
            if (depth == 0)
                return i + 1;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if ((c == '}' || c == ']') && --depth == 0) {
            return i + 1;
        }
    }
    return 0;
}

static int lt_json_line(const char *t, size_t i)
{
    int line = 1;
    for (size_t k = 0; k < i; k++)
        line += t[k] == '\n';
    return line;
}

/* Where the array to walk begins: the document (key NULL) or the value of
 * key in the top-level object; SIZE_MAX if it is not there. */
static size_t lt_json_array_at(const char *t, size_t len, const char *key)
{
    size_t i = lt_json_ws(t, len, 0), end;
    if (!key)
        return i < len && t[i] == '[' ? i : SIZE_MAX;
    if (i >= len || t[i] != '{')
        return SIZE_MAX;
    for (i = lt_json_ws(t, len, i + 1); i < len && t[i] == '"'; i = lt_json_ws(t, len, i)) {
        if (!(end = lt_json_skip(t, len, i)))
            return SIZE_MAX;
        int match = end - i - 2 == strlen(key) && memcmp(t + i + 1, key, end - i - 2) == 0;
        i = lt_json_ws(t, len, end);
        if (i >= len || t[i] != ':')
            return SIZE_MAX;
        i = lt_json_ws(t, len, i + 1);
        if (match)
            return i < len && t[i] == '[' ? i : SIZE_MAX;
        if (!(end = lt_json_skip(t, len, i)))
            return SIZE_MAX;
        i = lt_json_ws(t, len, end);
        if (i < len && t[i] == ',')
            i++;
    }
    return SIZE_MAX;
}

typedef int (*lt_json_each_fn)(void *arg, const json_t *elem, size_t index, char *errstr,
                               size_t errstr_size);

/* Parse each element of the array at t[at] alone and hand it to each.
 * Returns 0, or -1 with errstr and *line (the line of the fault). */
static int lt_json_each(const char *t, size_t len, size_t at, lt_json_each_fn each, void *arg,
                        int *line, char *errstr, size_t errstr_size)
{
    size_t i = lt_json_ws(t, len, at + 1), index = 0;
    while (i < len && t[i] != ']') {
        size_t end = lt_json_skip(t, len, i);
        *line = lt_json_line(t, i);
        json_error_t jerr;
        json_t *elem = end ? json_loadb(t + i, end - i, 0, &jerr) : NULL;
        if (!elem) {
            if (end)
                *line += jerr.line - 1;
            return lt_err(errstr, errstr_size, "%s", end ? jerr.text : "the text ends inside a value");
        }
        int rc = each(arg, elem, index++, errstr, errstr_size);
        json_decref(elem);
        if (rc != 0)
            return -1;
        i = lt_json_ws(t, len, end);
        if (i < len && t[i] == ',')
            i = lt_json_ws(t, len, i + 1);
        else if (i < len && t[i] != ']')
            return lt_err(errstr, errstr_size, "expected ',' or ']'");
    }
    *line = lt_json_line(t, i);
    return i < len ? 0 : lt_err(errstr, errstr_size, "the text ends inside the array");
}

/* Read path's array (the document, or the value of key) element by element.
 * what names the file in errors: "<path>:<line>: cannot read <what>: ...". */
static int lt_units_read_each(const char *path, const char *key, const char *what,
                              lt_json_each_fn each, void *arg, char *errstr, size_t errstr_size)
{
    char inner[512];
    size_t len;
    int line = 0, rc = -1;
    char *text = lt_units_read(path, &len, inner, sizeof(inner));
    if (text) {
        size_t at = lt_json_array_at(text, len, key);
        if (at == SIZE_MAX)
            snprintf(inner, sizeof(inner), "expected %s", key ? "an object with a \"data\" array"
                                                              : "a JSON array");
        else
            rc = lt_json_each(text, len, at, each, arg, &line, inner, sizeof(inner));
        free(text);
    }
    if (rc != 0)
        lt_err(errstr, errstr_size, "%s:%d: cannot read %s: %s", path, line, what, inner);
    return rc;
}

/* One province of the unit list and its wards. */
static int lt_units_province_read(void *arg, const json_t *prov, size_t index, char *errstr,
                                  size_t errstr_size)
{
    lt_units_t *units = arg;
    const char *pcode = lt_units_keep(units, json_string_value(json_object_get(prov, "Code")));
    const char *pname =
        lt_units_keep(units, json_string_value(json_object_get(prov, "FullName")));
    if (!pcode || !pname)
        return lt_err(errstr, errstr_size, "unit entry %zu lacks Code or FullName", index);
    units->provinces = lt_units_grow(units->provinces, units->n_provinces, &units->cap_provinces,
                                     sizeof(*units->provinces));
    units->provinces[units->n_provinces++] =
        (lt_unit_t){.code = pcode, .province_code = pcode, .full_name = pname};
    size_t j;
    const json_t *ward;
    json_array_foreach(json_object_get(prov, "Wards"), j, ward)
    {
        units->communes = lt_units_grow(units->communes, units->n_communes,
                                        &units->cap_communes, sizeof(*units->communes));
        lt_unit_t *u = &units->communes[units->n_communes++];
        u->code = lt_units_keep(units, json_string_value(json_object_get(ward, "Code")));
        u->full_name = lt_units_keep(units, json_string_value(json_object_get(ward, "FullName")));
        u->province_code = pcode;
        if (!u->code || !u->full_name)
            return lt_err(errstr, errstr_size, "unit entry %zu/%zu lacks Code or FullName",
                          index, j);
    }
    return 0;
}

lt_units_t *lt_units_load(const char *path, char *errstr, size_t errstr_size)
{
    lt_units_t *units = calloc(1, sizeof(*units));
    if (!units)
        abort();
    units->path = path ? strdup(path) : lt_units_default_path(errstr, errstr_size);
    if (!units->path) {
        if (path)
            lt_err(errstr, errstr_size, "unit list: out of memory");
        goto fail;
    }
    char what[160];
    snprintf(what, sizeof(what), "the unit list%s",
             path ? "" : " (the copy installed with this program; units_file names another)");
    if (lt_units_read_each(units->path, NULL, what, lt_units_province_read, units, errstr,
                           errstr_size) != 0)
        goto fail;
    qsort(units->communes, units->n_communes, sizeof(*units->communes), lt_unit_cmp);
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
    free(units->communes);
    free(units->provinces);
    free(units->path);
    free(units->old);
    free(units->succ);
    free(units->named2025);
    while (units->strings) {
        lt_strblock_t *next = units->strings->next;
        free(units->strings);
        units->strings = next;
    }
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

/* The mapping's rows while it is read (one old unit into one new each). */
typedef struct lt_merges_read {
    lt_units_t *units;
    lt_merge_row_t *rows;
    size_t n, cap;
} lt_merges_read_t;

/* Append the rows of one "merges" array (old units into new_code). */
static int lt_merges_rows(lt_merges_read_t *rd, const json_t *merges, const char *new_code,
                          const char *province, char *errstr, size_t errstr_size)
{
    size_t i;
    json_t *m;
    int alias;
    json_array_foreach(merges, i, m)
    {
        rd->rows = lt_units_grow(rd->rows, rd->n, &rd->cap, sizeof(*rd->rows));
        lt_merge_row_t *r = &rd->rows[rd->n++];
        const char *type = lt_json_str(m, "type");
        r->old_code = lt_units_keep(rd->units, lt_json_str(m, "old_id"));
        r->old_name = lt_units_keep(rd->units, lt_json_str(m, "name"));
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

/* One province of the mapping: its rows, and its post-reform names into
 * named2025. */
static int lt_merges_province_read(void *arg, const json_t *prov, size_t index, char *errstr,
                                   size_t errstr_size)
{
    lt_merges_read_t *rd = arg;
    lt_units_t *units = rd->units;
    size_t j;
    json_t *l2;
    const char *pcode = lt_units_keep(units, lt_json_str(prov, "level1_id"));
    if (!pcode || lt_merges_rows(rd, json_object_get(prov, "merges"), pcode, pcode, errstr,
                                 errstr_size) != 0)
        return lt_err(errstr, errstr_size, "merges: province entry %zu is malformed", index);
    json_array_foreach(json_object_get(prov, "level2s"), j, l2)
    {
        units->named2025 = lt_units_grow(units->named2025, units->n_named2025,
                                         &units->cap_named2025, sizeof(*units->named2025));
        lt_unit_t *u = &units->named2025[units->n_named2025++];
        u->code = lt_units_keep(units, lt_json_str(l2, "level2_id"));
        u->full_name = lt_units_keep(units, lt_json_str(l2, "name"));
        u->province_code = pcode;
        if (!u->code || !u->full_name)
            return lt_err(errstr, errstr_size,
                          "merges: %s unit %zu lacks level2_id or "
                          "name",
                          pcode, j);
        if (lt_merges_rows(rd, json_object_get(l2, "merges"), u->code, pcode, errstr,
                           errstr_size) != 0)
            return -1;
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

static void lt_merges_reset(lt_units_t *units)
{
    free(units->old);
    free(units->succ);
    free(units->named2025);
    units->old = NULL;
    units->succ = NULL;
    units->named2025 = NULL;
    units->n_old = units->n_succ = units->n_named2025 = units->cap_named2025 = 0;
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
    lt_merges_read_t rd = {.units = units};
    int rc = -1;

    if (!path && !(path = owned))
        return lt_err(errstr, errstr_size, "merges: out of memory");
    lt_merges_reset(units);
    if (lt_units_read_each(path, "data", "the merge mapping", lt_merges_province_read, &rd,
                           errstr, errstr_size) == 0) {
        units->old = calloc(rd.n ? rd.n : 1, sizeof(*units->old));
        units->succ = calloc(rd.n ? rd.n : 1, sizeof(*units->succ));
        if (!units->old || !units->succ)
            abort();
        qsort(rd.rows, rd.n, sizeof(*rd.rows), lt_merge_row_cmp);
        lt_merges_group(units, rd.rows, rd.n);
        qsort(units->named2025, units->n_named2025, sizeof(*units->named2025), lt_unit_cmp);
        rc = 0;
    }
    if (rc != 0)
        lt_merges_reset(units);
    free(rd.rows);
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

lt_units_t *lt_units_open(const char *path, char *errstr, size_t errstr_size)
{
    lt_units_t *units = lt_units_load(path, errstr, errstr_size);
    if (units && lt_units_load_merges(units, NULL, errstr, errstr_size) != 0) {
        lt_units_destroy(units);
        return NULL;
    }
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
