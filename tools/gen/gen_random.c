#include "gen_random.h"

unsigned gen_lcg_next(unsigned *state)
{
    *state = *state * 1103515245u + 12345u;
    return (*state >> 8) & 0xffffff;
}

uint32_t gen_next(gen_rng_t *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return (uint32_t)((z ^ (z >> 31)) >> 32);
}

unsigned gen_below(gen_rng_t *r, unsigned n)
{
    return (unsigned)(((uint64_t)gen_next(r) * n) >> 32);
}

int gen_between(gen_rng_t *r, int lo, int hi)
{
    return lo + (int)gen_below(r, (unsigned)(hi - lo + 1));
}

int gen_chance(gen_rng_t *r, unsigned permille)
{
    return gen_below(r, 1000) < permille;
}
