/* lt_utf8 — the one text rule of the system.
 *
 * Text is strict UTF-8 (no overlong forms, no surrogates, nothing above
 * U+10FFFF) without control characters: no C0 control, no DEL, no C1 control
 * (U+0080..U+009F). Free text may hold tab, newline and carriage return; a
 * name or a code may not, nor a line or paragraph separator (U+2028, U+2029).
 *
 * Why here, in the wire library: the decoder must refuse bad text before a
 * message is accepted (protobuf-c truncates a string at NUL without a word),
 * and the wire library cannot depend on the domain. So the rule lives here
 * once; the decoder and the JSON parser apply it to every string (free text),
 * and domain/lt_text builds its validator (names and free text, with its own
 * sentences) on lt_utf8_scan. They cannot disagree: there is one loop. */
#ifndef LT_UTF8_H
#define LT_UTF8_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    /* Names and codes: no control character at all (no tab, no newline), no
     * line or paragraph separator (U+2028, U+2029). */
    LT_TEXT_LINE = 0,
    /* Free text (addresses, causes): tab, newline and carriage return allowed. */
    LT_TEXT_MULTILINE = 1,
} lt_text_kind_t;

typedef enum {
    LT_UTF8_OK = 0,
    LT_UTF8_INVALID, /* not strict UTF-8 */
    LT_UTF8_CONTROL, /* a character the rule refuses for this kind of text */
} lt_utf8_fault_t;

/* The first fault of s[0..len) as text of this kind. On a fault, *offset gets
 * the byte offset where the offending sequence starts and, for
 * LT_UTF8_CONTROL, *cp its code point (either pointer may be NULL). */
lt_utf8_fault_t lt_utf8_scan(const char *s, size_t len, lt_text_kind_t kind, size_t *offset,
                             uint32_t *cp);

/* The rule for every string on the wire (free text), in the words the codec
 * and the JSON parser report: NULL for valid text, else "invalid UTF-8" or
 * "control character" with the byte offset in *offset (when not NULL). */
const char *lt_text_check(const char *s, size_t len, size_t *offset);

#endif
