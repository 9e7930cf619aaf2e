#include "lt_log.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <utf8proc.h>

#include "lt_buf.h"

lt_log_level_t lt_log_level = LT_LOG_INFO;
static const char *lt_log_comp = "lienthong";
static const char *const lt_log_names[] = {"error", "warn", "info", "debug"};

void lt_log_init(const char *comp, lt_log_level_t level)
{
    lt_log_comp = comp;
    lt_log_level = level;
}

int lt_log_level_parse(const char *name)
{
    for (int i = 0; i <= LT_LOG_DEBUG; i++)
        if (strcmp(name, lt_log_names[i]) == 0)
            return i;
    return -1;
}

/* ------------------------------------------------------------- escaping */

/* The code point at s (at most len bytes) into *cp, -1 if the bytes are not
 * UTF-8; returns how many bytes it spans (at least 1). */
static size_t lt_log_utf8_next(const char *s, size_t len, int32_t *cp)
{
    utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)s,
                                          (utf8proc_ssize_t)len, cp);
    if (n > 0)
        return (size_t)n;
    *cp = -1;
    return 1;
}

/* Not UTF-8, or a character that would break the line for some reader: C0
 * and C1 controls, DEL, the line and paragraph separators. */
static int lt_log_unprintable(int32_t cp)
{
    return cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0x2028 || cp == 0x2029;
}

/* s[0..len) as the inside of a logfmt quoted value: quote and backslash
 * escaped, control characters as \n \r \t or \u00XX, bytes that are not
 * UTF-8 as \ufffd, so the line stays one line of valid text. */
static void lt_log_put_escaped(lt_buf_t *out, const char *s, size_t len)
{
    for (size_t i = 0, n; i < len; i += n) {
        int32_t cp;
        n = lt_log_utf8_next(s + i, len - i, &cp);
        if (cp == '"' || cp == '\\')
            lt_buf_printf(out, "\\%c", (char)cp);
        else if (cp == '\n')
            lt_buf_puts(out, "\\n");
        else if (cp == '\r')
            lt_buf_puts(out, "\\r");
        else if (cp == '\t')
            lt_buf_puts(out, "\\t");
        else if (lt_log_unprintable(cp))
            lt_buf_printf(out, "\\u%04x", cp < 0 ? 0xfffdu : (unsigned)cp);
        else
            lt_buf_append(out, s + i, n);
    }
}

/* 1 if s[0..len) can stand as a bare (unquoted) logfmt value. */
static int lt_log_is_bare(const char *s, size_t len)
{
    for (size_t i = 0, n; i < len; i += n) {
        int32_t cp;
        n = lt_log_utf8_next(s + i, len - i, &cp);
        if (cp <= ' ' || cp == '"' || cp == '=' || cp == '\\' || lt_log_unprintable(cp))
            return 0;
    }
    return 1;
}

/* Text the caller composed itself (an appended ` key="value"` pair): kept as
 * written, but never allowed to break the line. */
static void lt_log_put_raw(lt_buf_t *out, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        lt_buf_append(out, c < 0x20 || c == 0x7f ? " " : s + i, 1);
    }
}

/* ---------------------------------------------- one printf conversion */

/* A conversion of kv_fmt, "%-*.*s" and the like, with any '*' resolved. */
typedef struct lt_log_spec {
    char flags[8];
    int width, precision; /* -1: not given */
    char length[3];       /* "", "hh", "h", "l", "ll", "z", "j", "t" or "L" */
    char conv;
} lt_log_spec_t;

static int lt_log_conv_is(char conv, const char *set)
{
    return conv != '\0' && strchr(set, conv) != NULL;
}

/* A width or precision: digits, or '*' taking an int argument. */
static int lt_log_spec_number(const char **f, va_list *ap)
{
    if (**f == '*')
        return (*f)++, va_arg(*ap, int);
    int v = 0;
    while (**f >= '0' && **f <= '9')
        v = v * 10 + (*(*f)++ - '0');
    return v;
}

