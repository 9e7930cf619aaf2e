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

typedef struct lt_newest lt_newest_t;

/* An empty table (aborts when out of memory, as every growth of it does). */
lt_newest_t *lt_newest_new(void);
void lt_newest_destroy(lt_newest_t *n); /* NULL allowed */

/* Forget every row, keeping the memory. */
void lt_newest_reset(lt_newest_t *n);

/* Keep row for key if no row is kept yet, or if (version, seq) is newer than
 * the kept one's. The key and row bytes are copied. */
void lt_newest_offer(lt_newest_t *n, const char *key, size_t key_len, uint64_t version,
                     uint64_t seq, const char *row, size_t row_len);

size_t lt_newest_count(const lt_newest_t *n);

/* The i-th kept row (i < lt_newest_count) and its length; valid until the
 * next offer or reset. */
const char *lt_newest_row(const lt_newest_t *n, size_t i, size_t *len);

/* Append every kept row to out. */
void lt_newest_write(const lt_newest_t *n, lt_buf_t *out);

#endif
