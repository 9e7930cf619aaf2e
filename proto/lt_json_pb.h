/* lt_json_pb — JSON <-> protobuf through the protobuf-c descriptors.
 *
 * Follows the proto3 JSON mapping: lowerCamelCase names on output, both the
 * JSON name and the original field name accepted on input; 64-bit integers as
 * strings on output (numbers or strings accepted); bytes as base64; enums by
 * name (the numbers of defined values accepted too; other numbers refused, as
 * lt_pb_check refuses them on the wire); default values omitted on output;
 * null means absent.
 * No per-message code: the descriptors drive both directions. Output is the
 * JSON emitter on the one tree walker (lt_walk); input is a parser of the
 * jansson tree that shares the walker's descriptor helpers. */
#ifndef LT_JSON_PB_H
#define LT_JSON_PB_H

#include <stddef.h>

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

/* Build a message of type desc from a JSON object. Unknown keys, wrong types,
 * out-of-range numbers, enum values the enum does not define and invalid text
 * are errors; errstr then names the field
 * path ("child.name.given: expected a string, got number"). The result is freed
 * with protobuf_c_message_free_unpacked(msg, NULL). */
ProtobufCMessage *lt_json_to_pb(const ProtobufCMessageDescriptor *desc, const json_t *json,
                                char *errstr, size_t errstr_size);

struct lt_buf;
/* Append the proto3 JSON form of msg, compact, fields in descriptor order, to
 * out (the one JSON writer; the sink's hot path). Where a json_t is needed,
 * json_loads the text. A NULL msg is written as null. */
void lt_pb_write_json(const ProtobufCMessage *msg, struct lt_buf *out);

#endif
