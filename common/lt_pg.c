#include "lt_pg.h"

#include <errno.h>
#include <poll.h>
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

/* The SQLSTATE in a verbose libpq message ("FATAL:  28P01: password ..."),
 * copied into state[6]; 0 if there is none (a network error). */
static int lt_pg_message_sqlstate(const char *msg, char state[6])
{
    for (const char *p = strstr(msg, ":  "); p; p = strstr(p + 1, ":  ")) {
        const char *code = p + 3;
        size_t n = 0;
        while (n < 5 && ((code[n] >= '0' && code[n] <= '9') || (code[n] >= 'A' && code[n] <= 'Z')))
            n++;
        if (n == 5 && code[5] == ':') {
            memcpy(state, code, 5);
            state[5] = '\0';
            return 1;
        }
    }
    return 0;
}

lt_pg_rc_t lt_pg_classify_sqlstate(const char *state)
{
    /* What heals by waiting: the connection, resources, a server shutting
     * down or starting, a cancelled statement, a serialization conflict. */
    static const char *const retry[] = {"08", "53", "57P01", "57P02", "57P03", "57P05",
                                        "57014", "40001", "40P01"};
    for (size_t i = 0; i < sizeof(retry) / sizeof(*retry); i++)
        if (strncmp(state, retry[i], strlen(retry[i])) == 0)
            return LT_PG_RETRY;
    /* The statement's data was refused: data exception, integrity violation. */
    if (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0)
        return LT_PG_DATA;
    return LT_PG_FATAL;
}

/* A failed connection: waiting helps unless the server refused us (wrong
 * password, no such database, no pg_hba entry, ...). */
static lt_pg_rc_t lt_pg_classify_connection(const char *msg)
{
    char state[6];
    if (!lt_pg_message_sqlstate(msg, state))
        return LT_PG_RETRY; /* refused, unreachable, timed out: no server answer */
    lt_pg_rc_t rc = lt_pg_classify_sqlstate(state);
    return rc == LT_PG_RETRY ? LT_PG_RETRY : LT_PG_FATAL;
}

/* libpq's message, first line only (verbose messages add a LOCATION line). */
static void lt_pg_first_line(char *msg)
{
    char *nl = strchr(msg, '\n');
    if (nl)
        *nl = '\0';
    size_t len = strlen(msg);
    while (len && msg[len - 1] == ' ')
        msg[--len] = '\0';
}

static void lt_pg_connect_error(PGconn *conn, char *errstr, size_t errstr_size)
{
    /* Name the server and database, never the conninfo: it may hold a password. */
    char msg[512];
    lt_strlcpy(msg, conn ? PQerrorMessage(conn) : "out of memory", sizeof(msg));
    lt_pg_first_line(msg);
    lt_err(errstr, errstr_size, "cannot connect to PostgreSQL (host=%s port=%s dbname=%s): %s",
           conn && PQhost(conn) ? PQhost(conn) : "?", conn && PQport(conn) ? PQport(conn) : "?",
           conn && PQdb(conn) ? PQdb(conn) : "?", msg);
}

/* Drive an asynchronous connection attempt to its end within timeout_ms. */
static void lt_pg_connect_finish(PGconn *conn, int timeout_ms)
{
    int64_t deadline = lt_monotonic_ms() + timeout_ms;
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    while (st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
        struct pollfd pfd = {PQsocket(conn), st == PGRES_POLLING_READING ? POLLIN : POLLOUT, 0};
        int64_t left = deadline - lt_monotonic_ms();
        int n = left > 0 ? poll(&pfd, 1, (int)left) : 0;
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* timed out: PQstatus stays short of CONNECTION_OK */
        st = PQconnectPoll(conn);
    }
}

PGconn *lt_pg_open(const char *conninfo, const char *application_name, lt_pg_rc_t *rc,
                   char *errstr, size_t errstr_size)
{
    const char *keys[] = {"dbname", "application_name", NULL};
    const char *vals[] = {conninfo, application_name, NULL};
    /* expand_dbname=1: the conninfo string supplies everything else. */
    PGconn *conn = PQconnectStartParams(keys, vals, 1);
    if (conn && PQstatus(conn) != CONNECTION_BAD) {
        /* Verbose, so a refusal carries its SQLSTATE and can be classified. */
        PQsetErrorVerbosity(conn, PQERRORS_VERBOSE);
        lt_pg_connect_finish(conn, 10000);
    }
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        lt_pg_connect_error(conn, errstr, errstr_size);
        *rc = conn && PQstatus(conn) != CONNECTION_BAD
                  ? LT_PG_RETRY /* timed out */
                  : lt_pg_classify_connection(conn ? PQerrorMessage(conn) : "");
        PQfinish(conn);
        return NULL;
    }
    PQsetErrorVerbosity(conn, PQERRORS_DEFAULT);
    PQsetNoticeProcessor(conn, lt_pg_ignore_notice, NULL);
    *rc = LT_PG_OK;
    return conn;
}

PGconn *lt_pg_connect(const char *conninfo, const char *application_name, char *errstr,
                      size_t errstr_size)
{
    lt_pg_rc_t rc;
    return lt_pg_open(conninfo, application_name, &rc, errstr, errstr_size);
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
    return lt_pg_classify_sqlstate(state);
}

lt_pg_rc_t lt_pg_report(PGconn *conn, const PGresult *res, const char *sql, char *errstr,
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
               rc == LT_PG_RETRY ? "unavailable" : rc == LT_PG_DATA ? "refused the data" : "error", state ? state : "none", first,
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

lt_pg_rc_t lt_pg_ensure(PGconn *conn, char *errstr, size_t errstr_size)
{
    if (PQstatus(conn) == CONNECTION_OK)
        return LT_PG_OK;
    PQsetErrorVerbosity(conn, PQERRORS_VERBOSE);
    PQreset(conn);
    lt_pg_rc_t rc = LT_PG_OK;
    if (PQstatus(conn) != CONNECTION_OK) {
        lt_pg_connect_error(conn, errstr, errstr_size);
        rc = lt_pg_classify_connection(PQerrorMessage(conn));
    }
    PQsetErrorVerbosity(conn, PQERRORS_DEFAULT);
    return rc;
}

int lt_pg_wait_ready(const char *conninfo, int max_ms)
{
    int64_t deadline = lt_monotonic_ms() + max_ms;
    while (!lt_stop_requested) {
        if (PQping(conninfo) == PQPING_OK)
            return 1;
        if (lt_monotonic_ms() >= deadline)
            return 0;
        lt_sleep_ms(250);
    }
    return 0;
}

void lt_pg_pause(const char *conninfo, int *backoff_ms)
{
    /* A server that answers but fails us (too many connections, a
     * serialization conflict) gets a growing pause; an absent one is
     * watched, so work resumes as soon as it is back. */
    if (PQping(conninfo) == PQPING_OK)
        lt_sleep_ms(lt_backoff_next(backoff_ms, 5000));
    else
        lt_pg_wait_ready(conninfo, 30000);
}

const char *lt_pg_rc_name(lt_pg_rc_t rc)
{
    switch (rc) {
    case LT_PG_OK:
        return "ok";
    case LT_PG_RETRY:
        return "unavailable";
    case LT_PG_DATA:
        return "data refused";
    default:
        return "error";
    }
}
