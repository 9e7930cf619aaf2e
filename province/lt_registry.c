#include "lt_registry.h"

#include <stdlib.h>
#include <string.h>

#include "lt_util.h"

struct lt_commune {
    size_t index;
    char code[8];
    char *events_topic;
    char *key_id;     /* NULL: integrity-only signatures may be accepted */
    char *public_key; /* PEM */
    char merged_into[8]; /* "" while the commune is active */
    uint64_t last_seq;
    uint8_t last_hash[LT_REGISTRY_HASH_LEN];
    lt_ranges_t *missing;
};

struct lt_registry {
    char province[4];
    lt_commune_t **communes; /* pointers: a commune stays put while others are added */
    size_t n, cap;
};

static char *lt_registry_strdup(const char *s)
{
    if (!s)
        return NULL;
    char *copy = strdup(s);
    if (!copy)
        abort();
    return copy;
}

lt_registry_t *lt_registry_new(const char *province)
{
    lt_registry_t *reg = calloc(1, sizeof(*reg));
    if (!reg)
        abort();
    lt_strlcpy(reg->province, province, sizeof(reg->province));
    return reg;
}

static void lt_commune_destroy(lt_commune_t *c)
{
    free(c->events_topic);
    free(c->key_id);
    free(c->public_key);
    lt_ranges_destroy(c->missing);
    free(c);
}

void lt_registry_clear(lt_registry_t *reg)
{
    for (size_t i = 0; i < reg->n; i++)
        lt_commune_destroy(reg->communes[i]);
    reg->n = 0;
}

void lt_registry_destroy(lt_registry_t *reg)
{
    if (!reg)
        return;
    lt_registry_clear(reg);
    free(reg->communes);
    free(reg);
}

const char *lt_registry_province(const lt_registry_t *reg)
{
    return reg->province;
}

lt_commune_t *lt_registry_add(lt_registry_t *reg, const char *code, const char *events_topic,
                              const char *key_id, const char *public_key)
{
    if (reg->n == reg->cap) {
        reg->cap = reg->cap ? reg->cap * 2 : 16;
        reg->communes = realloc(reg->communes, reg->cap * sizeof(*reg->communes));
        if (!reg->communes)
            abort();
    }
    lt_commune_t *c = calloc(1, sizeof(*c));
    if (!c)
        abort();
    c->index = reg->n;
    lt_strlcpy(c->code, code, sizeof(c->code));
    c->events_topic = lt_registry_strdup(events_topic);
    c->key_id = lt_registry_strdup(key_id);
    c->public_key = lt_registry_strdup(public_key);
    c->missing = lt_ranges_new();
    reg->communes[reg->n++] = c;
    return c;
}

size_t lt_registry_count(const lt_registry_t *reg)
{
    return reg->n;
}

lt_commune_t *lt_registry_at(const lt_registry_t *reg, size_t index)
{
    return reg->communes[index];
}

lt_commune_t *lt_registry_by_topic(const lt_registry_t *reg, const char *topic)
{
    for (size_t i = 0; i < reg->n; i++)
        if (strcmp(reg->communes[i]->events_topic, topic) == 0)
            return reg->communes[i];
    return NULL;
}

lt_commune_t *lt_registry_by_code(const lt_registry_t *reg, const char *code)
{
    for (size_t i = 0; i < reg->n; i++)
        if (strcmp(reg->communes[i]->code, code) == 0)
            return reg->communes[i];
    return NULL;
}

size_t lt_commune_index(const lt_commune_t *c)
{
    return c->index;
}

const char *lt_commune_code(const lt_commune_t *c)
{
    return c->code;
}

const char *lt_commune_events_topic(const lt_commune_t *c)
{
    return c->events_topic;
}

const char *lt_commune_key_id(const lt_commune_t *c)
{
    return c->key_id;
}

const char *lt_commune_public_key(const lt_commune_t *c)
{
    return c->public_key;
}

uint64_t lt_commune_last_seq(const lt_commune_t *c)
{
    return c->last_seq;
}

const uint8_t *lt_commune_last_hash(const lt_commune_t *c)
{
    return c->last_hash;
}

void lt_commune_set_progress(lt_commune_t *c, uint64_t last_seq, const uint8_t *last_hash)
{
    c->last_seq = last_seq;
    if (last_hash)
        memcpy(c->last_hash, last_hash, LT_REGISTRY_HASH_LEN);
}

lt_ranges_t *lt_commune_missing(lt_commune_t *c)
{
    return c->missing;
}

void lt_commune_set_merged_into(lt_commune_t *c, const char *code)
{
    lt_strlcpy(c->merged_into, code ? code : "", sizeof(c->merged_into));
}

const char *lt_commune_merged_into(const lt_commune_t *c)
{
    return c->merged_into[0] ? c->merged_into : NULL;
}
