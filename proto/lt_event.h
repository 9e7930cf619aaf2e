/* lt_event — the names an event's enums have in SQL, and its payload type. */
#ifndef LT_EVENT_H
#define LT_EVENT_H

#include <jansson.h>

#include "lienthong/v1/lienthong.pb-c.h"

/* "civil_record" / "dossier"; NULL for an unknown value. */
const char *lt_entity_type_name(Lienthong__V1__EntityType type);
/* 0 (UNSPECIFIED) if the name is unknown. */
Lienthong__V1__EntityType lt_entity_type_parse(const char *name);

/* "upsert" / "delete"; NULL for an unknown value. */
const char *lt_op_name(Lienthong__V1__Op op);
Lienthong__V1__Op lt_op_parse(const char *name);

/* The payload message type an entity type carries, or NULL. */
const ProtobufCMessageDescriptor *lt_entity_payload_desc(Lienthong__V1__EntityType type);

/* The payload of ev as a message, or NULL (deletes carry none). */
const ProtobufCMessage *lt_event_payload(const Lienthong__V1__Event *ev);

/* Attach payload (a message of lt_entity_payload_desc(ev->entity_type)) to ev;
 * ev takes ownership. */
void lt_event_set_payload(Lienthong__V1__Event *ev, ProtobufCMessage *payload);

#endif
