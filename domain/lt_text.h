/* lt_text — Unicode text for names, codes and free text: validation, NFC and
 * name keys (libutf8proc).
 *
 * Every function takes (s, len) and checks it with the system's one text rule,
 * lt_utf8_scan of the wire library (strict UTF-8, no C0 or C1 control, no DEL;
 * the decoder applies the same rule to free text), adding only the sentences
 * the rules report. Copies are malloc'd: free() them. */
#ifndef LT_TEXT_H
#define LT_TEXT_H

#include <stddef.h>

#include "lt_utf8.h" /* lt_text_kind_t: LT_TEXT_LINE, LT_TEXT_MULTILINE */

/* 0 if s[0..len) is valid text of this kind, else -1 with a sentence naming the
 * offending byte offset in errstr (C0 and C1 controls, DEL are rejected). */
int lt_text_validate(const char *s, size_t len, lt_text_kind_t kind, char *errstr,
                     size_t errstr_size) __attribute__((warn_unused_result));

/* A validated NFC copy of s[0..len) (caller frees), or NULL with errstr when the
 * text is invalid for its kind or memory runs out. */
char *lt_text_nfc(const char *s, size_t len, lt_text_kind_t kind, char *errstr,
                  size_t errstr_size) __attribute__((warn_unused_result));

/* 1 if s[0..len) is valid text of this kind already in NFC, 0 if valid but
 * not NFC, -1 with errstr when invalid. Text made of Latin letters, including
 * every precomposed Vietnamese letter, is decided without normalising. */
int lt_text_is_nfc(const char *s, size_t len, lt_text_kind_t kind, char *errstr,
                   size_t errstr_size) __attribute__((warn_unused_result));

/* The comparison key of a Vietnamese name (caller frees), or NULL with errstr
 * for invalid UTF-8 or a control character other than whitespace.
 *
 * Two names have byte-equal keys when they differ only in
 *  - normalisation form (NFD input equals NFC input);
 *  - case (Unicode case folding) and default-ignorable characters (soft hyphen,
 *    zero-width space);
 *  - tone-mark placement: the five tone marks (U+0300 grave, U+0301 acute,
 *    U+0303 tilde, U+0309 hook above, U+0323 dot below) are pulled out of each
 *    word (a run of letters, marks and digits) and appended at its end in
 *    code-point order, so "Hoà" = "Hòa", "Thuỷ" = "Thủy"; circumflex, breve,
 *    horn and đ stay where they are ("Đức" != "Dức", "Hoa" != "Hoà");
 *  - apostrophe style: ’ ‘ ʼ ` all become ';
 *  - whitespace: runs of any Unicode white space become one space, leading and
 *    trailing space is dropped.
 * The key is NFC text meant for comparison and indexing, not for display. */
char *lt_text_name_key(const char *s, size_t len, char *errstr, size_t errstr_size)
    __attribute__((warn_unused_result));

/* 1 if the NUL-terminated names a and b have equal keys, 0 if not, -1 with errstr
 * if either is not valid text. */
int lt_text_name_equal(const char *a, const char *b, char *errstr, size_t errstr_size)
    __attribute__((warn_unused_result));

#endif
