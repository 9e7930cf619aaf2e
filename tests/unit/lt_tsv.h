/* lt_tsv — read table-driven test cases from $LT_TEST_DATA/<relpath>.
 *
 * One case a line, fields separated by tabs; blank lines and lines starting
 * with '#' are skipped. Escapes in a field: \\ \t \n \r \xHH (one byte) and
 * \u{H...} (one code point, written as UTF-8), so invisible differences (NFD,
 * control characters) stay readable in the file. */
#ifndef LT_TSV_H
#define LT_TSV_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LT_TSV_MAX_FIELDS 12

typedef struct lt_tsv {
    FILE *f;
    char path[512];
    char *line;
    size_t cap;
    int lineno;
    int nfields;
    char *field[LT_TSV_MAX_FIELDS];
    size_t len[LT_TSV_MAX_FIELDS]; /* after unescaping: a field may hold a NUL */
} lt_tsv_t;

static inline size_t lt_tsv_put_utf8(char *out, unsigned long cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xE0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        out[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Unescape s in place (the result is never longer); returns its length. */
static inline size_t lt_tsv_unescape(char *s)
{
    char *in = s, *out = s;
    while (*in) {
        if (in[0] != '\\' || !in[1]) {
            *out++ = *in++;
            continue;
        }
        char c = in[1];
        in += 2;
        if (c == 't' || c == 'n' || c == 'r' || c == '\\') {
            *out++ = c == 't' ? '\t' : c == 'n' ? '\n' : c == 'r' ? '\r' : '\\';
        } else if (c == 'x') {
            char hex[3] = {in[0], in[0] ? in[1] : '\0', '\0'};
            *out++ = (char)strtoul(hex, NULL, 16);
            in += strlen(hex);
        } else if (c == 'u' && *in == '{') {
            char *end;
            unsigned long cp = strtoul(in + 1, &end, 16);
            out += lt_tsv_put_utf8(out, cp);
            in = *end == '}' ? end + 1 : end;
        } else {
            *out++ = '\\';
            *out++ = c;
        }
    }
    *out = '\0';
    return (size_t)(out - s);
}

/* Open $LT_TEST_DATA/relpath (tests/data when unset). NULL with a message. */
static inline lt_tsv_t *lt_tsv_open(const char *relpath)
{
    const char *dir = getenv("LT_TEST_DATA");
    lt_tsv_t *t = calloc(1, sizeof(*t));
    snprintf(t->path, sizeof(t->path), "%s/%s", dir ? dir : "tests/data", relpath);
    t->f = fopen(t->path, "r");
    if (!t->f) {
        fprintf(stderr, "cannot open %s\n", t->path);
        free(t);
        return NULL;
    }
    return t;
}

/* The next case into t->field[0..t->nfields); 0 at the end of the file. */
static inline int lt_tsv_next(lt_tsv_t *t)
{
    ssize_t n;
    while ((n = getline(&t->line, &t->cap, t->f)) >= 0) {
        t->lineno++;
        while (n > 0 && (t->line[n - 1] == '\n' || t->line[n - 1] == '\r'))
            t->line[--n] = '\0';
        if (n == 0 || t->line[0] == '#')
            continue;
        t->nfields = 0;
        for (char *p = t->line; p && t->nfields < LT_TSV_MAX_FIELDS;) {
            char *tab = strchr(p, '\t');
            if (tab)
                *tab = '\0';
            t->field[t->nfields++] = p;
            p = tab ? tab + 1 : NULL;
        }
        for (int i = 0; i < t->nfields; i++)
            t->len[i] = lt_tsv_unescape(t->field[i]);
        for (int i = t->nfields; i < LT_TSV_MAX_FIELDS; i++) {
            t->field[i] = "";
            t->len[i] = 0;
        }
        return 1;
    }
    return 0;
}

static inline void lt_tsv_close(lt_tsv_t *t)
{
    if (!t)
        return;
    fclose(t->f);
    free(t->line);
    free(t);
}

#endif
