/* lt_pg — libpq helpers and the one rule for PostgreSQL errors:
 * infrastructure trouble (connection, serialization, resources, shutdown) is
 * retriable and the caller waits and tries again; anything else is a
 * permanent error of the statement or its data. */
#ifndef LT_PG_H
#define LT_PG_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

typedef enum {
    LT_PG_OK = 0,
    LT_PG_RETRY, /* SQLSTATE classes 08, 40, 53, 57, 58, or the connection is gone */
    LT_PG_FATAL, /* e.g. 22 data exception, 23 integrity violation, 42 syntax */
} lt_pg_rc_t;

/* Connect once; NULL with errstr on failure. application_name names the program. */
PGconn *lt_pg_connect(const char *conninfo, const char *application_name, char *errstr,
                      size_t errstr_size);

/* Classify a result (NULL res means the connection failed). */
lt_pg_rc_t lt_pg_classify(PGconn *conn, const PGresult *res);

/* Run sql (may hold several statements when nparams == 0); discard the result. */
lt_pg_rc_t lt_pg_exec(PGconn *conn, const char *sql, int nparams, const char *const *params,
                      char *errstr, size_t errstr_size);

/* Run a query returning rows; on success *out holds the result (PQclear it). */
lt_pg_rc_t lt_pg_query(PGconn *conn, const char *sql, int nparams, const char *const *params,
                       PGresult **out, char *errstr, size_t errstr_size);

/* Run a query returning one number (row 0, column 0); a NULL or an empty
 * result gives if_null. */
lt_pg_rc_t lt_pg_query_u64(PGconn *conn, const char *sql, int nparams, const char *const *params,
                           uint64_t if_null, uint64_t *out, char *errstr, size_t errstr_size);

/* Reconnect a broken connection; returns 0 when the connection is usable. */
int lt_pg_ensure(PGconn *conn);

#endif
