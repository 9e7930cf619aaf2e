/* gen_arena — where one event's payload message lives.
 *
 * A payload is a tree of protobuf-c messages and strings that is written out
 * as JSON once and then dropped. An arena hands out zeroed memory for the
 * tree and releases all of it at once (gen_arena_reset), so no message is
 * freed piece by piece. Out of memory aborts: the generator is a test tool. */
#ifndef GEN_ARENA_H
#define GEN_ARENA_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

typedef struct gen_arena_block gen_arena_block_t;

typedef struct gen_arena {
    gen_arena_block_t *blocks; /* newest first */
} gen_arena_t;                 /* {0} is an empty arena */

/* size bytes, zeroed, aligned for any message; valid until the next reset. */
void *gen_arena_alloc(gen_arena_t *arena, size_t size);

/* A new message of type desc, initialised (defaults set). */
void *gen_arena_msg(gen_arena_t *arena, const ProtobufCMessageDescriptor *desc);

/* A copy of s in the arena (protobuf-c strings are not const). */
char *gen_arena_strdup(gen_arena_t *arena, const char *s);

/* A formatted string in the arena. */
char *gen_arena_printf(gen_arena_t *arena, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Forget everything handed out; keeps one block for reuse. */
void gen_arena_reset(gen_arena_t *arena);

/* Release all memory; the arena is empty again. */
void gen_arena_free(gen_arena_t *arena);

#endif
