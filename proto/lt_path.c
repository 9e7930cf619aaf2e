#include "lt_path.h"

#include <string.h>

/* Append len bytes of text, cut where the buffer ends (the path is then
 * truncated); returns the length before, for lt_path_pop. Every field of
 * every event passes here on both levels: no printf. */
static size_t lt_path_append(lt_path_t *path, const char *text, size_t len)
{
    size_t saved = path->len, room = sizeof(path->buf) - 1 - saved;
    if (len > room)
        len = room;
    memcpy(path->buf + saved, text, len);
    path->len = saved + len;
    path->buf[path->len] = '\0';
    return saved;
}

size_t lt_path_field(lt_path_t *path, const char *name)
{
    size_t saved = path->len;
    if (saved)
        lt_path_append(path, ".", 1);
    lt_path_append(path, name, strlen(name));
    return saved;
}

size_t lt_path_index(lt_path_t *path, size_t index)
{
    char text[24], *p = text + sizeof(text);
    *--p = ']';
    do
        *--p = (char)('0' + index % 10);
    while ((index /= 10) != 0);
    *--p = '[';
    return lt_path_append(path, p, (size_t)(text + sizeof(text) - p));
}

void lt_path_pop(lt_path_t *path, size_t saved)
{
    path->len = saved;
    path->buf[saved] = '\0';
}
