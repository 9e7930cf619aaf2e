#include "lt_path.h"

#include <stdio.h>

/* Keep the length sane when the text did not fit: the path is truncated. */
static size_t lt_path_grow(lt_path_t *path, size_t saved, int n)
{
    path->len = n < 0 ? saved : saved + (size_t)n;
    if (path->len >= sizeof(path->buf))
        path->len = sizeof(path->buf) - 1;
    return saved;
}

size_t lt_path_field(lt_path_t *path, const char *name)
{
    size_t saved = path->len;
    int n = snprintf(path->buf + saved, sizeof(path->buf) - saved, "%s%s", saved ? "." : "",
                     name);
    return lt_path_grow(path, saved, n);
}

size_t lt_path_index(lt_path_t *path, size_t index)
{
    size_t saved = path->len;
    int n = snprintf(path->buf + saved, sizeof(path->buf) - saved, "[%zu]", index);
    return lt_path_grow(path, saved, n);
}

void lt_path_pop(lt_path_t *path, size_t saved)
{
    path->len = saved;
    path->buf[saved] = '\0';
}
