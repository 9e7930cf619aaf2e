#include "lt_util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

volatile sig_atomic_t lt_stop_requested;
volatile sig_atomic_t lt_reload_requested;

static void lt_on_stop_signal(int sig)
{
    (void)sig;
    lt_stop_requested = 1;
}

static void lt_on_reload_signal(int sig)
{
    (void)sig;
    lt_reload_requested = 1;
}

void lt_signals_install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = lt_on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = lt_on_reload_signal;
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int64_t lt_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t lt_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void lt_sleep_ms(int ms)
{
    /* Sleep in slices so a SIGTERM is honoured within 50 ms. */
    while (ms > 0 && !lt_stop_requested) {
        int slice = ms < 50 ? ms : 50;
        struct timespec ts = {slice / 1000, (long)(slice % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        ms -= slice;
    }
}

int lt_backoff_next(int *cur_ms, int max_ms)
{
    int wait = *cur_ms;
    *cur_ms = *cur_ms * 2 > max_ms ? max_ms : *cur_ms * 2;
    return wait;
}

size_t lt_strlcpy(char *dst, const char *src, size_t n)
{
    size_t len = strlen(src);
    if (n) {
        size_t c = len < n - 1 ? len : n - 1;
        memcpy(dst, src, c);
        dst[c] = '\0';
    }
    return len;
}

int lt_err(char *errstr, size_t errstr_size, const char *fmt, ...)
{
    if (errstr && errstr_size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errstr, errstr_size, fmt, ap);
        va_end(ap);
    }
    return -1;
}

char *lt_read_file(const char *path, size_t *len, char *errstr, size_t errstr_size)
{
    FILE *fp = fopen(path, "rb");
    char *buf = NULL;
    long size;
    if (!fp) {
        lt_err(errstr, errstr_size, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (fseek(fp, 0, SEEK_END) != 0 || (size = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0)
        goto fail;
    buf = malloc((size_t)size + 1);
    if (!buf || fread(buf, 1, (size_t)size, fp) != (size_t)size)
        goto fail;
    buf[size] = '\0';
    fclose(fp);
    if (len)
        *len = (size_t)size;
    return buf;
fail:
    lt_err(errstr, errstr_size, "%s: cannot read: %s", path, strerror(errno));
    free(buf);
    fclose(fp);
    return NULL;
}

int lt_is_digits(const char *s, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return s[i] == '\0';
}
