#include "lt_ranges.h"

#include <stdlib.h>
#include <string.h>

struct lt_ranges {
    lt_range_t *r; /* sorted by from, disjoint */
    size_t n, cap;
};

lt_ranges_t *lt_ranges_new(void)
{
    lt_ranges_t *set = calloc(1, sizeof(*set));
    if (!set)
        abort();
    return set;
}

void lt_ranges_destroy(lt_ranges_t *set)
{
    if (!set)
        return;
    free(set->r);
    free(set);
}

static void lt_ranges_reserve(lt_ranges_t *set, size_t n)
{
    if (n <= set->cap)
        return;
    size_t cap = set->cap ? set->cap * 2 : 4;
    while (cap < n)
        cap *= 2;
    set->r = realloc(set->r, cap * sizeof(*set->r));
    if (!set->r)
        abort();
    set->cap = cap;
}

/* Index of the range holding seq, or -1 (binary search). */
static long lt_ranges_find(const lt_ranges_t *set, uint64_t seq)
{
    size_t lo = 0, hi = set->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (seq < set->r[mid].from)
            hi = mid;
        else if (seq > set->r[mid].to)
            lo = mid + 1;
        else
            return (long)mid;
    }
    return -1;
}

int lt_ranges_contains(const lt_ranges_t *set, uint64_t seq)
{
    return lt_ranges_find(set, seq) >= 0;
}

void lt_ranges_append(lt_ranges_t *set, uint64_t from, uint64_t to)
{
    lt_ranges_reserve(set, set->n + 1);
    set->r[set->n++] = (lt_range_t){from, to};
}

int lt_ranges_remove(lt_ranges_t *set, uint64_t seq)
{
    long i = lt_ranges_find(set, seq);
    if (i < 0)
        return 0;
    lt_range_t *r = &set->r[i];
    if (r->from == r->to) {
        memmove(r, r + 1, (set->n - (size_t)i - 1) * sizeof(*r));
        set->n--;
    } else if (seq == r->from) {
        r->from++;
    } else if (seq == r->to) {
        r->to--;
    } else {
        lt_ranges_reserve(set, set->n + 1);
        r = &set->r[i];
        memmove(r + 2, r + 1, (set->n - (size_t)i - 1) * sizeof(*r));
        r[1] = (lt_range_t){seq + 1, r->to};
        r->to = seq - 1;
        set->n++;
    }
    return 1;
}

uint64_t lt_ranges_count(const lt_ranges_t *set)
{
    uint64_t total = 0;
    for (size_t i = 0; i < set->n; i++)
        total += set->r[i].to - set->r[i].from + 1;
    return total;
}

size_t lt_ranges_spans(const lt_ranges_t *set)
{
    return set->n;
}

lt_range_t lt_ranges_span(const lt_ranges_t *set, size_t i)
{
    return set->r[i];
}

void lt_ranges_copy(lt_ranges_t *dst, const lt_ranges_t *src)
{
    lt_ranges_reserve(dst, src->n);
    if (src->n)
        memcpy(dst->r, src->r, src->n * sizeof(*src->r));
    dst->n = src->n;
}

void lt_ranges_clear(lt_ranges_t *set)
{
    set->n = 0;
}
