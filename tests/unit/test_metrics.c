/* lt_metrics, lt_http and lt_kafka_stats: the exposition text (names,
 * labels, escaping, histogram buckets, ages, unset gauges), the checks on a
 * metric table, updates from several threads while another renders, the
 * HTTP port answering real sockets (routes, 404, 405, readiness, a port in
 * use), and librdkafka's statistics read from a sample document. */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lt_http.h"
#include "lt_kafka_stats.h"
#include "lt_metrics.h"
#include "lt_test.h"
#include "lt_util.h"

static const double buckets[] = {0.1, 1, 10};

static const lt_metric_def_t defs[] = {
    {"t_events_total", LT_METRIC_COUNTER, NULL, "events \\ counted", NULL, 0},
    {"t_depth", LT_METRIC_GAUGE, NULL, "a gauge", NULL, 0},
    {"t_commune_lag", LT_METRIC_GAUGE, "commune", "per commune", NULL, 0},
    {"t_round_seconds", LT_METRIC_HISTOGRAM, NULL, "rounds", buckets, 3},
    {"t_seen_age_seconds", LT_METRIC_AGE, "commune", "since", NULL, 0},
};
#define NDEFS (sizeof(defs) / sizeof(*defs))

static char *render(lt_metrics_t *m)
{
    lt_buf_t b = {0};
    lt_metrics_render(m, &b);
    lt_buf_cstr(&b);
    return b.data;
}

static void test_render(void)
{
    lt_metrics_t *m = lt_metrics_new();
    lt_metric_t *f[NDEFS];
    char errstr[256];
    ASSERT_EQ_INT(0, lt_metrics_register(m, defs, NDEFS, f, NULL, errstr, sizeof(errstr)));
    char *text = render(m);
    /* Every family is listed; the counter and histogram at zero, the unset
     * gauge not at all. */
    ASSERT_CONTAINS(text, "# HELP t_events_total events \\\\ counted\n"
                          "# TYPE t_events_total counter\nt_events_total 0\n");
    ASSERT_CONTAINS(text, "# TYPE t_depth gauge\n# HELP t_commune_lag");
    ASSERT_CONTAINS(text, "t_round_seconds_bucket{le=\"+Inf\"} 0\n");
    ASSERT_CONTAINS(text, "# TYPE t_seen_age_seconds gauge\n");
    free(text);

    lt_counter_add(lt_metric_with(f[0], NULL), 3);
    lt_counter_add(lt_metric_with(f[0], NULL), 2);
    lt_gauge_set(lt_metric_with(f[1], NULL), 0.25);
    lt_gauge_set(lt_metric_with(f[2], "00004"), 7);
    lt_gauge_set(lt_metric_with(f[2], "a\"b\\c\nd"), -1);
    lt_gauge_add(lt_metric_with(f[2], "00004"), 1);
    lt_series_t *h = lt_metric_with(f[3], NULL);
    lt_histogram_observe(h, 0.05);
    lt_histogram_observe(h, 0.1); /* le="0.1" holds 0.1 */
    lt_histogram_observe(h, 5);
    lt_histogram_observe(h, 50);
    lt_age_set(lt_metric_with(f[4], "00004"), (double)lt_now_us() / 1e6 - 100);
    text = render(m);
    ASSERT_CONTAINS(text, "\nt_events_total 5\n");
    ASSERT_CONTAINS(text, "\nt_depth 0.25\n");
    ASSERT_CONTAINS(text, "\nt_commune_lag{commune=\"00004\"} 8\n");
    ASSERT_CONTAINS(text, "\nt_commune_lag{commune=\"a\\\"b\\\\c\\nd\"} -1\n");
    ASSERT_CONTAINS(text, "t_round_seconds_bucket{le=\"0.1\"} 2\n"
                          "t_round_seconds_bucket{le=\"1\"} 2\n"
                          "t_round_seconds_bucket{le=\"10\"} 3\n"
                          "t_round_seconds_bucket{le=\"+Inf\"} 4\n"
                          "t_round_seconds_sum 55.15\n"
                          "t_round_seconds_count 4\n");
    const char *age = strstr(text, "t_seen_age_seconds{commune=\"00004\"} ");
    ASSERT_TRUE(age != NULL);
    if (age) {
        double v = atof(age + strlen("t_seen_age_seconds{commune=\"00004\"} "));
        ASSERT_TRUE(v >= 100 && v < 110);
    }
    free(text);

    /* The same label value is the same series; a cleared gauge disappears. */
    ASSERT_TRUE(lt_metric_with(f[2], "00004") == lt_metric_with(f[2], "00004"));
    ASSERT_TRUE(lt_series_value(lt_metric_with(f[2], "00004")) == 8);
    lt_series_clear(lt_metric_with(f[2], "00004"));
    ASSERT_TRUE(isnan(lt_series_value(lt_metric_with(f[2], "00004"))));
    text = render(m);
    ASSERT_TRUE(strstr(text, "commune=\"00004\"} 8") == NULL);
    free(text);
    lt_metrics_destroy(m);
}

