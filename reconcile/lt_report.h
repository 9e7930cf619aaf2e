/* lt_report — what the province knows of every commune's consistency, from
 * its own database only (no commune database is ever opened): the last
 * in-band digest comparison, open gaps, quarantined messages, when the
 * commune was last heard from; and the deep check of the province's own
 * digests against its rows. */
#ifndef LT_REPORT_H
#define LT_REPORT_H

#include <stdio.h>

#include <libpq-fe.h>

/* Exit statuses, the same for report and verify --deep. */
enum {
    LT_REPORT_OK = 0,       /* every commune consistent */
    LT_REPORT_ERROR = 1,    /* the check could not be made */
    LT_REPORT_PROBLEM = 3,  /* a commune diverged, has gaps or quarantined messages */
};

/* Print one row per commune (only commune, if not NULL) to out, as a table
 * or as one JSON document. Returns an exit status above; errors go to
 * stderr. */
int lt_report_run(PGconn *pg, const char *commune, int json, FILE *out);

/* Recompute each commune's digest from the province's rows and compare it
 * with the digest the rounds maintained (all communes when n == 0). A
 * difference means rows were changed outside the sink or restored from an
 * older backup. Returns an exit status above. */
int lt_report_verify_deep(PGconn *pg, char *const *communes, size_t n, int json, FILE *out);

#endif
