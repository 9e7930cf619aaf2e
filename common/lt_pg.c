#include "lt_pg.h"

#include <stdlib.h>
#include <string.h>

#include "lt_util.h"

/* Server notices ("relation already exists, skipping") are not errors: keep
 * them out of the logs. */
static void lt_pg_ignore_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

PGconn *lt_pg_connect(const char *conninfo, const char *application_name, char *errstr,
                      size_t errstr_size)
{
    const char *keys[] = {"dbname", "application_name", "connect_timeout", NULL};
    const char *vals[] = {conninfo, application_name, "10", NULL};
    /* expand_dbname=1: the conninfo string supplies everything else. */
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        /* Name the server and database, never the conninfo: it may hold a password. */
        char msg[512];
        lt_strlcpy(msg, conn ? PQerrorMessage(conn) : "out of memory", sizeof(msg));
        size_t len = strlen(msg);
        while (len && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
            msg[--len] = '\0';
        lt_err(errstr, errstr_size, "cannot connect to PostgreSQL (host=%s port=%s dbname=%s): %s",
               conn && PQhost(conn) ? PQhost(conn) : "?", conn && PQport(conn) ? PQport(conn) : "?",
               conn && PQdb(conn) ? PQdb(conn) : "?", msg);
        PQfinish(conn);
        return NULL;
    }
    PQsetNoticeProcessor(conn, lt_pg_ignore_notice, NULL);
    return conn;
}

lt_pg_rc_t lt_pg_classify(PGconn *conn, const PGresult *res)
{
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_COPY_IN ||
        st == PGRES_COPY_OUT)
        return LT_PG_OK;
    if (PQstatus(conn) != CONNECTION_OK)
        return LT_PG_RETRY;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    if (!state)
        return LT_PG_RETRY;
    static const char *const retry_classes[] = {"08", "40", "53", "57", "58"};
    for (size_t i = 0; i < sizeof(retry_classes) / sizeof(*retry_classes); i++)
        if (strncmp(state, retry_classes[i], 2) == 0)
            return LT_PG_RETRY;
    return LT_PG_FATAL;
}

static lt_pg_rc_t lt_pg_report(PGconn *conn, const PGresult *res, const char *sql, char *errstr,
                               size_t errstr_size)
{
    lt_pg_rc_t rc = lt_pg_classify(conn, res);
    if (rc != LT_PG_OK) {
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        char first[80];
        lt_strlcpy(first, sql, sizeof(first));
        char *nl = strchr(first, '\n');
        if (nl)
            *nl = '\0';
        lt_err(errstr, errstr_size, "PostgreSQL %s (SQLSTATE %s) in \"%s\": %s",
               rc == LT_PG_RETRY ? "unavailable" : "error", state ? state : "none", first,
               res ? PQresultErrorMessage(res) : PQerrorMessage(conn));
        /* strip the trailing newline libpq appends */
        size_t len = errstr ? strlen(errstr) : 0;
        if (len && errstr[len - 1] == '\n')
            errstr[len - 1] = '\0';
    }
    return rc;
}

lt_pg_rc_t lt_pg_exec(PGconn *conn, const char *sql, int nparams, const char *const *params,
                      char *errstr, size_t errstr_size)
{
    PGresult *res = nparams ? PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0)
                            : PQexec(conn, sql);
    lt_pg_rc_t rc = lt_pg_report(conn, res, sql, errstr, errstr_size);
    PQclear(res);
    return rc;
}

lt_pg_rc_t lt_pg_query(PGconn *conn, const char *sql, int nparams, const char *const *params,
                       PGresult **out, char *errstr, size_t errstr_size)
{
    PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
    lt_pg_rc_t rc = lt_pg_report(conn, res, sql, errstr, errstr_size);
    if (rc != LT_PG_OK) {
        PQclear(res);
        res = NULL;
    }
    *out = res;
    return rc;
}

lt_pg_rc_t lt_pg_query_u64(PGconn *conn, const char *sql, int nparams, const char *const *params,
                           uint64_t if_null, uint64_t *out, char *errstr, size_t errstr_size)
{
    PGresult *res;
    lt_pg_rc_t rc = lt_pg_query(conn, sql, nparams, params, &res, errstr, errstr_size);
    if (rc != LT_PG_OK)
        return rc;
    int empty = PQntuples(res) < 1 || PQnfields(res) < 1 || PQgetisnull(res, 0, 0);
    *out = empty ? if_null : strtoull(PQgetvalue(res, 0, 0), NULL, 10);
    PQclear(res);
    return LT_PG_OK;
}

int lt_pg_ensure(PGconn *conn)
{
    if (PQstatus(conn) == CONNECTION_OK)
        return 0;
    PQreset(conn);
    return PQstatus(conn) == CONNECTION_OK ? 0 : -1;
}
