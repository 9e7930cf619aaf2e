#include "lt_newest.h"

#include <stdlib.h>
#include <string.h>

typedef struct lt_newest_entry {
    uint64_t hash;
    size_t key_off, key_len;
    size_t row_off, row_len;
    uint64_t version, seq;
} lt_newest_entry_t;

struct lt_newest {
    lt_buf_t keys, rows; /* arenas */
    lt_newest_entry_t *entries;
    size_t n_entries, cap_entries;
    uint32_t *slots; /* open addressing: entry index + 1, 0 = empty */
    size_t n_slots;  /* a power of two */
};

static uint64_t lt_newest_hash(const char *key, size_t len)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)key[i]) * 1099511628211ULL;
    return h;
}

lt_newest_t *lt_newest_new(void)
{
    lt_newest_t *n = calloc(1, sizeof(*n));
    if (!n)
        abort();
    return n;
}

void lt_newest_reset(lt_newest_t *n)
{
    lt_buf_reset(&n->keys);
    lt_buf_reset(&n->rows);
    n->n_entries = 0;
    if (n->slots)
        memset(n->slots, 0, n->n_slots * sizeof(*n->slots));
}

void lt_newest_destroy(lt_newest_t *n)
{
    if (!n)
        return;
    lt_buf_free(&n->keys);
    lt_buf_free(&n->rows);
    free(n->entries);
    free(n->slots);
    free(n);
}

/* Rebuild the slot table at twice the size (load factor stays under 1/2). */
static void lt_newest_grow(lt_newest_t *n)
{
    size_t size = n->n_slots ? n->n_slots * 2 : 1024;
    uint32_t *slots = calloc(size, sizeof(*slots));
    if (!slots)
        abort();
    for (size_t i = 0; i < n->n_entries; i++) {
        size_t s = n->entries[i].hash & (size - 1);
        while (slots[s])
            s = (s + 1) & (size - 1);
        slots[s] = (uint32_t)(i + 1);
    }
    free(n->slots);
    n->slots = slots;
    n->n_slots = size;
}

static void lt_newest_store_row(lt_newest_t *n, lt_newest_entry_t *e, uint64_t version,
                                uint64_t seq, const char *row, size_t row_len)
{
    e->version = version;
    e->seq = seq;
    e->row_off = n->rows.len;
    e->row_len = row_len;
    lt_buf_append(&n->rows, row, row_len);
}

void lt_newest_offer(lt_newest_t *n, const char *key, size_t key_len, uint64_t version,
                     uint64_t seq, const char *row, size_t row_len)
{
    if ((n->n_entries + 1) * 2 > n->n_slots)
        lt_newest_grow(n);
    uint64_t h = lt_newest_hash(key, key_len);
    size_t s = h & (n->n_slots - 1);
    for (; n->slots[s]; s = (s + 1) & (n->n_slots - 1)) {
        lt_newest_entry_t *e = &n->entries[n->slots[s] - 1];
        if (e->hash != h || e->key_len != key_len ||
            memcmp(n->keys.data + e->key_off, key, key_len) != 0)
            continue;
        if (version > e->version || (version == e->version && seq > e->seq))
            lt_newest_store_row(n, e, version, seq, row, row_len); /* old text stays as garbage */
        return;
    }
    if (n->n_entries == n->cap_entries) {
        n->cap_entries = n->cap_entries ? n->cap_entries * 2 : 1024;
        n->entries = realloc(n->entries, n->cap_entries * sizeof(*n->entries));
        if (!n->entries)
            abort();
    }
    lt_newest_entry_t *e = &n->entries[n->n_entries];
    e->hash = h;
    e->key_off = n->keys.len;
    e->key_len = key_len;
    lt_buf_append(&n->keys, key, key_len);
    lt_newest_store_row(n, e, version, seq, row, row_len);
    n->slots[s] = (uint32_t)(++n->n_entries);
}

size_t lt_newest_count(const lt_newest_t *n)
{
    return n->n_entries;
}

const char *lt_newest_row(const lt_newest_t *n, size_t i, size_t *len)
{
    *len = n->entries[i].row_len;
    return n->rows.data + n->entries[i].row_off;
}

void lt_newest_write(const lt_newest_t *n, lt_buf_t *out)
{
    for (size_t i = 0; i < n->n_entries; i++)
        lt_buf_append(out, n->rows.data + n->entries[i].row_off, n->entries[i].row_len);
}
