#include "lt_report.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lt_buf.h"
#include "lt_digest.h"
#include "lt_store.h"

/* The commune's state words, e.g. "DIVERGED,GAPS"; "OK" when none applies. */
static void lt_report_state(const lt_store_report_t *r, char *out, size_t size, int *problem)
{
    out[0] = '\0';
    if (r->merged_into) {
        /* Retired: only its agent still sending (quarantined) is a problem. */
        *problem = r->quarantined > 0;
        snprintf(out, size, "MERGED%s", *problem ? ",QUARANTINE" : "");
        return;
    }
    *problem = r->digest_equal == 0 || r->open_gaps > 0 || r->quarantined > 0;
    if (r->digest_equal == 0)
        strncat(out, "DIVERGED,", size - strlen(out) - 1);
    if (r->open_gaps > 0)
        strncat(out, "GAPS,", size - strlen(out) - 1);
    if (r->quarantined > 0)
        strncat(out, "QUARANTINE,", size - strlen(out) - 1);
    if (!out[0])
        strncat(out, r->digest_equal < 0 && r->last_seq > 0 ? "UNCHECKED," : "OK,",
                size - strlen(out) - 1);
    out[strlen(out) - 1] = '\0';
}

static void lt_report_age(int64_t secs, char *out, size_t size)
{
    if (secs < 0)
        snprintf(out, size, "never");
    else if (secs < 120)
        snprintf(out, size, "%" PRId64 " s ago", secs);
    else if (secs < 7200)
        snprintf(out, size, "%" PRId64 " min ago", secs / 60);
    else if (secs < 172800)
        snprintf(out, size, "%" PRId64 " h ago", secs / 3600);
    else
        snprintf(out, size, "%" PRId64 " days ago", secs / 86400);
}

static void lt_report_digest_text(const lt_store_report_t *r, char *out, size_t size)
{
    if (r->digest_equal < 0)
        snprintf(out, size, "not yet compared");
    else if (r->digest_equal)
        snprintf(out, size, "equal at seq %" PRId64, r->digest_seq);
    else
        snprintf(out, size, "%" PRId64 " bucket(s) differ at seq %" PRId64, r->n_diverged,
                 r->digest_seq);
}

static void lt_report_table(const lt_store_report_t *rows, size_t n, FILE *out)
{
    fprintf(out, "%-7s %-22s %10s  %-32s %12s %5s  %-12s  %s\n", "commune", "state", "last_seq",
            "digest", "gaps/missing", "quar", "last heard", "name");
    for (size_t i = 0; i < n; i++) {
        const lt_store_report_t *r = &rows[i];
        char state[64], age[32], digest[64], gaps[32];
        int problem;
        lt_report_state(r, state, sizeof(state), &problem);
        lt_report_age(r->last_heard_age_s, age, sizeof(age));
        lt_report_digest_text(r, digest, sizeof(digest));
        snprintf(gaps, sizeof(gaps), "%" PRId64 "/%" PRId64, r->open_gaps, r->missing_events);
        if (r->merged_into)
            snprintf(digest, sizeof(digest), "merged into %s", r->merged_into);
        fprintf(out, "%-7s %-22s %10" PRId64 "  %-32s %12s %5" PRId64 "  %-12s  %s\n", r->code,
                state, r->last_seq, digest, gaps, r->quarantined, age, r->name ? r->name : "");
    }
}

static json_t *lt_report_json_row(const lt_store_report_t *r)
{
    char state[64];
    int problem;
    lt_report_state(r, state, sizeof(state), &problem);
    json_t *row = json_pack("{s:s, s:s, s:s, s:b, s:I, s:I, s:I, s:I}", "commune", r->code,
                            "name", r->name ? r->name : "", "state", state, "problem", problem,
                            "last_seq", (json_int_t)r->last_seq, "open_gaps",
                            (json_int_t)r->open_gaps, "missing_events",
                            (json_int_t)r->missing_events, "quarantined",
                            (json_int_t)r->quarantined);
    json_object_set_new(row, "last_heard_at",
                        r->last_heard_at ? json_string(r->last_heard_at) : json_null());
    json_object_set_new(row, "last_heard_age_s", r->last_heard_age_s >= 0
                                                     ? json_integer(r->last_heard_age_s)
                                                     : json_null());
    json_t *digest = json_null();
    if (r->digest_equal >= 0) {
        json_t *buckets = json_array();
        for (const char *p = r->diverged; p && *p;) {
            json_array_append_new(buckets, json_integer(strtol(p, NULL, 10)));
            p = strchr(p, ',');
            p = p ? p + 1 : NULL;
        }
        digest = json_pack("{s:I, s:s, s:b, s:o}", "seq", (json_int_t)r->digest_seq,
                           "checked_at", r->digest_checked_at ? r->digest_checked_at : "",
                           "equal", r->digest_equal, "diverged_buckets", buckets);
    }
    json_object_set_new(row, "digest", digest);
    json_object_set_new(row, "merged_into",
                        r->merged_into ? json_string(r->merged_into) : json_null());
    return row;
}

