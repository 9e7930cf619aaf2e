#include "gen_activity.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen_arena.h"
#include "gen_civil.h"
#include "gen_dossier.h"
#include "gen_entity.h"
#include "gen_people.h"
#include "lt_util.h"

struct gen_activity {
    gen_desk_t desk;
    unsigned rng; /* the writer's stream: what happens next */
    gen_entity_t *entities;
    size_t n_entities, cap_entities;
    uint32_t *open; /* indexes of dossiers still under way, oldest first from open_head */
    size_t open_head, n_open, cap_open;
    gen_arena_t arena; /* the current change's payload */
};

static void *gen_grow(void *array, size_t *cap, size_t elem_size)
{
    *cap = *cap ? *cap * 2 : 1024;
    array = realloc(array, *cap * elem_size);
    if (!array) {
        fprintf(stderr, "lienthong-gen: out of memory\n");
        abort();
    }
    return array;
}

gen_activity_t *gen_activity_new(const gen_place_t *place, unsigned seed, int index,
                                 int writers)
{
    gen_activity_t *a = calloc(1, sizeof(*a));
    if (!a)
        return NULL;
    a->desk =
        (gen_desk_t){.place = place, .seed = seed, .index = index, .writers = writers};
    a->rng = seed * 7919u + (unsigned)index;
    /* the same few people sign a desk's books, whatever it registers */
    gen_rng_t staff = {((uint64_t)seed << 32) ^ (uint64_t)index ^ 0x5A17u};
    gen_staff(&staff, a->desk.officer, a->desk.signer, sizeof(a->desk.officer));
    return a;
}

void gen_activity_destroy(gen_activity_t *a)
{
    if (!a)
        return;
    gen_arena_free(&a->arena);
    free(a->entities);
    free(a->open);
    free(a);
}

unsigned gen_activity_draw(gen_activity_t *a)
{
    return gen_lcg_next(&a->rng);
}

static gen_entity_t *gen_entity_new(gen_activity_t *a, enum gen_kind kind)
{
    if (a->n_entities == a->cap_entities) {
        a->entities = gen_grow(a->entities, &a->cap_entities, sizeof(*a->entities));
        a->desk.entities = a->entities;
    }
    gen_entity_t *e = &a->entities[a->n_entities];
    memset(e, 0, sizeof(*e));
    e->kind = (uint8_t)kind;
    e->n = (uint32_t)++a->n_entities;
    e->version = 1;
    e->seed = gen_activity_draw(a) << 8;
    e->seed ^= gen_activity_draw(a);
    e->base_us = lt_now_us();
    return e;
}

/* An earlier record of this desk of the given kind, or 0 (a paper record). */
static uint32_t gen_pick_target(gen_activity_t *a, enum gen_kind kind)
{
    for (int tries = 0; tries < 8 && a->n_entities > 1; tries++) {
        const gen_entity_t *t = &a->entities[gen_activity_draw(a) % (a->n_entities - 1)];
        if (t->kind == kind)
            return t->n;
    }
    return 0;
}

static void gen_open_push(gen_activity_t *a, const gen_entity_t *e)
{
    if (a->n_open == a->cap_open)
        a->open = gen_grow(a->open, &a->cap_open, sizeof(*a->open));
    a->open[a->n_open++] = e->n - 1;
}

/* One of the oldest dossiers still under way takes its next step (most
 * dossiers finish their path, the newest are in progress); NULL if none. */
static gen_entity_t *gen_dossier_moves_on(gen_activity_t *a)
{
    while (a->open_head < a->n_open) {
        size_t left = a->n_open - a->open_head, window = left < 16 ? left : 16;
        size_t j = a->open_head + gen_activity_draw(a) % window;
        gen_entity_t *e = &a->entities[a->open[j]];
        if (!e->deleted && e->step + 1 < e->steps) {
            e->step++;
            e->version++;
            if (e->step + 1 == e->steps) /* at its end: no longer under way */
                a->open[j] = a->open[a->open_head++];
            return e;
        }
        a->open[j] = a->open[a->open_head++]; /* deleted meanwhile */
    }
    return NULL;
}

/* A record withdrawn (deleted), or NULL if the one drawn is gone already. */
static gen_entity_t *gen_withdrawn(gen_activity_t *a)
{
    gen_entity_t *e = &a->entities[gen_activity_draw(a) % a->n_entities];
    if (e->deleted)
        return NULL;
    e->deleted = 1;
    e->version++;
    return e;
}

static gen_entity_t *gen_created(gen_activity_t *a)
{
    /* a dossier takes four steps on average: one new dossier in four keeps
     * the oldest finishing while the newest are under way */
    int dossier = gen_activity_draw(a) % 100 < 25;
    enum gen_kind kind =
        dossier ? GEN_DOSSIER : gen_civil_kind(gen_activity_draw(a) % 1000);
    gen_entity_t *e = gen_entity_new(a, kind);
    if (kind == GEN_DOSSIER) {
        e->steps = (uint8_t)gen_dossier_steps(e);
        gen_open_push(a, e);
    } else if (kind == GEN_AMENDMENT) { /* amendments concern older births */
        e->target = gen_pick_target(a, GEN_BIRTH);
    }
    return e;
}

/* Choose what happens next: a dossier moves on (45 in 100 if one is under
 * way), a record is withdrawn (5 in 100), else a new record or dossier. */
static gen_entity_t *gen_next_entity(gen_activity_t *a, int *is_delete)
{
    unsigned r = gen_activity_draw(a) % 100;
    gen_entity_t *e = NULL;
    *is_delete = 0;
    if (r < 45)
        e = gen_dossier_moves_on(a);
    else if (r < 50 && a->n_entities > 10 && (e = gen_withdrawn(a)) != NULL)
        *is_delete = 1;
    return e ? e : gen_created(a);
}

void gen_activity_next(gen_activity_t *a, gen_change_t *change)
{
    int is_delete;
    gen_entity_t *e = gen_next_entity(a, &is_delete);
    gen_arena_reset(&a->arena);
    memset(change, 0, sizeof(*change));
    change->entity_type = e->kind == GEN_DOSSIER
                              ? LIENTHONG__V1__ENTITY_TYPE__ENTITY_TYPE_DOSSIER
                              : LIENTHONG__V1__ENTITY_TYPE__ENTITY_TYPE_CIVIL_RECORD;
    gen_entity_id(&a->desk, e, change->entity_id, sizeof(change->entity_id));
    change->version = e->version;
    change->op = is_delete ? LIENTHONG__V1__OP__OP_DELETE : LIENTHONG__V1__OP__OP_UPSERT;
    if (is_delete) /* withdrawn just now, in office hours or not */
        change->occurred_at_us =
            lt_now_us() - (int64_t)(gen_activity_draw(a) % 600) * 1000000;
    else if (e->kind == GEN_DOSSIER)
        change->payload =
            &gen_dossier(&a->arena, &a->desk, e, &change->occurred_at_us)->base;
    else
        change->payload =
            &gen_civil_record(&a->arena, &a->desk, e, &change->occurred_at_us)->base;
}
