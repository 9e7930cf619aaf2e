/* lt_systemd — telling systemd how a daemon is doing (sd_notify(3)).
 *
 * The units (deploy/systemd/) are Type=notify with WatchdogSec=: a daemon
 * says READY=1 once its database and Kafka client are up (the sink: once it is
 * subscribed), pings WATCHDOG=1 from its main loop, so a loop that stops
 * turning is killed and restarted, keeps a one-line STATUS= for
 * `systemctl status`, and says STOPPING=1 when it begins to shut down.
 *
 * Every call is a no-op when the process was not started by systemd
 * (NOTIFY_SOCKET unset): tests, the demo and a shell see no difference.
 * Not thread-safe: call from the daemon's main thread only. */
#ifndef LT_SYSTEMD_H
#define LT_SYSTEMD_H

/* READY=1 with STATUS=<fmt…>: start-up is complete. */
void lt_systemd_ready(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* STATUS=<fmt…>: what the daemon is doing, one line. */
void lt_systemd_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* WATCHDOG=1, when the service has a watchdog (WATCHDOG_USEC set for this
 * process). Cheap enough for every turn of a loop: it reads the monotonic
 * clock and sends at most one ping per quarter of the watchdog interval. */
void lt_systemd_watchdog(void);

/* STOPPING=1 with STATUS=<fmt…>: shutdown has begun. */
void lt_systemd_stopping(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