static void test_register_checks(void)
{
    static const struct {
        lt_metric_def_t def;
        const char *error;
    } bad[] = {
        {{"t_events", LT_METRIC_COUNTER, NULL, "x", NULL, 0}, "end in _total"},
        {{"t_depth_total", LT_METRIC_GAUGE, NULL, "x", NULL, 0}, "end in _total"},
        {{"t-depth", LT_METRIC_GAUGE, NULL, "x", NULL, 0}, "is not"},
        {{"9depth", LT_METRIC_GAUGE, NULL, "x", NULL, 0}, "is not"},
        {{"t_depth", LT_METRIC_GAUGE, "__name", "x", NULL, 0}, "label name"},
        {{"t_h_seconds", LT_METRIC_HISTOGRAM, "le", "x", buckets, 3}, "label name"},
        {{"t_h_seconds", LT_METRIC_HISTOGRAM, NULL, "x", NULL, 0}, "needs buckets"},
        {{"t_seen_seconds", LT_METRIC_AGE, NULL, "x", NULL, 0}, "_age_seconds"},
        {{"t_depth", LT_METRIC_GAUGE, NULL, "two\nlines", NULL, 0}, "one line"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        lt_metrics_t *m = lt_metrics_new();
        char errstr[256] = "";
        ASSERT_EQ_INT(-1,
                      lt_metrics_register(m, &bad[i].def, 1, NULL, NULL, errstr, sizeof(errstr)));
        ASSERT_CONTAINS(errstr, bad[i].error);
        lt_metrics_destroy(m);
    }
    lt_metrics_t *m = lt_metrics_new();
    char errstr[256] = "";
    ASSERT_EQ_INT(0, lt_metrics_register(m, defs, 1, NULL, NULL, errstr, sizeof(errstr)));
    ASSERT_EQ_INT(-1, lt_metrics_register(m, defs, 1, NULL, NULL, errstr, sizeof(errstr)));
    ASSERT_CONTAINS(errstr, "registered twice");
    lt_metrics_destroy(m);
}

static void test_overflow(void)
{
    lt_metrics_t *m = lt_metrics_new();
    lt_metric_t *f[NDEFS];
    char errstr[256];
    ASSERT_EQ_INT(0, lt_metrics_register(m, defs, NDEFS, f, NULL, errstr, sizeof(errstr)));
    char code[16];
    for (int i = 0; i < LT_METRICS_MAX_SERIES + 10; i++) {
        snprintf(code, sizeof(code), "%05d", i);
        lt_gauge_set(lt_metric_with(f[2], code), i);
    }
    /* Beyond the cap, values go to a series that is never rendered. */
    ASSERT_TRUE(lt_metric_with(f[2], "99999") == lt_metric_with(f[2], "99998"));
    char *text = render(m);
    ASSERT_CONTAINS(text, "t_commune_lag{commune=\"08191\"} 8191\n");
    ASSERT_TRUE(strstr(text, "commune=\"08192\"") == NULL);
    ASSERT_TRUE(strstr(text, "overflow") == NULL);
    free(text);
    lt_metrics_destroy(m);
}

/* --------------------------------------------------------------- threads */

static lt_series_t *thread_counter, *thread_hist;
static lt_metric_t *thread_family;

static void *thread_update(void *arg)
{
    char code[16];
    for (int i = 0; i < 100000; i++) {
        lt_counter_add(thread_counter, 1);
        lt_histogram_observe(thread_hist, 0.5);
        if (i % 1000 == 0) {
            snprintf(code, sizeof(code), "%05d", (int)(intptr_t)arg * 1000 + i / 1000);
            lt_gauge_set(lt_metric_with(thread_family, code), i);
        }
    }
    return NULL;
}

static void test_threads(void)
{
    lt_metrics_t *m = lt_metrics_new();
    lt_metric_t *f[NDEFS];
    char errstr[256];
    ASSERT_EQ_INT(0, lt_metrics_register(m, defs, NDEFS, f, NULL, errstr, sizeof(errstr)));
    thread_counter = lt_metric_with(f[0], NULL);
    thread_hist = lt_metric_with(f[3], NULL);
    thread_family = f[2];
    pthread_t t[4];
    for (intptr_t i = 0; i < 4; i++)
        pthread_create(&t[i], NULL, thread_update, (void *)i);
    for (int i = 0; i < 50; i++) /* render while they update */
        free(render(m));
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    char *text = render(m);
    ASSERT_CONTAINS(text, "\nt_events_total 400000\n");
    ASSERT_CONTAINS(text, "t_round_seconds_count 400000\n");
    ASSERT_CONTAINS(text, "t_round_seconds_sum 200000\n");
    ASSERT_CONTAINS(text, "t_commune_lag{commune=\"03099\"} 99000\n");
    free(text);
    lt_metrics_destroy(m);
}

/* ------------------------------------------------------------------ http */

/* GET path from 127.0.0.1:port; the whole response. */
static char *http_get(int port, const char *method, const char *path)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(fd);
        return strdup("connect failed");
    }
    char req[256];
    int n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                     method, path);
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return strdup("write failed");
    }
    lt_buf_t b = {0};
    char chunk[4096];
    ssize_t got;
    while ((got = read(fd, chunk, sizeof(chunk))) > 0)
        lt_buf_append(&b, chunk, (size_t)got);
    close(fd);
    lt_buf_cstr(&b);
    return b.data;
}

