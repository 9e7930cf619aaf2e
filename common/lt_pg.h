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
    LT_PG_RETRY, /* heals by waiting: SQLSTATE class 08 or 53, 57P01-03/05, 57014,
                    40001, 40P01, or the connection is gone */
    LT_PG_DATA,  /* the statement's data was refused: class 22 or 23 */
    LT_PG_FATAL, /* anything else: a missing table (42P01), a wrong password
                    (28P01), no such database (3D000), ... waiting will not help */
} lt_pg_rc_t;

/* Connect once. NULL on failure with errstr naming the server and *rc saying
 * whether waiting may help (LT_PG_RETRY: no answer, server starting) or not
 * (LT_PG_FATAL: the server refused us). application_name names the program. */
PGconn *lt_pg_open(const char *conninfo, const char *application_name, lt_pg_rc_t *rc,
                   char *errstr, size_t errstr_size);

/* lt_pg_open without the classification (one-shot commands). */
PGconn *lt_pg_connect(const char *conninfo, const char *application_name, char *errstr,
                      size_t errstr_size);

/* Classify a result (NULL res means the connection failed). */
lt_pg_rc_t lt_pg_classify(PGconn *conn, const PGresult *res);

/* Classify res; when it failed, errstr says "PostgreSQL <kind> (SQLSTATE X)
 * in "<first line of sql>": <message>". Returns the class. */
lt_pg_rc_t lt_pg_report(PGconn *conn, const PGresult *res, const char *sql, char *errstr,
                        size_t errstr_size);

/* Classify an SQLSTATE code ("42P01") by the rule above. */
lt_pg_rc_t lt_pg_classify_sqlstate(const char *state);

/* "ok", "unavailable", "data refused", "error". */
const char *lt_pg_rc_name(lt_pg_rc_t rc);

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

/* Reconnect a broken connection: LT_PG_OK when usable, LT_PG_RETRY when the
 * server is still away, LT_PG_FATAL (errstr) when it refuses us. */
lt_pg_rc_t lt_pg_ensure(PGconn *conn, char *errstr, size_t errstr_size);

/* Wait until the server accepts connections (probed every 250 ms), at most
 * max_ms or until a stop is requested. Returns 1 when it answers. Waiting on
 * the server rather than sleeping a backoff out resumes work within a
 * fraction of a second of its return. */
int lt_pg_wait_ready(const char *conninfo, int max_ms);

/* The pause after LT_PG_RETRY: while the server is away, lt_pg_wait_ready
 * (at most 30 s); when it answers but failed us, a sleep growing from
 * *backoff_ms up to 5 s, so it is not hammered. */
void lt_pg_pause(const char *conninfo, int *backoff_ms);

#endif
