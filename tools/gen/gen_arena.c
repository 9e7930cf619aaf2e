#include "gen_arena.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GEN_ARENA_BLOCK 16384
#define GEN_ARENA_ALIGN 16

struct gen_arena_block {
    gen_arena_block_t *next;
    size_t used, size;
    _Alignas(GEN_ARENA_ALIGN) unsigned char data[];
};

static void *gen_arena_must(void *p)
{
    if (!p) {
        fprintf(stderr, "lienthong-gen: out of memory\n");
        abort();
    }
    return p;
}

static gen_arena_block_t *gen_arena_grow(gen_arena_t *arena, size_t size)
{
    size_t cap = size > GEN_ARENA_BLOCK ? size : GEN_ARENA_BLOCK;
    gen_arena_block_t *b = gen_arena_must(malloc(sizeof(*b) + cap));
    b->used = 0;
    b->size = cap;
    b->next = arena->blocks;
    arena->blocks = b;
    return b;
}

void *gen_arena_alloc(gen_arena_t *arena, size_t size)
{
    size = (size + GEN_ARENA_ALIGN - 1) & ~(size_t)(GEN_ARENA_ALIGN - 1);
    gen_arena_block_t *b = arena->blocks;
    if (!b || b->size - b->used < size)
        b = gen_arena_grow(arena, size);
    void *p = b->data + b->used;
    b->used += size;
    return memset(p, 0, size);
}

void *gen_arena_msg(gen_arena_t *arena, const ProtobufCMessageDescriptor *desc)
{
    void *msg = gen_arena_alloc(arena, desc->sizeof_message);
    protobuf_c_message_init(desc, msg);
    return msg;
}

char *gen_arena_strdup(gen_arena_t *arena, const char *s)
{
    size_t len = strlen(s) + 1;
    return memcpy(gen_arena_alloc(arena, len), s, len);
}

char *gen_arena_printf(gen_arena_t *arena, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = gen_arena_alloc(arena, (size_t)len + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t)len + 1, fmt, ap);
    va_end(ap);
    return s;
}

void gen_arena_reset(gen_arena_t *arena)
{
    gen_arena_block_t *keep = arena->blocks;
    if (!keep)
        return;
    /* keep the newest block: the one a payload of this size last needed */
    for (gen_arena_block_t *b = keep->next, *next; b; b = next) {
        next = b->next;
        free(b);
    }
    keep->next = NULL;
    keep->used = 0;
}

void gen_arena_free(gen_arena_t *arena)
{
    gen_arena_reset(arena);
    free(arena->blocks);
    arena->blocks = NULL;
}
