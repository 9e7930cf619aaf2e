/* lt_newest — the newest row per entity within one round.
 *
 * A round often holds several versions of one entity (a dossier moving
 * through statuses). Only the newest reaches the upsert, so the database
 * neither sorts wide rows to find it nor writes the older ones. */
#ifndef LT_NEWEST_H
#define LT_NEWEST_H

#include <stddef.h>
#include <stdint.h>

#include "lt_buf.h"

typedef struct lt_newest_entry {
    uint64_t hash;
    size_t key_off, key_len;
    size_t row_off, row_len;
    uint64_t version, seq;
} lt_newest_entry_t;

typedef struct lt_newest {
    lt_buf_t keys, rows;         /* arenas */
    lt_newest_entry_t *entries;
    size_t n_entries, cap_entries;
    uint32_t *slots;             /* open addressing: entry index + 1, 0 = empty */
    size_t n_slots;              /* a power of two */
} lt_newest_t;

void lt_newest_reset(lt_newest_t *n);
void lt_newest_free(lt_newest_t *n);

/* Keep row for key if no row is kept yet, or if (version, seq) is newer than
 * the kept one's. The key and row bytes are copied. */
void lt_newest_offer(lt_newest_t *n, const char *key, size_t key_len, uint64_t version,
                     uint64_t seq, const char *row, size_t row_len);

size_t lt_newest_count(const lt_newest_t *n);

/* Append every kept row to out. */
void lt_newest_write(const lt_newest_t *n, lt_buf_t *out);

#endif
