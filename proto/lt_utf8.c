/* lt_utf8 — strict UTF-8 and the control characters no text may hold. */
#include "lt_utf8.h"

/* Length of the UTF-8 sequence at s[0..avail) with its code point in *cp, or 0
 * if it is not valid. The second-byte ranges exclude overlong forms (E0, F0),
 * surrogates (ED) and code points above U+10FFFF (F4); C0, C1 and F5..FF never
 * start a sequence. */
static size_t lt_utf8_decode(const unsigned char *s, size_t avail, uint32_t *cp)
{
    unsigned char c = s[0], lo = 0x80, hi = 0xBF;
    size_t n, i;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4;
    else
        return 0;
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    if (avail < n || s[1] < lo || s[1] > hi)
        return 0;
    *cp = c & (0x7F >> n);
    for (i = 1; i < n; i++) {
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
        *cp = *cp << 6 | (s[i] & 0x3F);
    }
    return n;
}

/* C0 and C1 controls and DEL (Unicode category Cc); free text keeps its
 * whitespace; a name or a code stays on one line. */
static int lt_utf8_refused(uint32_t cp, lt_text_kind_t kind)
{
    if (cp < 0x20 || (cp >= 0x7F && cp <= 0x9F))
        return kind == LT_TEXT_LINE || (cp != '\t' && cp != '\n' && cp != '\r');
    return kind == LT_TEXT_LINE && (cp == 0x2028 || cp == 0x2029);
}

lt_utf8_fault_t lt_utf8_scan(const char *s, size_t len, lt_text_kind_t kind, size_t *offset,
                             uint32_t *cp)
{
    const unsigned char *u = (const unsigned char *)s;
    lt_utf8_fault_t fault = LT_UTF8_OK;
    size_t i = 0, n;
    uint32_t c = 0;

    while (i < len) {
        if (u[i] >= 0x20 && u[i] < 0x7F) { /* printable ASCII: most of every text */
            i++;
            continue;
        }
        n = lt_utf8_decode(u + i, len - i, &c);
        if (n == 0) {
            fault = LT_UTF8_INVALID;
            break;
        }
        if (lt_utf8_refused(c, kind)) {
            fault = LT_UTF8_CONTROL;
            break;
        }
        i += n;
    }
    if (fault != LT_UTF8_OK && offset)
        *offset = i;
    if (fault == LT_UTF8_CONTROL && cp)
        *cp = c;
    return fault;
}

const char *lt_text_check(const char *s, size_t len, size_t *offset)
{
    switch (lt_utf8_scan(s, len, LT_TEXT_MULTILINE, offset, NULL)) {
    case LT_UTF8_INVALID:
        return "invalid UTF-8";
    case LT_UTF8_CONTROL:
        return "control character";
    default:
        return NULL;
    }
}
