/* lt_util — time, signals and small string helpers shared by every program. */
#ifndef LT_UTIL_H
#define LT_UTIL_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

/* Set by SIGINT/SIGTERM; the handler does nothing else. */
extern volatile sig_atomic_t lt_stop_requested;

/* Set by SIGHUP: the daemon re-reads what it can of its configuration. */
extern volatile sig_atomic_t lt_reload_requested;

/* Install SIGINT/SIGTERM handlers that set lt_stop_requested, a SIGHUP
 * handler that sets lt_reload_requested; ignore SIGPIPE. */
void lt_signals_install(void);

int64_t lt_now_us(void);      /* wall clock, Unix microseconds */
int64_t lt_monotonic_ms(void); /* for timeouts and rates */

/* Sleep up to ms, returning early when a stop is requested. */
void lt_sleep_ms(int ms);

/* Exponential backoff: doubles *cur_ms up to max_ms and returns the value to wait. */
int lt_backoff_next(int *cur_ms, int max_ms);

/* Copy src into dst of size n, always NUL-terminated. Returns strlen(src). */
size_t lt_strlcpy(char *dst, const char *src, size_t n);

/* Format an error into errstr (if non-NULL) and return -1, for `return lt_err(...)`. */
int lt_err(char *errstr, size_t errstr_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Read a whole file into a NUL-terminated malloc'd buffer; NULL with errstr. */
char *lt_read_file(const char *path, size_t *len, char *errstr, size_t errstr_size);

/* True if s is exactly n ASCII digits. */
int lt_is_digits(const char *s, size_t n);

#endif