/* Parse the conversion after a '%' at f, taking '*' arguments from ap;
 * returns the format after it. */
static const char *lt_log_spec_parse(const char *f, va_list *ap, lt_log_spec_t *spec)
{
    size_t nflags = 0;
    memset(spec, 0, sizeof(*spec));
    while (lt_log_conv_is(*f, "-+ #0") && nflags < sizeof(spec->flags) - 2)
        spec->flags[nflags++] = *f++;
    spec->width = -1;
    if (*f == '*' || (*f >= '0' && *f <= '9')) {
        spec->width = lt_log_spec_number(&f, ap);
        if (spec->width < 0) { /* a negative '*' width means left-justified */
            spec->flags[nflags++] = '-';
            spec->width = -spec->width;
        }
    }
    spec->precision = -1;
    if (*f == '.') {
        f++;
        spec->precision = lt_log_spec_number(&f, ap);
        if (spec->precision < 0) /* a negative '*' precision means none */
            spec->precision = -1;
    }
    for (size_t n = 0; lt_log_conv_is(*f, "hlzjtL") && n < 2; n++)
        spec->length[n] = *f++;
    spec->conv = *f ? *f++ : '\0';
    return f;
}

/* The printf format of spec, e.g. "%-5.2jd". Integers are passed as intmax_t
 * ("j"), so one call serves every length modifier; floats keep theirs ("L"). */
static void lt_log_spec_format(const lt_log_spec_t *spec, char *fmt, size_t size)
{
    char width[16] = "", precision[16] = "";
    const char *length = lt_log_conv_is(spec->conv, "diouxX")     ? "j"
                         : lt_log_conv_is(spec->conv, "eEfFgGaA") ? spec->length
                                                                  : "";
    if (spec->width >= 0)
        snprintf(width, sizeof(width), "%d", spec->width);
    if (spec->precision >= 0)
        snprintf(precision, sizeof(precision), ".%d", spec->precision);
    snprintf(fmt, size, "%%%s%s%s%s%c", spec->flags, width, precision, length, spec->conv);
}

static intmax_t lt_log_signed_arg(const char *length, va_list *ap)
{
    if (!strcmp(length, "hh"))
        return (signed char)va_arg(*ap, int);
    if (!strcmp(length, "h"))
        return (short)va_arg(*ap, int);
    if (!strcmp(length, "l"))
        return va_arg(*ap, long);
    if (!strcmp(length, "ll"))
        return va_arg(*ap, long long);
    if (!strcmp(length, "z"))
        return (intmax_t)va_arg(*ap, size_t);
    if (!strcmp(length, "j"))
        return va_arg(*ap, intmax_t);
    if (!strcmp(length, "t"))
        return va_arg(*ap, ptrdiff_t);
    return va_arg(*ap, int);
}

static uintmax_t lt_log_unsigned_arg(const char *length, va_list *ap)
{
    if (!strcmp(length, "hh"))
        return (unsigned char)va_arg(*ap, unsigned);
    if (!strcmp(length, "h"))
        return (unsigned short)va_arg(*ap, unsigned);
    if (!strcmp(length, "l"))
        return va_arg(*ap, unsigned long);
    if (!strcmp(length, "ll"))
        return va_arg(*ap, unsigned long long);
    if (!strcmp(length, "z"))
        return va_arg(*ap, size_t);
    if (!strcmp(length, "j"))
        return va_arg(*ap, uintmax_t);
    if (!strcmp(length, "t"))
        return (uintmax_t)va_arg(*ap, ptrdiff_t);
    return va_arg(*ap, unsigned);
}

