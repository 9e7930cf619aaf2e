#include "lt_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void lt_buf_reserve(lt_buf_t *buf, size_t extra)
{
    if (buf->len + extra + 1 <= buf->cap)
        return;
    size_t cap = buf->cap ? buf->cap : 256;
    while (cap < buf->len + extra + 1)
        cap *= 2;
    char *data = realloc(buf->data, cap);
    if (!data)
        abort(); /* out of memory: nothing sensible to do for a sync daemon */
    buf->data = data;
    buf->cap = cap;
}

void lt_buf_reset(lt_buf_t *buf)
{
    buf->len = 0;
}

void lt_buf_free(lt_buf_t *buf)
{
    free(buf->data);
    buf->data = NULL;
    buf->len = buf->cap = 0;
}

void lt_buf_append(lt_buf_t *buf, const void *data, size_t len)
{
    lt_buf_reserve(buf, len);
    memcpy(buf->data + buf->len, data, len);
    buf->len += len;
}

void lt_buf_puts(lt_buf_t *buf, const char *s)
{
    lt_buf_append(buf, s, strlen(s));
}

void lt_buf_printf(lt_buf_t *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    lt_buf_reserve(buf, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(buf->data + buf->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    buf->len += (size_t)n;
}

void lt_buf_u64(lt_buf_t *buf, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[sizeof(tmp) - ++n] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    lt_buf_append(buf, tmp + sizeof(tmp) - n, n);
}

void lt_buf_i64(lt_buf_t *buf, int64_t v)
{
    if (v < 0) {
        lt_buf_append(buf, "-", 1);
        lt_buf_u64(buf, (uint64_t)0 - (uint64_t)v);
    } else {
        lt_buf_u64(buf, (uint64_t)v);
    }
}

void lt_buf_utc_us(lt_buf_t *buf, int64_t us)
{
    int64_t secs = us / 1000000, frac = us % 1000000;
    if (frac < 0)
        secs--, frac += 1000000;
    time_t t = (time_t)secs;
    struct tm tm;
    gmtime_r(&t, &tm);
    /* "YYYY-MM-DD HH:MM:SS.ffffff+00", digit by digit: one per event on the
     * sink's hot path, where snprintf showed in profiles. */
    char text[32], *p = text;
    const struct {
        long value;
        int digits;
        char after;
    } parts[] = {{tm.tm_year + 1900L, 4, '-'}, {tm.tm_mon + 1L, 2, '-'}, {tm.tm_mday, 2, ' '},
                 {tm.tm_hour, 2, ':'},         {tm.tm_min, 2, ':'},     {tm.tm_sec, 2, '.'},
                 {(long)frac, 6, '+'}};
    if (tm.tm_year + 1900L < 0 || tm.tm_year + 1900L > 9999) { /* not from a valid event */
        lt_buf_printf(buf, "%04d-%02d-%02d %02d:%02d:%02d.%06d+00", tm.tm_year + 1900,
                      tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)frac);
        return;
    }
    for (size_t i = 0; i < sizeof(parts) / sizeof(*parts); i++) {
        long v = parts[i].value;
        for (int d = parts[i].digits - 1; d >= 0; d--, v /= 10)
            p[d] = (char)('0' + v % 10);
        p += parts[i].digits;
        *p++ = parts[i].after;
    }
    *p++ = '0';
    *p++ = '0';
    lt_buf_append(buf, text, (size_t)(p - text));
}

char *lt_hex(const uint8_t *bytes, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[bytes[i] >> 4];
        out[2 * i + 1] = digits[bytes[i] & 15];
    }
    out[2 * len] = '\0';
    return out;
}

void lt_buf_hex(lt_buf_t *buf, const uint8_t *bytes, size_t len)
{
    lt_buf_reserve(buf, len * 2); /* and one byte more, for lt_hex's NUL */
    lt_hex(bytes, len, buf->data + buf->len);
    buf->len += len * 2;
}

void lt_buf_array_str(lt_buf_t *buf, const char *s)
{
    lt_buf_append(buf, "\"", 1);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            lt_buf_append(buf, "\\", 1);
        lt_buf_append(buf, s, 1);
    }
    lt_buf_append(buf, "\"", 1);
}

void lt_buf_copy_strn(lt_buf_t *buf, const char *s, size_t len)
{
    const char *run = s, *end = s + len;
    for (; s < end; s++) {
        const char *esc;
        switch (*s) {
        case '\\': esc = "\\\\"; break;
        case '\t': esc = "\\t"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        default: continue; /* plain runs are copied in one piece */
        }
        lt_buf_append(buf, run, (size_t)(s - run));
        lt_buf_append(buf, esc, 2);
        run = s + 1;
    }
    lt_buf_append(buf, run, (size_t)(end - run));
}

void lt_buf_copy_str(lt_buf_t *buf, const char *s)
{
    lt_buf_copy_strn(buf, s, strlen(s));
}

const char *lt_buf_cstr(lt_buf_t *buf)
{
    lt_buf_reserve(buf, 0);
    buf->data[buf->len] = '\0';
    return buf->data;
}
