#include "lt_topic.h"

#include <stdio.h>
#include <string.h>

#include "lt_util.h"

#define LT_TOPIC_PREFIX   "lt."
#define LT_PROVINCE_DIGITS 2
#define LT_COMMUNE_DIGITS  5

static int lt_topic_fits(int written, size_t size)
{
    return written >= 0 && (size_t)written < size ? 0 : -1;
}

int lt_topic_name(char *out, size_t size, const char *province, const char *commune,
                  const char *kind)
{
    return lt_topic_fits(snprintf(out, size, "lt.%s.%s.%s", province, commune, kind), size);
}

int lt_topic_pattern(char *out, size_t size, const char *province, const char *kind)
{
    /* The name above with its dots escaped and the commune left open. */
    return lt_topic_fits(snprintf(out, size, "^lt\\.%s\\.[0-9]{%d}\\.%s$", province,
                                  LT_COMMUNE_DIGITS, kind),
                         size);
}

/* Copy the n digits at s followed by a dot into part; the position after
 * the dot, or NULL. */
static const char *lt_topic_digits(const char *s, size_t n, char *part)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return NULL;
    if (s[n] != '.')
        return NULL;
    memcpy(part, s, n);
    part[n] = '\0';
    return s + n + 1;
}

static int lt_topic_is_kind(const char *s, size_t max)
{
    size_t len = strlen(s);
    if (len == 0 || len >= max)
        return 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] < 'a' || s[i] > 'z')
            return 0;
    return 1;
}

int lt_topic_parse(const char *topic, lt_topic_parts_t *parts)
{
    size_t prefix = strlen(LT_TOPIC_PREFIX);
    if (strncmp(topic, LT_TOPIC_PREFIX, prefix) != 0)
        return -1;
    const char *p = lt_topic_digits(topic + prefix, LT_PROVINCE_DIGITS, parts->province);
    if (p)
        p = lt_topic_digits(p, LT_COMMUNE_DIGITS, parts->commune);
    if (!p || !lt_topic_is_kind(p, sizeof(parts->kind)))
        return -1;
    lt_strlcpy(parts->kind, p, sizeof(parts->kind));
    return 0;
}
