/* gen_activity — what happens at one writer's desk, change after change.
 *
 * Each writer owns its entities, so versions rise without coordination:
 * civil-status facts are registered, dossiers move through their statuses
 * (the oldest under way move on first), some records are withdrawn. A change
 * is an outbox row with its payload built as a protobuf message; nothing here
 * touches a database, so tests draw changes in memory. */
#ifndef GEN_ACTIVITY_H
#define GEN_ACTIVITY_H

#include <stdint.h>

#include "gen_place.h"
#include "lienthong/v1/lienthong.pb-c.h"

typedef struct gen_activity gen_activity_t;

/* One change, as the commune system writes it to the outbox. */
typedef struct gen_change {
    Lienthong__V1__EntityType entity_type;
    char entity_id[96];
    uint64_t version;
    Lienthong__V1__Op op;
    int64_t occurred_at_us;
    /* CivilRecord or Dossier (lt_entity_payload_desc of entity_type); NULL for
     * a delete. Owned by the activity, valid until its next change. */
    ProtobufCMessage *payload;
} gen_change_t;

/* The activity of writer `index` of `writers` in place (which must outlive
 * it); seed is --seed. */
gen_activity_t *gen_activity_new(const gen_place_t *place, unsigned seed, int index,
                                 int writers);
void gen_activity_destroy(gen_activity_t *activity); /* NULL is fine */

/* The next change; *change is overwritten. */
void gen_activity_next(gen_activity_t *activity, gen_change_t *change);

/* The next draw of the writer's own stream (the one that picks the changes):
 * the shape of its transactions is drawn from it too. */
unsigned gen_activity_draw(gen_activity_t *activity);

#endif