/* The response to method path must hold status and text. */
static void expect_get(int port, const char *method, const char *path, const char *status,
                       const char *text)
{
    char *r = http_get(port, method, path);
    ASSERT_CONTAINS(r, status);
    ASSERT_CONTAINS(r, text);
    free(r);
}

static void hello(const lt_http_request_t *req, lt_http_response_t *resp, void *opaque)
{
    const char *who = lt_http_request_arg(req, "who");
    resp->content_type = "text/html; charset=utf-8";
    lt_buf_printf(&resp->body, "<p>%s %s %s</p>", (const char *)opaque,
                  lt_http_request_path(req), who ? who : "-");
}

static void test_http(void)
{
    lt_metrics_t *m = lt_metrics_new();
    lt_metric_t *f[NDEFS];
    char errstr[256];
    ASSERT_EQ_INT(0, lt_metrics_register(m, defs, NDEFS, f, NULL, errstr, sizeof(errstr)));
    lt_series_t *up = lt_metric_with(f[1], NULL), *age = lt_metric_with(f[4], "loop");
    lt_http_t *http = lt_http_new("test");
    ASSERT_EQ_INT(0, lt_http_serve_metrics(http, m));
    ASSERT_EQ_INT(0, lt_http_serve_health(http, age, 60));
    ASSERT_EQ_INT(0, lt_http_ready_when(http, "database", up));
    ASSERT_EQ_INT(0, lt_http_route(http, "/", hello, "hello"));
    ASSERT_EQ_INT(-1, lt_http_route(http, "/", hello, "again"));
    ASSERT_EQ_INT(0, lt_http_start(http, "127.0.0.1:0", errstr, sizeof(errstr)));
    ASSERT_EQ_INT(-1, lt_http_route(http, "/late", hello, "late"));
    const char *colon = strrchr(lt_http_address(http), ':');
    int port = colon ? atoi(colon + 1) : 0;
    ASSERT_TRUE(port > 0);

    lt_counter_add(lt_metric_with(f[0], NULL), 42);
    expect_get(port, "GET", "/metrics", "HTTP/1.1 200",
               "Content-Type: text/plain; version=0.0.4; charset=utf-8");
    expect_get(port, "GET", "/metrics", "HTTP/1.1 200", "\nt_events_total 42\n");
    expect_get(port, "GET", "/?who=b%C3%A1c", "HTTP/1.1 200", "<p>hello / bác</p>");
    expect_get(port, "GET", "/healthz", "HTTP/1.1 503", "has not run yet");
    lt_age_set(age, (double)lt_now_us() / 1e6);
    expect_get(port, "GET", "/healthz", "HTTP/1.1 200", "ok: the test loop ran");
    lt_age_set(age, (double)lt_now_us() / 1e6 - 61);
    expect_get(port, "GET", "/healthz", "HTTP/1.1 503", "stalled");
    expect_get(port, "GET", "/readyz", "HTTP/1.1 503", "database no");
    lt_gauge_set(up, 1);
    expect_get(port, "GET", "/readyz", "HTTP/1.1 200", "database ok");
    expect_get(port, "GET", "/nope", "HTTP/1.1 404", "/metrics");
    expect_get(port, "POST", "/metrics", "HTTP/1.1 405", "Allow: GET, HEAD");
    char *r = http_get(port, "HEAD", "/metrics");
    ASSERT_CONTAINS(r, "HTTP/1.1 200");
    ASSERT_TRUE(strstr(r, "t_events_total") == NULL);
    free(r);

    /* The same port again: refused, saying why. */
    char addr[64];
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", port);
    lt_http_t *again = lt_http_new("test");
    ASSERT_EQ_INT(-1, lt_http_start(again, addr, errstr, sizeof(errstr)));
    ASSERT_CONTAINS(errstr, "Address already in use");
    lt_http_destroy(again);
    static const char *const bad[] = {"9464", "127.0.0.1", "127.0.0.1:", "127.0.0.1:99999",
                                      "::1:9464", "[::1]9464", "127.0.0.1:94x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        again = lt_http_new("test");
        ASSERT_EQ_INT(-1, lt_http_start(again, bad[i], errstr, sizeof(errstr)));
        ASSERT_CONTAINS(errstr, "http_listen");
        lt_http_destroy(again);
    }
    lt_http_destroy(http);
    r = http_get(port, "GET", "/metrics");
    ASSERT_EQ_STR("connect failed", r); /* stopped, port closed */
    free(r);
    lt_metrics_destroy(m);
}

