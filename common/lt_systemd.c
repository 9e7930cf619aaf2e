/* lt_systemd — sd_notify(3) through libsystemd: readiness, status, watchdog
 * pings and stopping, each a no-op outside systemd. */
#include "lt_systemd.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <systemd/sd-daemon.h>

#include "lt_log.h"
#include "lt_util.h"

#define LT_SYSTEMD_STATUS_MAX 256

/* The watchdog as systemd set it for this process: checked once. */
static int lt_systemd_wd_checked;
static int64_t lt_systemd_wd_every_ms; /* 0 = no watchdog; else a quarter of it */
static int64_t lt_systemd_wd_last_ms;

static int lt_systemd_active(void)
{
    const char *socket = getenv("NOTIFY_SOCKET");
    return socket && *socket;
}

/* Send "<head>STATUS=<fmt…>", the status cut to one line; nothing outside
 * systemd. */
static void lt_systemd_send(const char *head, const char *fmt, va_list ap)
{
    char status[LT_SYSTEMD_STATUS_MAX];
    if (!lt_systemd_active())
        return;
    vsnprintf(status, sizeof(status), fmt, ap);
    for (char *p = status; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    int rc = sd_notifyf(0, "%sSTATUS=%s", head, status);
    if (rc < 0)
        lt_warn("systemd notification not sent", "message=\"%sSTATUS=%s\" errno=%d", head,
                status, -rc);
}

void lt_systemd_ready(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lt_systemd_send("READY=1\n", fmt, ap);
    va_end(ap);
    lt_systemd_watchdog(); /* the watchdog is armed from READY=1 on */
}

void lt_systemd_status(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lt_systemd_send("", fmt, ap);
    va_end(ap);
}

void lt_systemd_stopping(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lt_systemd_send("STOPPING=1\n", fmt, ap);
    va_end(ap);
}

void lt_systemd_watchdog(void)
{
    if (!lt_systemd_wd_checked) {
        uint64_t usec = 0;
        lt_systemd_wd_checked = 1;
        /* > 0 only when WATCHDOG_USEC is set and WATCHDOG_PID, if set, is us. */
        if (lt_systemd_active() && sd_watchdog_enabled(0, &usec) > 0 && usec >= 4000) {
            lt_systemd_wd_every_ms = (int64_t)(usec / 4000);
            lt_info("systemd watchdog on", "interval_ms=%llu ping_every_ms=%lld",
                    (unsigned long long)(usec / 1000), (long long)lt_systemd_wd_every_ms);
        }
    }
    if (!lt_systemd_wd_every_ms)
        return;
    int64_t now = lt_monotonic_ms();
    if (lt_systemd_wd_last_ms && now - lt_systemd_wd_last_ms < lt_systemd_wd_every_ms)
        return;
    lt_systemd_wd_last_ms = now;
    int rc = sd_notify(0, "WATCHDOG=1");
    if (rc < 0)
        lt_warn("systemd watchdog ping not sent", "errno=%d", -rc);
}
