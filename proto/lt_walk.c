/* lt_walk — one descriptor-driven walk of a decoded message tree, for every
 * emitter (validation, JSON text, strings). */
#include "lt_walk.h"

#include <stdint.h>

/* One step of the path: a field and, inside a repeated one, the element. */
typedef struct {
    const ProtobufCFieldDescriptor *field;
    size_t index; /* LT_WALK_SINGULAR for a singular field */
} lt_walk_frame_t;

#define LT_WALK_SINGULAR SIZE_MAX

struct lt_walk {
    const lt_walk_visitor_t *visitor;
    void *arg;
    size_t depth; /* messages entered below the root */
    size_t n_frames;
    lt_walk_frame_t frames[LT_WALK_MAX_DEPTH + 1]; /* a field per message entered */
};

/* ------------------------------------------------ descriptor helpers */

size_t lt_pb_value_size(ProtobufCType type)
{
    switch (type) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return sizeof(uint64_t);
    case PROTOBUF_C_TYPE_DOUBLE:
        return sizeof(double);
    case PROTOBUF_C_TYPE_FLOAT:
        return sizeof(float);
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    default:
        return sizeof(uint32_t); /* 32-bit integers and enums */
    }
}

int lt_pb_is_pointer(ProtobufCType type)
{
    return type == PROTOBUF_C_TYPE_STRING || type == PROTOBUF_C_TYPE_MESSAGE;
}

/* A proto3 singular field holding its type's default (0, "", empty bytes). */
static int lt_pb_is_default(const ProtobufCFieldDescriptor *field, const void *member)
{
    const char *str;

    switch (field->type) {
    case PROTOBUF_C_TYPE_FLOAT:
        return *(const float *)member == 0;
    case PROTOBUF_C_TYPE_DOUBLE:
        return *(const double *)member == 0;
    case PROTOBUF_C_TYPE_BOOL:
        return !*(const protobuf_c_boolean *)member;
    case PROTOBUF_C_TYPE_STRING:
        str = *(const char *const *)member;
        return str == NULL || *str == '\0';
    case PROTOBUF_C_TYPE_BYTES:
        return ((const ProtobufCBinaryData *)member)->len == 0;
    case PROTOBUF_C_TYPE_MESSAGE:
        return *(const void *const *)member == NULL;
    default:
        return lt_pb_value_size(field->type) == 8 ? *(const uint64_t *)member == 0
                                                  : *(const uint32_t *)member == 0;
    }
}

/* Whether a singular field is written, by the presence rules of the packer. */
static int lt_pb_is_present(const ProtobufCFieldDescriptor *field, const ProtobufCMessage *msg)
{
    const char *base = (const char *)msg;
    const void *member = base + field->offset;
    int pointer = lt_pb_is_pointer(field->type);
    const void *ptr = pointer ? *(const void *const *)member : NULL;

    if (field->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        if (*(const uint32_t *)(base + field->quantifier_offset) != field->id)
            return 0; /* the union holds another member */
        return !pointer || (ptr != NULL && ptr != field->default_value);
    }
    switch (field->label) {
    case PROTOBUF_C_LABEL_REQUIRED:
        return 1;
    case PROTOBUF_C_LABEL_OPTIONAL:
        if (pointer)
            return ptr != NULL && ptr != field->default_value;
        return *(const protobuf_c_boolean *)(base + field->quantifier_offset);
    default:
        return !lt_pb_is_default(field, member);
    }
}

/* How many values of field msg holds as the packer sees them: the element
 * count of a repeated field, else 1 if present and 0 if not. */
static size_t lt_pb_field_count(const ProtobufCFieldDescriptor *field,
                                const ProtobufCMessage *msg)
{
    if (field->label == PROTOBUF_C_LABEL_REPEATED)
        return *(const size_t *)((const char *)msg + field->quantifier_offset);
    return lt_pb_is_present(field, msg) ? 1 : 0;
}

/* ------------------------------------------------ the walk */

static lt_walk_step_t lt_walk_tree(lt_walk_t *walk, const ProtobufCMessage *msg);

