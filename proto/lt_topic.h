/* lt_topic — the Kafka topic names of the system, written and read in one
 * place: lt.<province>.<commune>.<kind>, with a 2-digit province code, a
 * 5-digit commune code and a kind, "events" or "control". Provisioning,
 * the agent, the sink's subscription and a quarantine replay all go
 * through here, so the name cannot drift between them. */
#ifndef LT_TOPIC_H
#define LT_TOPIC_H

#include <stddef.h>

#define LT_TOPIC_EVENTS  "events"
#define LT_TOPIC_CONTROL "control"

/* Room for any name this module builds, NUL included. */
#define LT_TOPIC_NAME_MAX 64

/* The parts of a topic name. */
typedef struct lt_topic_parts {
    char province[3];
    char commune[6];
    char kind[16];
} lt_topic_parts_t;

/* out <- "lt.<province>.<commune>.<kind>". Returns 0, or -1 when it does not
 * fit in size (out then holds a truncated name). */
int lt_topic_name(char *out, size_t size, const char *province, const char *commune,
                  const char *kind);

/* Split a topic name into parts. Returns 0, or -1 when topic is not
 * lt.<2 digits>.<5 digits>.<lower-case kind>. */
int lt_topic_parse(const char *topic, lt_topic_parts_t *parts);

/* out <- a regular expression (librdkafka's subscription syntax, leading ^)
 * matching the <kind> topic of every commune of province. Returns 0 or -1
 * as lt_topic_name. */
int lt_topic_pattern(char *out, size_t size, const char *province, const char *kind);

#endif
