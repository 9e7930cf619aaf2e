#include "gen_place.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const streets[] = {
    "Lê Lợi",         "Trần Phú",     "Hùng Vương", "Nguyễn Trãi", "Quang Trung",
    "Lý Thường Kiệt", "Hai Bà Trưng", "Lê Duẩn",    "Nguyễn Du",   "Phan Chu Trinh"};

/* Every commune of the province, for places of birth and death nearby. */
static void gen_place_nearby(gen_place_t *place, const lt_units_t *units)
{
    size_t n = 0;
    while (lt_units_province_commune(units, place->province, n))
        n++;
    place->nearby = calloc(n ? n : 1, sizeof(*place->nearby));
    for (size_t i = 0; place->nearby && i < n; i++)
        place->nearby[i] = lt_units_province_commune(units, place->province, i);
    place->n_nearby = place->nearby ? n : 0;
}

void gen_place_init(gen_place_t *place, const char *commune, const lt_units_t *units)
{
    const lt_unit_t *u = units ? lt_units_commune(units, commune) : NULL;
    *place = (gen_place_t){
        .commune = commune, .province = "01", .province_name = "Thành phố Hà Nội"};
    if (u) {
        const char *pname = lt_units_province_name(units, u->province_code);
        place->commune_name = u->full_name;
        place->province = u->province_code;
        if (pname)
            place->province_name = pname;
        place->rural = strncmp(u->full_name, "Xã ", 4) == 0;
        gen_place_nearby(place, units);
    } else {
        snprintf(place->fallback_name, sizeof(place->fallback_name), "Xã %s", commune);
        place->commune_name = place->fallback_name;
        place->rural = 1;
    }
    snprintf(place->id_province, sizeof(place->id_province), "0%.2s", place->province);
}

void gen_place_free(gen_place_t *place)
{
    free(place->nearby);
    place->nearby = NULL;
    place->n_nearby = 0;
}

void gen_address(gen_rng_t *r, const gen_place_t *pl, char *out, size_t size)
{
    if (pl->rural) {
        int hamlet = gen_between(r, 1, 18);
        snprintf(out, size, "Thôn %d, %s, %s", hamlet, pl->commune_name,
                 pl->province_name);
    } else if (gen_chance(r, 500)) {
        const char *street = GEN_PICK(r, streets);
        int number = gen_between(r, 1, 240);
        snprintf(out, size, "Số %d đường %s, %s, %s", number, street, pl->commune_name,
                 pl->province_name);
    } else {
        int group = gen_between(r, 1, 30), alley = gen_between(r, 1, 120);
        int number = gen_between(r, 1, 80);
        snprintf(out, size, "Số %d, ngõ %d, tổ dân phố %d, %s, %s", number, alley, group,
                 pl->commune_name, pl->province_name);
    }
}

const char *gen_nearby(gen_rng_t *r, const gen_place_t *pl, unsigned permille_here,
                       const char **name)
{
    if (pl->n_nearby == 0 || gen_chance(r, permille_here)) {
        *name = pl->commune_name;
        return pl->commune;
    }
    const lt_unit_t *u = pl->nearby[gen_below(r, (unsigned)pl->n_nearby)];
    *name = u->full_name;
    return u->code;
}

Lienthong__V1__AdminUnitRef *gen_commune_ref_msg(gen_arena_t *arena, const char *code)
{
    Lienthong__V1__AdminUnitRef *ref =
        gen_arena_msg(arena, &lienthong__v1__admin_unit_ref__descriptor);
    ref->code = gen_arena_strdup(arena, code);
    ref->code_list_version = gen_arena_strdup(arena, LT_UNITS_REFORM_VERSION);
    ref->level = LIENTHONG__V1__ADMIN_UNIT_LEVEL__ADMIN_UNIT_LEVEL_COMMUNE;
    return ref;
}