/* Take spec's argument from ap and append it as printf would. The format is
 * rebuilt from spec, hence not a literal: the compiler checked the caller's
 * whole format through lt_log_write's format attribute. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
static void lt_log_spec_render(const lt_log_spec_t *spec, va_list *ap, lt_buf_t *out)
{
    char fmt[64];
    lt_log_spec_format(spec, fmt, sizeof(fmt));
    if (lt_log_conv_is(spec->conv, "di")) {
        lt_buf_printf(out, fmt, lt_log_signed_arg(spec->length, ap));
    } else if (lt_log_conv_is(spec->conv, "ouxX")) {
        lt_buf_printf(out, fmt, lt_log_unsigned_arg(spec->length, ap));
    } else if (spec->conv == 'c') {
        lt_buf_printf(out, fmt, va_arg(*ap, int));
    } else if (spec->conv == 's') {
        const char *s = va_arg(*ap, const char *);
        lt_buf_printf(out, fmt, s ? s : "(null)");
    } else if (spec->conv == 'p') {
        lt_buf_printf(out, fmt, va_arg(*ap, void *));
    } else if (lt_log_conv_is(spec->conv, "eEfFgGaA") && !strcmp(spec->length, "L")) {
        lt_buf_printf(out, fmt, va_arg(*ap, long double));
    } else if (lt_log_conv_is(spec->conv, "eEfFgGaA")) {
        lt_buf_printf(out, fmt, va_arg(*ap, double));
    } else {
        lt_buf_puts(out, "%?"); /* %n and extensions: no argument to take */
    }
}
#pragma GCC diagnostic pop

/* ------------------------------------------------------- the kv part */

/* Write kv_fmt with its arguments, escaping what the arguments bring in:
 *  - inside a quoted value (key="...%s..."), the rendered argument is escaped;
 *  - a conversion that is a whole bare value (key=%s followed by a space or the
 *    end) is quoted and escaped when its text could not stand bare ("apply
 *    round", "k=v");
 *  - anything else the caller composed is kept, minus line breaks.
 * Quotes are found in the format, never in the rendered text, so a quote an
 * argument brings cannot end a value early. */
static void lt_log_put_kv(lt_buf_t *line, const char *kv_fmt, va_list *ap)
{
    lt_buf_t value = {0};
    int quoted = 0;
    const char *f = kv_fmt;
    while (*f) {
        if (*f != '%' || f[1] == '%') {
            quoted ^= *f == '"';
            lt_buf_append(line, f, 1);
            f += *f == '%' ? 2 : 1;
            continue;
        }
        lt_log_spec_t spec;
        int after_equals = f > kv_fmt && f[-1] == '=';
        f = lt_log_spec_parse(f + 1, ap, &spec);
        lt_buf_reset(&value);
        lt_log_spec_render(&spec, ap, &value);
        int whole_bare_value = !quoted && after_equals && (*f == ' ' || *f == '\0');
        if (quoted) {
            lt_log_put_escaped(line, value.data, value.len);
        } else if (whole_bare_value && !lt_log_is_bare(value.data, value.len)) {
            lt_buf_puts(line, "\"");
            lt_log_put_escaped(line, value.data, value.len);
            lt_buf_puts(line, "\"");
        } else {
            lt_log_put_raw(line, value.data, value.len);
        }
    }
    lt_buf_free(&value);
}

void lt_log_write(lt_log_level_t level, const char *msg, const char *kv_fmt, ...)
{
    lt_buf_t line = {0};
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    lt_buf_printf(&line, "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s comp=%s msg=\"",
                  tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                  tm.tm_sec, (long)tv.tv_usec / 1000, lt_log_names[level], lt_log_comp);
    lt_log_put_escaped(&line, msg, strlen(msg));
    lt_buf_puts(&line, "\"");
    if (kv_fmt[0]) {
        va_list ap;
        lt_buf_puts(&line, " ");
        va_start(ap, kv_fmt);
        lt_log_put_kv(&line, kv_fmt, &ap);
        va_end(ap);
    }
    lt_buf_puts(&line, "\n");
    /* One write per line so lines from threads do not interleave. */
    fwrite(line.data, 1, line.len, stderr);
    lt_buf_free(&line);
}
