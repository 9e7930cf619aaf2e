/* lt-bench-digest: what one digest member costs the sink in CPU - the
 * bucket and SHA-256 member hash of an entity state (proto/lt_digest.c),
 * computed once per event the sink applies. Prints nanoseconds per member
 * (best of 5 passes of N members; N from argv[1], default 1,000,000). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "lt_digest.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    uint8_t content[32] = {1, 2, 3};
    char id[64];
    double best = 1e9;
    uint64_t sink = 0;
    for (int pass = 0; pass < 5; pass++) {
        double t0 = now_s();
        for (long i = 0; i < n; i++) {
            lt_digest_member_t m;
            snprintf(id, sizeof(id), "KT-00004-%ld", i);
            content[0] = (uint8_t)i;
            lt_digest_member("civil_record", id, 1, 0, content, sizeof(content), &m);
            sink += m.bucket;
        }
        double t = now_s() - t0;
        if (t < best)
            best = t;
    }
    printf("%.0f\n", best / (double)n * 1e9);
    return sink == 42; /* keeps the loop from being optimised away */
}
