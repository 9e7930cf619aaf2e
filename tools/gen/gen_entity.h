/* gen_entity — what one writer made: its entities, and the desk they come
 * from (the writer's staff and books at the commune's one-stop centre). */
#ifndef GEN_ENTITY_H
#define GEN_ENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "gen_place.h"
#include "gen_random.h"

enum gen_kind {
    GEN_BIRTH,
    GEN_DEATH,
    GEN_MARRIAGE,
    GEN_RECOGNITION,
    GEN_GUARDIANSHIP,
    GEN_AMENDMENT,
    GEN_MARITAL_STATUS,
    GEN_ANNOTATION,
    GEN_DOSSIER,
    GEN_KIND_COUNT
};

typedef struct gen_entity {
    uint8_t kind;  /* enum gen_kind */
    uint8_t step;  /* dossier: index of its current status in its path */
    uint8_t steps; /* dossier: length of its path */
    uint8_t deleted;
    uint32_t n; /* per-writer number, part of the id */
    uint32_t version;
    uint32_t seed;   /* the entity's content derives from seed, n and base_us */
    uint32_t target; /* amendment: n of the birth it amends, 0 = an old paper record */
    int64_t base_us; /* wall clock at creation: nothing in the entity is later */
} gen_entity_t;

/* One writer's desk: where its records are registered and by whom. */
typedef struct gen_desk {
    const gen_place_t *place;
    unsigned seed;    /* --seed, part of every entity id */
    int index;        /* the writer, 0-based: ids, book numbers, accounts */
    int writers;      /* how many desks number the commune's dossiers together */
    char officer[64]; /* công chức tư pháp - hộ tịch */
    char signer[64];  /* who signs for the People's Committee */
    const gen_entity_t *entities; /* what this desk made, entity n at n - 1 */
} gen_desk_t;

/* The entity's own random stream for one purpose (salt). */
gen_rng_t gen_rng_for(const gen_entity_t *e, uint64_t salt);

/* "<commune>-<kind>-s<seed>-w<writer>-<n>", e.g. "00004-birth-s1-w0-17". */
void gen_entity_id(const gen_desk_t *desk, const gen_entity_t *e, char *out, size_t size);

#endif
