#include "lt_text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "lt_util.h"

/* ---------------------------------------------------------------- validate */

int lt_text_validate(const char *s, size_t len, lt_text_kind_t kind, char *errstr,
                     size_t errstr_size)
{
    size_t at = 0;
    uint32_t cp = 0;

    switch (lt_utf8_scan(s, len, kind, &at, &cp)) {
    case LT_UTF8_INVALID:
        return lt_err(errstr, errstr_size, "invalid UTF-8 (byte 0x%02x at offset %zu)",
                      (unsigned char)s[at], at);
    case LT_UTF8_CONTROL:
        return lt_err(errstr, errstr_size,
                      "control character U+%04X at offset %zu (not allowed in %s)",
                      (unsigned)cp, at, kind == LT_TEXT_LINE ? "a name or code" : "text");
    default:
        return 0;
    }
}

char *lt_text_nfc(const char *s, size_t len, lt_text_kind_t kind, char *errstr,
                  size_t errstr_size)
{
    utf8proc_uint8_t *out = NULL;
    utf8proc_ssize_t n;

    if (lt_text_validate(s, len, kind, errstr, errstr_size) != 0)
        return NULL;
    n = utf8proc_map((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &out,
                     UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    if (n < 0) {
        lt_err(errstr, errstr_size, "cannot normalise text: %s", utf8proc_errmsg(n));
        return NULL;
    }
    return (char *)out;
}

/* Is the UTF-8 sequence at u[0..) one of the code points that are NFC
 * whatever surrounds them (NFC_QC=Yes, combining class 0, never the second of
 * a composition): everything below the combining diacritics U+0300 (lead
 * bytes up to 0xCB), and Latin Extended Additional U+1E00..U+1EFF (E1 B8..BB),
 * where every Vietnamese letter with its tone mark lives. test_text checks the
 * claim against utf8proc for each of them. Returns its length, 0 if not. */
static size_t lt_text_nfc_stable(const unsigned char *u)
{
    if (u[0] < 0x80)
        return 1;
    if (u[0] < 0xCC)
        return 2;
    return u[0] == 0xE1 && u[1] >= 0xB8 && u[1] <= 0xBB ? 3 : 0;
}

int lt_text_is_nfc(const char *s, size_t len, lt_text_kind_t kind, char *errstr,
                   size_t errstr_size)
{
    if (lt_text_validate(s, len, kind, errstr, errstr_size) != 0)
        return -1;
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, n;
    while (i < len && (n = lt_text_nfc_stable(u + i)) != 0)
        i += n;
    if (i >= len)
        return 1; /* the common case, decided without normalising */
    char *norm = lt_text_nfc(s, len, kind, errstr, errstr_size);
    if (!norm)
        return -1;
    int same = strlen(norm) == len && memcmp(norm, s, len) == 0;
    free(norm);
    return same;
}

/* ---------------------------------------------------------------- name key */

static int lt_text_is_tone(utf8proc_int32_t cp)
{
    return cp == 0x0300 || cp == 0x0301 || cp == 0x0303 || cp == 0x0309 || cp == 0x0323;
}

static int lt_text_is_space(utf8proc_int32_t cp)
{
    return cp == '\t' || cp == '\n' || cp == '\r' || cp == 0x0B || cp == 0x0C ||
           cp == 0x85 || utf8proc_category(cp) == UTF8PROC_CATEGORY_ZS || cp == 0x2028 ||
           cp == 0x2029;
}

/* Part of a word: letters, marks and digits. */
static int lt_text_is_word(utf8proc_int32_t cp)
{
    utf8proc_category_t cat = utf8proc_category(cp);
    return (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_ME) ||
           (cat >= UTF8PROC_CATEGORY_ND && cat <= UTF8PROC_CATEGORY_NO);
}

/* Applied to each code point before decomposition and case folding. */
static utf8proc_int32_t lt_text_fold(utf8proc_int32_t cp, void *data)
{
    (void)data;
    if (cp == 0x2019 || cp == 0x2018 || cp == 0x02BC || cp == 0x60)
        return '\'';
    return lt_text_is_space(cp) ? ' ' : cp;
}

/* Rewrites buf[0..n) in place: one space between words, none at the ends, the
 * tone marks of each word moved to its end in code-point order. Returns the new
 * length (never longer). */
static size_t lt_text_move_tones(utf8proc_int32_t *buf, size_t n)
{
    utf8proc_int32_t tones[16];
    size_t in = 0, out = 0, nt = 0;

    while (in <= n) {
        utf8proc_int32_t cp = in < n ? buf[in] : ' ';
        in++;
        if (lt_text_is_tone(cp) && nt < sizeof(tones) / sizeof(*tones)) {
            size_t j = nt++;
            for (; j > 0 && tones[j - 1] > cp; j--)
                tones[j] = tones[j - 1];
            tones[j] = cp;
            continue;
        }
        if (!lt_text_is_word(cp)) {
            for (size_t j = 0; j < nt; j++)
                buf[out++] = tones[j];
            nt = 0;
        }
        if (cp == ' ' && (out == 0 || buf[out - 1] == ' '))
            continue;
        if (in <= n)
            buf[out++] = cp;
    }
    if (out > 0 && buf[out - 1] == ' ')
        out--;
    return out;
}

/* s decomposed, case-folded and folded (lt_text_fold), with the tone marks moved
 * (lt_text_move_tones): *n_out code points in a malloc'd buffer with one spare. */
static utf8proc_int32_t *lt_text_key_points(const char *s, size_t len, size_t *n_out)
{
    const utf8proc_option_t opts =
        UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_CASEFOLD | UTF8PROC_IGNORE;
    const utf8proc_uint8_t *u = (const utf8proc_uint8_t *)s;
    utf8proc_int32_t *buf = NULL;
    utf8proc_ssize_t n, cap;

    cap = utf8proc_decompose_custom(u, (utf8proc_ssize_t)len, NULL, 0, opts, lt_text_fold,
                                    NULL);
    if (cap >= 0 && (size_t)cap < SIZE_MAX / sizeof(*buf) - 1)
        buf = malloc(((size_t)cap + 1) * sizeof(*buf));
    if (!buf)
        return NULL;
    n = utf8proc_decompose_custom(u, (utf8proc_ssize_t)len, buf, cap, opts, lt_text_fold,
                                  NULL);
    if (n < 0 || n > cap) {
        free(buf);
        return NULL;
    }
    *n_out = lt_text_move_tones(buf, (size_t)n);
    return buf;
}

char *lt_text_name_key(const char *s, size_t len, char *errstr, size_t errstr_size)
{
    utf8proc_int32_t *buf;
    utf8proc_uint8_t *key = NULL;
    utf8proc_ssize_t n;
    size_t npoints = 0;

    if (lt_text_validate(s, len, LT_TEXT_MULTILINE, errstr, errstr_size) != 0)
        return NULL;
    buf = lt_text_key_points(s, len, &npoints);
    /* Plain UTF-8 in place (fits: the buffer has a spare code point), then NFC:
     * utf8proc_map reorders marks canonically before composing. */
    n = buf ? utf8proc_reencode(buf, (utf8proc_ssize_t)npoints, 0) : -1;
    if (n >= 0)
        n = utf8proc_map((const utf8proc_uint8_t *)buf, n, &key,
                         UTF8PROC_STABLE | UTF8PROC_COMPOSE);
    free(buf);
    if (n < 0) {
        lt_err(errstr, errstr_size, "cannot build the name key: out of memory");
        return NULL;
    }
    return (char *)key;
}

int lt_text_name_equal(const char *a, const char *b, char *errstr, size_t errstr_size)
{
    char *ka = lt_text_name_key(a, strlen(a), errstr, errstr_size);
    char *kb = ka ? lt_text_name_key(b, strlen(b), errstr, errstr_size) : NULL;
    int eq = ka && kb ? strcmp(ka, kb) == 0 : -1;
    free(ka);
    free(kb);
    return eq;
}
