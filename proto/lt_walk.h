/* lt_walk — the one walk over a decoded protobuf-c message tree.
 *
 * Driven by the descriptors, so it serves every message type. For each message
 * it visits the fields in descriptor order and, of each field, exactly the
 * values the packer would write: the selected member of a oneof only, every
 * element of a repeated field, a singular field only when present (proto3: not
 * its default; proto2 and `optional` scalars: the has_ flag; strings and
 * messages: a pointer that is neither NULL nor the descriptor's default).
 * Submessages are walked in place; the walk keeps the field path, rendered
 * only when a visitor asks (lt_walk_path), so walking without errors costs no
 * formatting.
 *
 * Three emitters stand on it: validation (lt_codec: lt_pb_check), JSON text
 * (lt_json_pb: lt_pb_write_json) and the string visitor (lt_validate: NFC).
 * The walker never allocates and never changes the tree; a visitor that owns
 * the tree may write through the member pointers it is given. */
#ifndef LT_WALK_H
#define LT_WALK_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#include "lt_path.h"

/* The proto has no recursive types; a message deeper than this is not ours and
 * is handed to the visitor's value() instead of being entered. */
#define LT_WALK_MAX_DEPTH 16

/* What a visitor callback returns. */
typedef enum {
    LT_WALK_NEXT = 0, /* go on */
    LT_WALK_SKIP,     /* from message_begin / field_begin: leave out that message's
                         fields / that field's values, and its _end callback */
    LT_WALK_STOP,     /* end the walk; the visitor keeps the reason */
} lt_walk_step_t;

typedef struct lt_walk lt_walk_t;

/* Callbacks; arg is the visitor's own state. Any but value() may be NULL. */
typedef struct lt_walk_visitor {
    /* The root, or a submessage reached through the current field. */
    lt_walk_step_t (*message_begin)(void *arg, const lt_walk_t *walk,
                                    const ProtobufCMessage *msg);
    lt_walk_step_t (*message_end)(void *arg, const lt_walk_t *walk,
                                  const ProtobufCMessage *msg);
    /* A present field, before its values (repeated fields: at least one). */
    lt_walk_step_t (*field_begin)(void *arg, const lt_walk_t *walk,
                                  const ProtobufCFieldDescriptor *field);
    lt_walk_step_t (*field_end)(void *arg, const lt_walk_t *walk,
                                const ProtobufCFieldDescriptor *field);
    /* A value the walk does not enter, at member (an int32_t, a char *, a
     * ProtobufCBinaryData, ... as the field's type stores it): every scalar,
     * enum, string and bytes value, and of message fields a NULL element of a
     * repeated field or a message deeper than LT_WALK_MAX_DEPTH. */
    lt_walk_step_t (*value)(void *arg, const lt_walk_t *walk,
                            const ProtobufCFieldDescriptor *field, const void *member);
} lt_walk_visitor_t;

/* Walk msg with visitor. Returns LT_WALK_NEXT when the whole tree was
 * visited, LT_WALK_STOP when a callback stopped it. */
lt_walk_step_t lt_walk_message(const ProtobufCMessage *msg, const lt_walk_visitor_t *visitor,
                               void *arg);

/* The path of the value being visited, "events[3].dossier.applicant.full"
 * (proto field names), into path; returns path->buf ("" at the root). */
const char *lt_walk_path(const lt_walk_t *walk, lt_path_t *path);

/* The same without element indexes, "events.dossier.applicant.full": the form
 * lt_validate's text messages have always used. */
const char *lt_walk_field_path(const lt_walk_t *walk, lt_path_t *path);

/* ------------------------------------------------ descriptor helpers */

/* Bytes one value of this type occupies in a message or a repeated array. */
size_t lt_pb_value_size(ProtobufCType type);

/* Strings and messages are pointers: their presence needs no has_ flag. */
int lt_pb_is_pointer(ProtobufCType type);

#endif
