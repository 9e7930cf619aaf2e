/* lt_registry — what the province knows of its registered communes: each
 * one's code, events topic and signing key as provisioned, and how far its
 * events were applied (last sequence, last batch hash, open gaps).
 *
 * Filled by the store (lt_store_load_registry), read by the plan, brought
 * forward by the plan once the store committed it. Pure memory. */
#ifndef LT_REGISTRY_H
#define LT_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "lt_ranges.h"

/* SHA-256 of a batch: the chain link kept per commune. */
#define LT_REGISTRY_HASH_LEN 32

typedef struct lt_registry lt_registry_t;
typedef struct lt_commune lt_commune_t;

/* An empty registry of province (2-digit code, copied). */
lt_registry_t *lt_registry_new(const char *province);
void lt_registry_destroy(lt_registry_t *reg); /* NULL allowed */

const char *lt_registry_province(const lt_registry_t *reg);

/* Forget every commune (before loading them again). Communes returned
 * earlier are gone. */
void lt_registry_clear(lt_registry_t *reg);

/* Register a commune with nothing applied yet. events_topic is its topic as
 * provisioned; key_id and public_key (PEM) its signing key, both NULL when
 * it has none. Strings are copied. Returns the commune, owned by reg. */
lt_commune_t *lt_registry_add(lt_registry_t *reg, const char *code, const char *events_topic,
                              const char *key_id, const char *public_key);

size_t lt_registry_count(const lt_registry_t *reg);
lt_commune_t *lt_registry_at(const lt_registry_t *reg, size_t index);

/* The commune owning an events topic, or with a code; NULL if none. */
lt_commune_t *lt_registry_by_topic(const lt_registry_t *reg, const char *topic);
lt_commune_t *lt_registry_by_code(const lt_registry_t *reg, const char *code);

/* Its position in the registry, 0 .. lt_registry_count() - 1. */
size_t lt_commune_index(const lt_commune_t *c);

const char *lt_commune_code(const lt_commune_t *c);
const char *lt_commune_events_topic(const lt_commune_t *c);
const char *lt_commune_key_id(const lt_commune_t *c);     /* NULL: none registered */
const char *lt_commune_public_key(const lt_commune_t *c); /* PEM, or NULL */

/* The last sequence applied and the hash of the batch that brought it
 * (LT_REGISTRY_HASH_LEN bytes, zeros before the first). */
uint64_t lt_commune_last_seq(const lt_commune_t *c);
const uint8_t *lt_commune_last_hash(const lt_commune_t *c);

/* last_hash NULL keeps the hash. */
void lt_commune_set_progress(lt_commune_t *c, uint64_t last_seq, const uint8_t *last_hash);

/* The commune this one was merged into (lienthong-reconcile merge), or NULL
 * while it is active. A retired commune's progress is final. */
const char *lt_commune_merged_into(const lt_commune_t *c);
void lt_commune_set_merged_into(lt_commune_t *c, const char *code); /* NULL: active */

/* The sequences below last_seq never received (the open gaps), owned by c. */
lt_ranges_t *lt_commune_missing(lt_commune_t *c);

#endif
