/* gen_civil — the eight kinds of civil-status record (hộ tịch) as
 * Lienthong__V1__CivilRecord messages: births most, then deaths, marriages
 * and marital-status confirmations, a few of the rest.
 *
 * Births are registered within 60 days, some late; deaths within 15 days,
 * some late, a few re-registered after the book was lost; every record is
 * entered on a working day in office hours, up to ten days before it is
 * written (paper records are typed in later), and nothing in it is later than
 * that. Amendments and annotations refer to a record of the same desk (whose
 * facts they draw again) or to an old paper one. */
#ifndef GEN_CIVIL_H
#define GEN_CIVIL_H

#include <stdint.h>

#include "gen_arena.h"
#include "gen_entity.h"
#include "lienthong/v1/lienthong.pb-c.h"

/* The kind of a new civil record by the national mix, from a draw in
 * [0, 1000). */
enum gen_kind gen_civil_kind(unsigned permille);

/* The CivilRecord of e (a civil kind) written at desk, in arena; *registered_at
 * gets when it was entered in the books (Event.occurred_at). */
Lienthong__V1__CivilRecord *gen_civil_record(gen_arena_t *arena, const gen_desk_t *desk,
                                             const gen_entity_t *e,
                                             int64_t *registered_at);

#endif
