/* gen_random — the generator's two kinds of randomness.
 *
 * A writer's choices (what happens next, how many rows a transaction has)
 * come from one stream per writer, gen_lcg_next. An entity's content comes
 * from a splitmix64 stream seeded from the entity itself (gen_rng_t), so every
 * version of an entity draws the same story, and a record that refers to
 * another can draw that one's facts again. Both are fixed by --seed; so is
 * the order of the draws, which is part of what a seed gives. */
#ifndef GEN_RANDOM_H
#define GEN_RANDOM_H

#include <stdint.h>

/* The next choice of a writer's stream: 24 random bits. */
unsigned gen_lcg_next(unsigned *state);

typedef struct gen_rng {
    uint64_t s;
} gen_rng_t;

uint32_t gen_next(gen_rng_t *r);

/* Uniform in [0, n); 0 when n is 0. */
unsigned gen_below(gen_rng_t *r, unsigned n);

/* Uniform in [lo, hi]. */
int gen_between(gen_rng_t *r, int lo, int hi);

/* True with probability permille/1000. */
int gen_chance(gen_rng_t *r, unsigned permille);

#define GEN_COUNT(arr)   (sizeof(arr) / sizeof(*(arr)))
#define GEN_PICK(r, arr) (arr)[gen_below((r), (unsigned)GEN_COUNT(arr))]

#endif