int lt_report_run(PGconn *pg, const char *commune, int json, FILE *out)
{
    char errstr[1024];
    lt_store_report_t *rows;
    size_t n;
    if (lt_store_report(pg, commune, &rows, &n, errstr, sizeof(errstr)) != LT_PG_OK) {
        fprintf(stderr, "error: %s\n", errstr);
        return LT_REPORT_ERROR;
    }
    if (commune && n == 0) {
        fprintf(stderr, "error: commune %s is not registered at this province\n", commune);
        lt_store_report_free(rows, n);
        return LT_REPORT_ERROR;
    }
    int problems = 0;
    json_t *doc = json ? json_pack("{s:[]}", "communes") : NULL;
    for (size_t i = 0; i < n; i++) {
        char state[64];
        int problem;
        lt_report_state(&rows[i], state, sizeof(state), &problem);
        problems += problem;
        if (doc)
            json_array_append_new(json_object_get(doc, "communes"), lt_report_json_row(&rows[i]));
    }
    if (doc) {
        json_object_set_new(doc, "problems", json_integer(problems));
        json_dumpf(doc, out, JSON_INDENT(2));
        fputc('\n', out);
        json_decref(doc);
    } else {
        lt_report_table(rows, n, out);
        fprintf(out, "%zu commune(s), %d with a problem\n", n, problems);
    }
    lt_store_report_free(rows, n);
    return problems ? LT_REPORT_PROBLEM : LT_REPORT_OK;
}

/* One commune's deep check: 1 equal, 0 different (printed), -1 error. */
static int lt_report_deep_one(PGconn *pg, const char *commune, json_t *doc, FILE *out)
{
    char errstr[1024];
    lt_digest_t *rows = malloc(sizeof(*rows)), *kept = malloc(sizeof(*kept));
    uint32_t diverged[LT_DIGEST_BUCKETS];
    if (!rows || !kept)
        abort();
    int rc = -1;
    if (lt_store_digest_of_rows(pg, commune, rows, kept, errstr, sizeof(errstr)) != LT_PG_OK) {
        fprintf(stderr, "error: commune %s: %s\n", commune, errstr);
        goto done;
    }
    size_t n = lt_digest_diff(rows, kept, diverged);
    lt_buf_t list = {0};
    for (size_t i = 0; i < n; i++)
        lt_buf_printf(&list, "%s%u", i ? "," : "", diverged[i]);
    if (doc)
        json_array_append_new(json_object_get(doc, "communes"),
                              json_pack("{s:s, s:b, s:s}", "commune", commune, "equal", n == 0,
                                        "diverged_buckets", lt_buf_cstr(&list)));
    else if (n == 0)
        fprintf(out, "commune %s: EQUAL: the maintained digest matches its rows\n", commune);
    else
        fprintf(out, "commune %s: DIFFERENT: %zu bucket(s) of the maintained digest do not match"
                " the rows (buckets %s): rows changed outside the sink, or restored\n",
                commune, n, lt_buf_cstr(&list));
    lt_buf_free(&list);
    rc = n == 0;
done:
    free(rows);
    free(kept);
    return rc;
}

int lt_report_verify_deep(PGconn *pg, char *const *communes, size_t n, int json, FILE *out)
{
    char errstr[1024], **all = NULL;
    size_t n_all = 0;
    if (n == 0) {
        if (lt_store_communes(pg, &all, &n_all, errstr, sizeof(errstr)) != LT_PG_OK) {
            fprintf(stderr, "error: %s\n", errstr);
            return LT_REPORT_ERROR;
        }
        communes = all;
        n = n_all;
    }
    json_t *doc = json ? json_pack("{s:[]}", "communes") : NULL;
    int status = LT_REPORT_OK;
    for (size_t i = 0; i < n; i++) {
        int equal = lt_report_deep_one(pg, communes[i], doc, out);
        if (equal < 0)
            status = LT_REPORT_ERROR;
        else if (!equal && status == LT_REPORT_OK)
            status = LT_REPORT_PROBLEM;
    }
    if (doc) {
        json_dumpf(doc, out, JSON_INDENT(2));
        fputc('\n', out);
        json_decref(doc);
    }
    for (size_t i = 0; i < n_all; i++)
        free(all[i]);
    free(all);
    return status;
}
