#include "gen_entity.h"

#include <stdio.h>

/* In entity ids. */
static const char *const gen_kind_ids[GEN_KIND_COUNT] = {
    [GEN_BIRTH] = "birth",
    [GEN_DEATH] = "death",
    [GEN_MARRIAGE] = "marriage",
    [GEN_RECOGNITION] = "recognition",
    [GEN_GUARDIANSHIP] = "guardianship",
    [GEN_AMENDMENT] = "amendment",
    [GEN_MARITAL_STATUS] = "marital",
    [GEN_ANNOTATION] = "annotation",
    [GEN_DOSSIER] = "dossier",
};

gen_rng_t gen_rng_for(const gen_entity_t *e, uint64_t salt)
{
    gen_rng_t r = {((uint64_t)e->seed << 32 | e->n) ^ (salt * 0xD1B54A32D192ED03u)};
    return r;
}

void gen_entity_id(const gen_desk_t *desk, const gen_entity_t *e, char *out, size_t size)
{
    snprintf(out, size, "%s-%s-s%u-w%d-%u", desk->place->commune, gen_kind_ids[e->kind],
             desk->seed, desk->index, e->n);
}
