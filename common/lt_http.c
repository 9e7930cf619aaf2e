#include "lt_http.h"

#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <microhttpd.h>

#include "lt_util.h"

#define LT_HTTP_MAX_ROUTES 16
#define LT_HTTP_MAX_READY 8

typedef struct lt_http_route {
    char *path;
    lt_http_handler_t fn;
    void *opaque;
} lt_http_route_t;

struct lt_http {
    char program[32];
    lt_http_route_t routes[LT_HTTP_MAX_ROUTES];
    size_t n_routes;
    lt_metrics_t *metrics;
    const lt_series_t *loop_age;
    double stall_s;
    struct {
        char name[32];
        const lt_series_t *gauge;
    } ready[LT_HTTP_MAX_READY];
    size_t n_ready;
    struct MHD_Daemon *mhd;
    int fd;
    char address[128];
};

struct lt_http_request {
    struct MHD_Connection *conn;
    const char *path;
};

lt_http_t *lt_http_new(const char *program)
{
    lt_http_t *http = calloc(1, sizeof(*http));
    if (!http)
        abort();
    lt_strlcpy(http->program, program, sizeof(http->program));
    http->fd = -1;
    return http;
}

void lt_http_destroy(lt_http_t *http)
{
    if (!http)
        return;
    if (http->mhd)
        MHD_stop_daemon(http->mhd);
    if (http->fd >= 0)
        close(http->fd);
    for (size_t i = 0; i < http->n_routes; i++)
        free(http->routes[i].path);
    free(http);
}

int lt_http_route(lt_http_t *http, const char *path, lt_http_handler_t fn, void *opaque)
{
    if (http->mhd || http->n_routes == LT_HTTP_MAX_ROUTES || path[0] != '/')
        return -1;
    for (size_t i = 0; i < http->n_routes; i++)
        if (strcmp(http->routes[i].path, path) == 0)
            return -1;
    lt_http_route_t *r = &http->routes[http->n_routes];
    if (!(r->path = strdup(path)))
        abort();
    r->fn = fn;
    r->opaque = opaque;
    http->n_routes++;
    return 0;
}

const char *lt_http_request_path(const lt_http_request_t *req)
{
    return req->path;
}

