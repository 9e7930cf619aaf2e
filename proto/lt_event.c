#include "lt_event.h"

#include <string.h>

const char *lt_entity_type_name(Lienthong__V1__EntityType type)
{
    switch (type) {
    case LIENTHONG__V1__ENTITY_TYPE__ENTITY_TYPE_CIVIL_RECORD: return "civil_record";
    case LIENTHONG__V1__ENTITY_TYPE__ENTITY_TYPE_DOSSIER: return "dossier";
    default: return NULL;
    }
}

Lienthong__V1__EntityType lt_entity_type_parse(const char *name)
{
    if (strcmp(name, "civil_record") == 0)
        return LIENTHONG__V1__ENTITY_TYPE__ENTITY_TYPE_CIVIL_RECORD;
    if (strcmp(name, "dossier") == 0)
        return LIENTHONG__V1__ENTITY_TYPE__ENTITY_TYPE_DOSSIER;
    return LIENTHONG__V1__ENTITY_TYPE__ENTITY_TYPE_UNSPECIFIED;
}

const char *lt_op_name(Lienthong__V1__Op op)
{
    switch (op) {
    case LIENTHONG__V1__OP__OP_UPSERT: return "upsert";
    case LIENTHONG__V1__OP__OP_DELETE: return "delete";
    default: return NULL;
    }
}

Lienthong__V1__Op lt_op_parse(const char *name)
{
    if (strcmp(name, "upsert") == 0)
        return LIENTHONG__V1__OP__OP_UPSERT;
    if (strcmp(name, "delete") == 0)
        return LIENTHONG__V1__OP__OP_DELETE;
    return LIENTHONG__V1__OP__OP_UNSPECIFIED;
}

const ProtobufCMessageDescriptor *lt_entity_payload_desc(Lienthong__V1__EntityType type)
{
    switch (type) {
    case LIENTHONG__V1__ENTITY_TYPE__ENTITY_TYPE_CIVIL_RECORD:
        return &lienthong__v1__civil_record__descriptor;
    case LIENTHONG__V1__ENTITY_TYPE__ENTITY_TYPE_DOSSIER:
        return &lienthong__v1__dossier__descriptor;
    default: return NULL;
    }
}

const ProtobufCMessage *lt_event_payload(const Lienthong__V1__Event *ev)
{
    switch (ev->payload_case) {
    case LIENTHONG__V1__EVENT__PAYLOAD_CIVIL_RECORD: return &ev->civil_record->base;
    case LIENTHONG__V1__EVENT__PAYLOAD_DOSSIER: return &ev->dossier->base;
    default: return NULL;
    }
}

void lt_event_set_payload(Lienthong__V1__Event *ev, ProtobufCMessage *payload)
{
    if (payload->descriptor == &lienthong__v1__civil_record__descriptor) {
        ev->payload_case = LIENTHONG__V1__EVENT__PAYLOAD_CIVIL_RECORD;
        ev->civil_record = (Lienthong__V1__CivilRecord *)payload;
    } else {
        ev->payload_case = LIENTHONG__V1__EVENT__PAYLOAD_DOSSIER;
        ev->dossier = (Lienthong__V1__Dossier *)payload;
    }
}
