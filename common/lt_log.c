#include "lt_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

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

void lt_log_write(lt_log_level_t level, const char *msg, const char *kv_fmt, ...)
{
    char line[2048];
    struct timeval tv;
    struct tm tm;
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    int n = snprintf(line, sizeof(line),
                     "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s comp=%s msg=\"%s\"",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, (long)tv.tv_usec / 1000, lt_log_names[level], lt_log_comp,
                     msg);
    if (n > 0 && (size_t)n < sizeof(line) - 2 && kv_fmt[0]) {
        va_list ap;
        line[n++] = ' ';
        va_start(ap, kv_fmt);
        vsnprintf(line + n, sizeof(line) - (size_t)n, kv_fmt, ap);
        va_end(ap);
    }
    /* One event, one line: libpq and librdkafka messages carry newlines and tabs. */
    for (char *p = line; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    /* One write per line so lines from threads do not interleave. */
    fprintf(stderr, "%s\n", line);
}