const char *lt_http_request_arg(const lt_http_request_t *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *lt_http_address(const lt_http_t *http)
{
    return http->address;
}

/* ------------------------------------------------------- built-in routes */

static void lt_http_metrics(const lt_http_request_t *req, lt_http_response_t *resp, void *opaque)
{
    (void)req;
    resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
    lt_metrics_render(opaque, &resp->body);
}

int lt_http_serve_metrics(lt_http_t *http, lt_metrics_t *metrics)
{
    http->metrics = metrics;
    return lt_http_route(http, "/metrics", lt_http_metrics, metrics);
}

static void lt_http_healthz(const lt_http_request_t *req, lt_http_response_t *resp, void *opaque)
{
    (void)req;
    const lt_http_t *http = opaque;
    double last = lt_series_value(http->loop_age);
    double age = (double)lt_now_us() / 1e6 - last;
    if (isnan(last) || age > http->stall_s) {
        resp->status = 503;
        if (isnan(last))
            lt_buf_printf(&resp->body, "starting: the %s loop has not run yet\n", http->program);
        else
            lt_buf_printf(&resp->body, "stalled: the %s loop last ran %.1f s ago (limit %.0f s)\n",
                          http->program, age, http->stall_s);
        return;
    }
    lt_buf_printf(&resp->body, "ok: the %s loop ran %.1f s ago\n", http->program, age);
}

int lt_http_serve_health(lt_http_t *http, const lt_series_t *loop_age, double stall_s)
{
    http->loop_age = loop_age;
    http->stall_s = stall_s;
    return lt_http_route(http, "/healthz", lt_http_healthz, http);
}

static void lt_http_readyz(const lt_http_request_t *req, lt_http_response_t *resp, void *opaque)
{
    (void)req;
    const lt_http_t *http = opaque;
    int ready = 1;
    for (size_t i = 0; i < http->n_ready; i++) {
        double v = lt_series_value(http->ready[i].gauge);
        int ok = !isnan(v) && v > 0;
        ready &= ok;
        lt_buf_printf(&resp->body, "%s %s\n", http->ready[i].name, ok ? "ok" : "no");
    }
    resp->status = ready ? 200 : 503;
}

int lt_http_ready_when(lt_http_t *http, const char *name, const lt_series_t *gauge)
{
    if (http->mhd || http->n_ready == LT_HTTP_MAX_READY)
        return -1;
    if (!http->n_ready && lt_http_route(http, "/readyz", lt_http_readyz, http) != 0)
        return -1;
    lt_strlcpy(http->ready[http->n_ready].name, name, sizeof(http->ready[0].name));
    http->ready[http->n_ready++].gauge = gauge;
    return 0;
}

/* ----------------------------------------------------------------- server */

static enum MHD_Result lt_http_reply(struct MHD_Connection *conn, lt_http_response_t *r)
{
    size_t len = r->body.len;
    char *data = r->body.data; /* handed to libmicrohttpd, which frees it */
    r->body = (lt_buf_t){0};
    struct MHD_Response *mr =
        MHD_create_response_from_buffer(len, data ? data : "", data ? MHD_RESPMEM_MUST_FREE
                                                                    : MHD_RESPMEM_PERSISTENT);
    if (!mr) {
        free(data);
        return MHD_NO;
    }
    MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE,
                            r->content_type ? r->content_type : "text/plain; charset=utf-8");
    MHD_add_response_header(mr, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (r->status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(mr, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result ret = MHD_queue_response(conn, (unsigned)r->status, mr);
    MHD_destroy_response(mr);
    return ret;
}

static enum MHD_Result lt_http_access(void *cls, struct MHD_Connection *conn, const char *url,
                                      const char *method, const char *version,
                                      const char *upload_data, size_t *upload_data_size,
                                      void **con_cls)
{
    (void)version;
    (void)upload_data;
    (void)con_cls;
    lt_http_t *http = cls;
    /* Answered at the first call, which brings the headers: no route reads
     * a request body, and libmicrohttpd discards one. */
    *upload_data_size = 0;
    lt_http_response_t resp = {.status = 200};
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0) {
        resp.status = MHD_HTTP_METHOD_NOT_ALLOWED;
        lt_buf_puts(&resp.body, "only GET and HEAD\n");
        return lt_http_reply(conn, &resp);
    }
    for (size_t i = 0; i < http->n_routes; i++)
        if (strcmp(http->routes[i].path, url) == 0) {
            lt_http_request_t req = {conn, url};
            http->routes[i].fn(&req, &resp, http->routes[i].opaque);
            return lt_http_reply(conn, &resp);
        }
    resp.status = MHD_HTTP_NOT_FOUND;
    lt_buf_printf(&resp.body, "lienthong-%s: no such path; try", http->program);
    for (size_t i = 0; i < http->n_routes; i++)
        lt_buf_printf(&resp.body, " %s", http->routes[i].path);
    lt_buf_puts(&resp.body, "\n");
    return lt_http_reply(conn, &resp);
}

/* "HOST:PORT" or "[V6]:PORT" into host and port. */
static int lt_http_split(const char *addr, char *host, size_t host_size, char *port,
                         size_t port_size)
{
    const char *colon;
    if (addr[0] == '[') {
        const char *end = strchr(addr, ']');
        if (!end || end[1] != ':' || (size_t)(end - addr) > host_size)
            return -1;
        memcpy(host, addr + 1, (size_t)(end - addr - 1));
        host[end - addr - 1] = '\0';
        colon = end + 1;
    } else {
        colon = strrchr(addr, ':');
        if (!colon || (size_t)(colon - addr) >= host_size || memchr(addr, ':', (size_t)(colon - addr)))
            return -1;
        memcpy(host, addr, (size_t)(colon - addr));
        host[colon - addr] = '\0';
    }
    const char *p = colon + 1;
    if (!*p || strlen(p) >= port_size || strspn(p, "0123456789") != strlen(p) || atol(p) > 65535)
        return -1;
    strcpy(port, p);
    return 0;
}

/* Our own listening socket, so a port in use is said plainly. */
static int lt_http_listen(lt_http_t *http, const char *addr, int *ipv6, char *errstr,
                          size_t errstr_size)
{
    char host[96], port[8];
    if (lt_http_split(addr, host, sizeof(host), port, sizeof(port)) != 0)
        return lt_err(errstr, errstr_size,
                      "http_listen \"%s\": expected HOST:PORT, e.g. 127.0.0.1:9464 or [::1]:9464",
                      addr);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *ai;
    int gai = getaddrinfo(host[0] ? host : NULL, port, &hints, &ai);
    if (gai != 0)
        return lt_err(errstr, errstr_size, "http_listen \"%s\": %s", addr, gai_strerror(gai));
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    int rc = fd < 0 ? -1 : setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (rc == 0)
        rc = bind(fd, ai->ai_addr, ai->ai_addrlen);
    if (rc == 0)
        rc = listen(fd, 16);
    *ipv6 = ai->ai_family == AF_INET6;
    freeaddrinfo(ai);
    if (rc != 0) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        return lt_err(errstr, errstr_size, "http_listen \"%s\": cannot listen: %s%s", addr,
                      strerror(err),
                      err == EADDRINUSE ? " (another program, or another lienthong daemon,"
                                          " has this port: give each its own http_listen)"
                                        : "");
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    char h[64] = "?", p[8] = "?";
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        getnameinfo((struct sockaddr *)&ss, sl, h, sizeof(h), p, sizeof(p),
                    NI_NUMERICHOST | NI_NUMERICSERV);
    snprintf(http->address, sizeof(http->address), *ipv6 ? "[%s]:%s" : "%s:%s", h, p);
    http->fd = fd;
    return 0;
}

int lt_http_start(lt_http_t *http, const char *addr, char *errstr, size_t errstr_size)
{
    int ipv6 = 0;
    if (http->mhd)
        return lt_err(errstr, errstr_size, "http: started already");
    if (lt_http_listen(http, addr, &ipv6, errstr, errstr_size) != 0)
        return -1;
    /* The server's thread inherits a mask blocking every signal: SIGTERM and
     * SIGHUP are the daemon thread's to receive. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | (ipv6 ? MHD_USE_IPv6 : 0);
    http->mhd = MHD_start_daemon(flags, 0, NULL, NULL, lt_http_access, http,
                                 MHD_OPTION_LISTEN_SOCKET, http->fd,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned)32,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
    int err = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (!http->mhd) {
        close(http->fd);
        http->fd = -1;
        return lt_err(errstr, errstr_size, "http_listen \"%s\": cannot start the HTTP server: %s",
                      addr, strerror(err));
    }
    http->fd = -1; /* libmicrohttpd closes it when it stops */
    return 0;
}
