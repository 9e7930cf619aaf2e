#include "lt_merge.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lt_store_merge.h"
#include "lt_units.h"

static int lt_merge_listed(const char *const *list, size_t n, const char *code)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(list[i], code))
            return 1;
    return 0;
}

/* The new commune: registered (it brings its own key) and active. */
static int lt_merge_check_into(PGconn *pg, const char *into, lt_store_merge_unit_t *u)
{
    char errstr[1024];
    if (lt_store_merge_inspect(pg, into, u, errstr, sizeof(errstr)) != LT_PG_OK) {
        fprintf(stderr, "error: merge: %s\n", errstr);
        return -1;
    }
    if (!u->registered) {
        fprintf(stderr,
                "error: merge: commune %s is not registered: provision it first with its own "
                "key (lienthong-sink provision %s %s.pem), then merge into it\n",
                into, into, into);
        return -1;
    }
    if (u->merged_into[0]) {
        fprintf(stderr, "error: merge: commune %s was itself merged into %s\n", into,
                u->merged_into);
        return -1;
    }
    return 0;
}

/* Why an old commune cannot be merged safely now ("" if it can): anything
 * it sent must be here, or it would be lost with the retired topic. */
static void lt_merge_unsettled(const char *code, const lt_store_merge_unit_t *u, char *why,
                               size_t size)
{
    why[0] = '\0';
    if (u->open_gaps)
        snprintf(why, size, "%" PRId64 " open sequence gap(s): repair them first "
                 "(lienthong-reconcile repair --commune %s)", u->open_gaps, code);
    else if (u->backlog > 0)
        snprintf(why, size, "its agent had %" PRId64 " row(s) not yet in Kafka at its last "
                 "heartbeat: let it send them", u->backlog);
    else if (u->quarantined)
        snprintf(why, size, "%" PRId64 " quarantined message(s): replay or settle them first "
                 "(lienthong-reconcile quarantine list --commune %s)", u->quarantined, code);
    else if (u->resync_open)
        snprintf(why, size, "%" PRId64 " resync request(s) still being answered",
                 u->resync_open);
}

/* Why code cannot be merged at all ("" if it can). */
static void lt_merge_unfit(const lt_merge_request_t *req, size_t i,
                           const lt_store_merge_unit_t *into, const lt_store_merge_unit_t *u,
                           char *why, size_t size)
{
    const char *code = req->from[i];
    why[0] = '\0';
    if (!strcmp(code, req->into))
        snprintf(why, size, "it is the commune merged into");
    else if (lt_merge_listed(req->from, i, code))
        snprintf(why, size, "named twice");
    else if (!u->registered)
        snprintf(why, size, "not registered at this province");
    else if (strcmp(u->province, into->province))
        snprintf(why, size, "of province %s, not %s", u->province, into->province);
    else if (u->merged_into[0])
        snprintf(why, size, "merged into %s already", u->merged_into);
}

static int lt_merge_check_from(PGconn *pg, const lt_merge_request_t *req, size_t i,
                               const lt_store_merge_unit_t *into, lt_store_merge_unit_t *u)
{
    char errstr[1024], why[256];
    const char *code = req->from[i];
    if (lt_store_merge_inspect(pg, code, u, errstr, sizeof(errstr)) != LT_PG_OK) {
        fprintf(stderr, "error: merge: %s\n", errstr);
        return -1;
    }
    lt_merge_unfit(req, i, into, u, why, sizeof(why));
    if (why[0]) {
        fprintf(stderr, "error: merge: commune %s: %s\n", code, why);
        return -1;
    }
    lt_merge_unsettled(code, u, why, sizeof(why));
    if (!why[0])
        return 0;
    fprintf(stderr, "%s: merge: commune %s: %s%s\n", req->force ? "warning" : "error", code,
            why, req->force ? " (--force: merged anyway)" : "");
    return req->force ? 0 : -1;
}

