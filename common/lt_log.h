/* lt_log — levelled, one line per event, logfmt.
 *
 *   ts=2026-11-24T20:41:07.123Z level=info comp=agent msg="batch delivered" commune=00004 first_seq=1
 *
 * The level is checked before any formatting work. Context goes into the
 * key=value part so a log shipper can index it; values are escaped so any
 * logfmt parser reads back exactly what was written. */
#ifndef LT_LOG_H
#define LT_LOG_H

typedef enum { LT_LOG_ERROR = 0, LT_LOG_WARN, LT_LOG_INFO, LT_LOG_DEBUG } lt_log_level_t;

extern lt_log_level_t lt_log_level;

/* comp is the component name printed in every line ("agent", "sink"). */
void lt_log_init(const char *comp, lt_log_level_t level);
/* Parse "error|warn|info|debug"; returns -1 if unknown. */
int lt_log_level_parse(const char *name);

/* msg is a short fixed sentence; kv_fmt formats the key=value context (may be "").
 *
 * Write free text as a quoted value, key="%s": whatever the argument holds
 * (quotes, backslashes, newlines, bytes that are not UTF-8) is escaped per
 * logfmt, so the line always parses. A whole bare value, key=%s followed by a
 * space or the end, is quoted when its text needs it (a space, '=', '"').
 * Anything else an argument renders is written as is, minus line breaks. */
void lt_log_write(lt_log_level_t level, const char *msg, const char *kv_fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define lt_log(level, msg, ...)                                                         \
    do {                                                                                \
        if ((level) <= lt_log_level)                                                    \
            lt_log_write((level), (msg), __VA_ARGS__);                                  \
    } while (0)

#define lt_error(msg, ...) lt_log(LT_LOG_ERROR, msg, __VA_ARGS__)
#define lt_warn(msg, ...) lt_log(LT_LOG_WARN, msg, __VA_ARGS__)
#define lt_info(msg, ...) lt_log(LT_LOG_INFO, msg, __VA_ARGS__)
#define lt_debug(msg, ...) lt_log(LT_LOG_DEBUG, msg, __VA_ARGS__)

#endif
