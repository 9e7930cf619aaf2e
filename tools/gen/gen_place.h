/* gen_place — where the commune is: its name, its province, the communes
 * around it, and addresses in it. */
#ifndef GEN_PLACE_H
#define GEN_PLACE_H

#include <stddef.h>

#include "gen_arena.h"
#include "gen_random.h"
#include "lienthong/v1/lienthong.pb-c.h"
#include "lt_units.h"

typedef struct gen_place {
    const char *commune;       /* "00004" */
    const char *commune_name;  /* "Phường Ba Đình" */
    const char *province;      /* "01" */
    const char *province_name; /* "Thành phố Hà Nội" */
    char id_province[4];       /* "001": personal IDs of births registered here */
    int rural;                 /* a "Xã": addresses by hamlet (thôn) */
    const lt_unit_t **nearby;  /* the province's communes (places of birth, death) */
    size_t n_nearby;
    char fallback_name[32]; /* "Xã 12345" for a commune not in the unit list */
} gen_place_t;

/* The commune's names and province from units (may be NULL); without the
 * list, or for a code not in it, plain names: "Xã <code>" in Hà Nội. The
 * place points into units and at commune, which must outlive it. */
void gen_place_init(gen_place_t *place, const char *commune, const lt_units_t *units);
void gen_place_free(gen_place_t *place);

/* An address in the commune: a hamlet in a rural commune, a street or an
 * alley in a ward; out gets at most size bytes. */
void gen_address(gen_rng_t *r, const gen_place_t *place, char *out, size_t size);

/* A commune of the province: the commune itself with probability
 * permille_here/1000 (always without a unit list). *name gets its name. */
const char *gen_nearby(gen_rng_t *r, const gen_place_t *place, unsigned permille_here,
                       const char **name);

/* AdminUnitRef of a commune code in the current code list. */
Lienthong__V1__AdminUnitRef *gen_commune_ref_msg(gen_arena_t *arena, const char *code);

#endif