int lt_merge_run(PGconn *pg, const lt_merge_request_t *req, FILE *out)
{
    lt_store_merge_unit_t into, *units = calloc(req->n_from ? req->n_from : 1, sizeof(*units));
    lt_store_merge_source_t *src = calloc(req->n_from ? req->n_from : 1, sizeof(*src));
    int refused = 0;
    if (!units || !src)
        abort();
    for (size_t i = 0; i < req->n_partial; i++)
        if (!lt_merge_listed(req->from, req->n_from, req->partial[i])) {
            fprintf(stderr, "error: merge: --partial %s is not one of --from\n", req->partial[i]);
            refused = 1;
        }
    if (!refused && lt_merge_check_into(pg, req->into, &into) != 0)
        refused = 1;
    int into_ok = !refused;
    for (size_t i = 0; into_ok && i < req->n_from; i++)
        if (lt_merge_check_from(pg, req, i, &into, &units[i]) != 0)
            refused = 1; /* keep checking: say everything that is wrong at once */
    for (size_t i = 0; !refused && i < req->n_from; i++) {
        src[i] = (lt_store_merge_source_t){
            .code = req->from[i],
            .partial = lt_merge_listed(req->partial, req->n_partial, req->from[i])};
        fprintf(out, "%s %s: %" PRId64 " records, applied up to seq %" PRId64 "%s -> %s %s\n",
                req->from[i], units[i].name, units[i].entities, units[i].last_seq,
                src[i].partial ? " (partly merged: its records all go here)" : "", req->into,
                into.name);
    }
    int rc = refused ? LT_MERGE_REFUSED : LT_MERGE_DONE;
    if (!refused && req->dry_run) {
        fprintf(out, "dry run: nothing changed\n");
    } else if (!refused) {
        char errstr[1024];
        if (lt_store_merge_apply(pg, req->into, src, req->n_from, errstr, sizeof(errstr)) !=
            LT_PG_OK) {
            fprintf(stderr, "error: merge: %s (nothing changed)\n", errstr);
            rc = LT_MERGE_REFUSED;
        } else {
            int64_t moved = 0, superseded = 0;
            for (size_t i = 0; i < req->n_from; i++)
                moved += src[i].moved, superseded += src[i].superseded;
            fprintf(out, "merged %zu commune(s) into %s %s: %" PRId64 " records moved, %" PRId64
                    " held twice (the newer version kept); the old communes are retired: stop "
                    "their agents\n",
                    req->n_from, req->into, into.name, moved, superseded);
        }
    }
    free(units);
    free(src);
    return rc;
}

/* ------------------------------------------------------------ the mapping */

/* Is the mapping's old unit one to merge? Says why not on out. */
static int lt_merge_mapped_source(PGconn *pg, const char *into, const char *code,
                                  const char *name, FILE *out)
{
    char errstr[1024];
    lt_store_merge_unit_t u;
    if (!strcmp(code, into)) {
        fprintf(out, "%s %s: continues as the new commune\n", code, name);
        return 0;
    }
    if (lt_store_merge_inspect(pg, code, &u, errstr, sizeof(errstr)) != LT_PG_OK) {
        fprintf(stderr, "error: merge: %s\n", errstr);
        return -1;
    }
    if (!u.registered)
        fprintf(out, "%s %s: not registered at this province, skipped\n", code, name);
    else if (u.merged_into[0])
        fprintf(out, "%s %s: merged into %s already, skipped\n", code, name, u.merged_into);
    return u.registered && !u.merged_into[0];
}

int lt_merge_run_mapped(PGconn *pg, const lt_units_t *units, const lt_merge_request_t *req,
                        FILE *out)
{
    const char *code, *name;
    int partial, rc = LT_MERGE_REFUSED;
    size_t n = 0, cap = 0, k = 0;
    while (lt_units_predecessor(units, req->into, cap, &code, &name, &partial) == 0)
        cap++;
    const char **from = calloc(cap ? cap : 1, sizeof(*from));
    const char **parts = calloc(cap ? cap : 1, sizeof(*parts));
    if (!from || !parts)
        abort();
    for (size_t i = 0; i < cap; i++) {
        if (lt_units_predecessor(units, req->into, i, &code, &name, &partial) != 0)
            break;
        int take = lt_merge_mapped_source(pg, req->into, code, name, out);
        if (take < 0)
            goto done;
        if (take && partial)
            parts[k++] = code;
        if (take)
            from[n++] = code;
    }
    if (!n) {
        fprintf(stderr, "error: merge: of the %zu unit(s) the 2025 mapping merges into %s, none "
                "is registered here and still active (name the communes with --from)\n",
                cap, req->into);
        goto done;
    }
    lt_merge_request_t mapped = *req;
    mapped.from = from, mapped.n_from = n, mapped.partial = parts, mapped.n_partial = k;
    rc = lt_merge_run(pg, &mapped, out);
done:
    free((void *)from);
    free((void *)parts);
    return rc;
}