/* ---------------------------------------------------------- kafka stats */

static void test_kafka_stats(void)
{
    char path[512], errstr[256];
    const char *dir = getenv("LT_TEST_DATA");
    snprintf(path, sizeof(path), "%s/kafka_stats/stats.json", dir ? dir : "tests/data");
    size_t len;
    char *json = lt_read_file(path, &len, errstr, sizeof(errstr));
    ASSERT_TRUE(json != NULL);
    if (!json)
        return;
    lt_kafka_stats_t ks;
    ASSERT_EQ_INT(0, lt_kafka_stats_parse(json, len, &ks, errstr, sizeof(errstr)));
    ASSERT_EQ_STR("rdkafka#producer-1", ks.name);
    ASSERT_EQ_INT(120, ks.txmsgs);
    ASSERT_EQ_INT(654321, ks.txmsg_bytes);
    ASSERT_EQ_INT(3, ks.msg_cnt);
    ASSERT_EQ_INT(4096, ks.msg_size);
    ASSERT_EQ_INT(2, ks.brokers_up); /* known by id; not the internal one nor a bootstrap */
    ASSERT_EQ_INT(5, ks.outbuf_msgs);  /* 2 + 3 */
    ASSERT_EQ_INT(1, ks.waitresp_msgs);
    ASSERT_EQ_INT(7, ks.tx_errors);
    ASSERT_EQ_INT(4, ks.tx_retries);
    ASSERT_EQ_INT(1, ks.req_timeouts);
    ASSERT_TRUE(fabs(ks.rtt_avg_s - 0.0015) < 1e-9); /* (1000 + 2000) us / 2 */
    ASSERT_EQ_INT(1, ks.has_cgrp);
    ASSERT_EQ_STR("up", ks.cgrp_state);
    ASSERT_EQ_STR("steady", ks.cgrp_join_state);
    ASSERT_EQ_INT(12, ks.assignment_size);
    free(json);
    ASSERT_EQ_INT(-1, lt_kafka_stats_parse("{\"x\":1}", 7, &ks, errstr, sizeof(errstr)));
    ASSERT_EQ_INT(-1, lt_kafka_stats_parse("not json", 8, &ks, errstr, sizeof(errstr)));
}

int main(void)
{
    RUN_TEST(test_render);
    RUN_TEST(test_register_checks);
    RUN_TEST(test_overflow);
    RUN_TEST(test_threads);
    RUN_TEST(test_http);
    RUN_TEST(test_kafka_stats);
    return LT_TEST_EXIT();
}
