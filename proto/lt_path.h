/* lt_path — the field path of a value being checked, for error messages:
 * "events[3].dossier.applicant.name". Pushing returns the length to pop back to. */
#ifndef LT_PATH_H
#define LT_PATH_H

#include <stddef.h>

#define LT_PATH_MAX 256

typedef struct lt_path {
    char buf[LT_PATH_MAX];
    size_t len;
} lt_path_t;

/* Append ".name" (or "name" at the root); returns the length to restore. */
size_t lt_path_field(lt_path_t *path, const char *name);
/* Append "[index]"; returns the length to restore. */
size_t lt_path_index(lt_path_t *path, size_t index);
void lt_path_pop(lt_path_t *path, size_t saved);

#endif
