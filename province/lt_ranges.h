/* lt_ranges — a sorted set of disjoint sequence ranges.
 *
 * The sink keeps, per commune, the sequences it has not received below the
 * last one it applied (the open gaps): an event whose sequence lies in one of
 * them is applied and taken out, an event below the last sequence and not in
 * one is a duplicate. Pure, small, copied per round. */
#ifndef LT_RANGES_H
#define LT_RANGES_H

#include <stddef.h>
#include <stdint.h>

typedef struct lt_ranges lt_ranges_t;

typedef struct lt_range {
    uint64_t from, to; /* inclusive */
} lt_range_t;

/* An empty set (aborts when out of memory, as every growth of it does). */
lt_ranges_t *lt_ranges_new(void);
void lt_ranges_destroy(lt_ranges_t *set); /* NULL allowed */

/* Is seq in the set? */
int lt_ranges_contains(const lt_ranges_t *set, uint64_t seq);

/* Add from..to, which must lie above every range in the set. */
void lt_ranges_append(lt_ranges_t *set, uint64_t from, uint64_t to);

/* Take seq out of the set (a range may split in two). Returns 1 if it was in. */
int lt_ranges_remove(lt_ranges_t *set, uint64_t seq);

/* How many sequences the set holds. */
uint64_t lt_ranges_count(const lt_ranges_t *set);

/* How many disjoint ranges it holds, and the i-th of them in order. */
size_t lt_ranges_spans(const lt_ranges_t *set);
lt_range_t lt_ranges_span(const lt_ranges_t *set, size_t i);

/* dst becomes a copy of src. */
void lt_ranges_copy(lt_ranges_t *dst, const lt_ranges_t *src);

void lt_ranges_clear(lt_ranges_t *set); /* empty, memory kept */

#endif