/* One value of the current field: entered if it is a message we can enter. */
static lt_walk_step_t lt_walk_value(lt_walk_t *walk, const ProtobufCFieldDescriptor *field,
                                    const void *member)
{
    const ProtobufCMessage *sub;
    lt_walk_step_t step;

    if (field->type != PROTOBUF_C_TYPE_MESSAGE)
        return walk->visitor->value(walk->arg, walk, field, member);
    sub = *(const ProtobufCMessage *const *)member;
    if (sub == NULL || walk->depth >= LT_WALK_MAX_DEPTH)
        return walk->visitor->value(walk->arg, walk, field, member);
    walk->depth++;
    step = lt_walk_tree(walk, sub);
    walk->depth--;
    return step;
}

static lt_walk_step_t lt_walk_values(lt_walk_t *walk, const ProtobufCFieldDescriptor *field,
                                     const ProtobufCMessage *msg, size_t count)
{
    const char *member = (const char *)msg + field->offset;
    lt_walk_frame_t *frame = &walk->frames[walk->n_frames - 1];
    lt_walk_step_t step = LT_WALK_NEXT;
    size_t size, i;

    if (field->label != PROTOBUF_C_LABEL_REPEATED)
        return lt_walk_value(walk, field, member);
    member = *(const char *const *)member; /* the array */
    size = lt_pb_value_size(field->type);
    for (i = 0; i < count && step == LT_WALK_NEXT; i++) {
        frame->index = i;
        step = lt_walk_value(walk, field, member + i * size);
    }
    return step;
}

static lt_walk_step_t lt_walk_field(lt_walk_t *walk, const ProtobufCFieldDescriptor *field,
                                    const ProtobufCMessage *msg)
{
    const lt_walk_visitor_t *v = walk->visitor;
    size_t count = lt_pb_field_count(field, msg);
    lt_walk_step_t step = LT_WALK_NEXT;

    if (count == 0)
        return LT_WALK_NEXT;
    walk->frames[walk->n_frames++] = (lt_walk_frame_t){field, LT_WALK_SINGULAR};
    if (v->field_begin)
        step = v->field_begin(walk->arg, walk, field);
    if (step == LT_WALK_NEXT)
        step = lt_walk_values(walk, field, msg, count);
    if (step == LT_WALK_NEXT && v->field_end) {
        walk->frames[walk->n_frames - 1].index = LT_WALK_SINGULAR;
        step = v->field_end(walk->arg, walk, field);
    }
    walk->n_frames--;
    return step == LT_WALK_SKIP ? LT_WALK_NEXT : step;
}

static lt_walk_step_t lt_walk_tree(lt_walk_t *walk, const ProtobufCMessage *msg)
{
    const lt_walk_visitor_t *v = walk->visitor;
    const ProtobufCMessageDescriptor *desc = msg->descriptor;
    lt_walk_step_t step = LT_WALK_NEXT;
    unsigned f;

    if (v->message_begin)
        step = v->message_begin(walk->arg, walk, msg);
    if (step == LT_WALK_SKIP)
        return LT_WALK_NEXT;
    for (f = 0; f < desc->n_fields && step == LT_WALK_NEXT; f++)
        step = lt_walk_field(walk, &desc->fields[f], msg);
    if (step == LT_WALK_NEXT && v->message_end)
        step = v->message_end(walk->arg, walk, msg);
    return step == LT_WALK_SKIP ? LT_WALK_NEXT : step;
}

lt_walk_step_t lt_walk_message(const ProtobufCMessage *msg, const lt_walk_visitor_t *visitor,
                               void *arg)
{
    lt_walk_t walk = {.visitor = visitor, .arg = arg};

    return lt_walk_tree(&walk, msg);
}

/* ------------------------------------------------ the path */

static const char *lt_walk_render(const lt_walk_t *walk, lt_path_t *path, int with_index)
{
    size_t i;

    lt_path_pop(path, 0);
    for (i = 0; i < walk->n_frames; i++) {
        lt_path_field(path, walk->frames[i].field->name);
        if (with_index && walk->frames[i].index != LT_WALK_SINGULAR)
            lt_path_index(path, walk->frames[i].index);
    }
    return path->buf;
}

const char *lt_walk_path(const lt_walk_t *walk, lt_path_t *path)
{
    return lt_walk_render(walk, path, 1);
}

const char *lt_walk_field_path(const lt_walk_t *walk, lt_path_t *path)
{
    return lt_walk_render(walk, path, 0);
}
