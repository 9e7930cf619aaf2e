#include "lt_fault.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Loaded once, by whichever thread passes a point first (the sink commits on
 * a thread of its own). */
static pthread_once_t lt_fault_once = PTHREAD_ONCE_INIT;
static char lt_fault_name[64];
static long lt_fault_remaining;

static void lt_fault_load(void)
{
    const char *spec = getenv("LT_CRASH_POINT");
    if (!spec)
        return;
    const char *colon = strchr(spec, ':');
    size_t len = colon ? (size_t)(colon - spec) : strlen(spec);
    if (len >= sizeof(lt_fault_name))
        return;
    memcpy(lt_fault_name, spec, len);
    lt_fault_name[len] = '\0';
    lt_fault_remaining = colon ? atol(colon + 1) : 1;
}

void lt_fault_point(const char *name)
{
    pthread_once(&lt_fault_once, lt_fault_load);
    if (!lt_fault_name[0] || strcmp(name, lt_fault_name) != 0)
        return;
    if (--lt_fault_remaining <= 0) {
        fprintf(stderr, "crash point %s reached: SIGKILL\n", name);
        raise(SIGKILL);
    }
}
