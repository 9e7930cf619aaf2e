/* lt_buf — a growable byte buffer for building SQL array literals and COPY data. */
#ifndef LT_BUF_H
#define LT_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct lt_buf {
    char *data;
    size_t len;
    size_t cap;
} lt_buf_t;

void lt_buf_reset(lt_buf_t *buf);   /* length 0, keeps the memory */
void lt_buf_free(lt_buf_t *buf);    /* releases the memory */
void lt_buf_append(lt_buf_t *buf, const void *data, size_t len);
void lt_buf_puts(lt_buf_t *buf, const char *s);
void lt_buf_printf(lt_buf_t *buf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Decimal integers, without printf. */
void lt_buf_u64(lt_buf_t *buf, uint64_t v);
void lt_buf_i64(lt_buf_t *buf, int64_t v);
/* Unix microseconds as a PostgreSQL timestamptz literal in UTC:
 * "2026-11-24 21:33:24.123456+00". */
void lt_buf_utc_us(lt_buf_t *buf, int64_t us);
/* Lower-case hex of len bytes into out (2*len+1 bytes, NUL-terminated).
 * Returns out. The one hex writer: lt_buf_hex appends the same. */
char *lt_hex(const uint8_t *bytes, size_t len, char *out);
/* Lower-case hex of bytes. */
void lt_buf_hex(lt_buf_t *buf, const uint8_t *bytes, size_t len);
/* s as a double-quoted element of a PostgreSQL array literal. */
void lt_buf_array_str(lt_buf_t *buf, const char *s);
/* s escaped for a COPY ... (FORMAT text) field: backslash, tab, newline, CR. */
void lt_buf_copy_str(lt_buf_t *buf, const char *s);
void lt_buf_copy_strn(lt_buf_t *buf, const char *s, size_t len);
/* NUL-terminate and return data (never NULL). */
const char *lt_buf_cstr(lt_buf_t *buf);

#endif
