/* lt-metric-names — every metric family lienthong-agent and lienthong-sink
 * export, as HELP and TYPE lines of the Prometheus text format, from the
 * tables the daemons register (no Kafka, no database): the list the alert
 * rules, the dashboard and docs/OPERATIONS.md are checked against.
 *
 *     lt-metric-names [agent|sink]      (both when no argument) */
#include <stdio.h>
#include <string.h>

#include "lt_agent_metrics.h"
#include "lt_buf.h"
#include "lt_sink_metrics.h"

int main(int argc, char **argv)
{
    const char *which = argc > 1 ? argv[1] : "";
    if (argc > 2 || (*which && strcmp(which, "agent") != 0 && strcmp(which, "sink") != 0)) {
        fprintf(stderr, "usage: lt-metric-names [agent|sink]\n");
        return 2;
    }
    lt_buf_t out = {0};
    if (!*which || strcmp(which, "agent") == 0)
        lt_agent_metrics_describe(&out);
    if (!*which || strcmp(which, "sink") == 0)
        lt_sink_metrics_describe(&out);
    const char *text = lt_buf_cstr(&out);
    int rc = strstr(text, "# ERROR") ? 1 : 0;
    fputs(text, stdout);
    lt_buf_free(&out);
    return rc;
}
