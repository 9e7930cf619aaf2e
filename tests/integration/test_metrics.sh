#!/usr/bin/env bash
# shellcheck disable=SC2119 # t_start_sink: its arguments are optional
# The HTTP port of both daemons (agent.http_listen, sink.http_listen):
# /metrics passes `promtool check metrics` and its counters say what
# happened — events generated = produced = acknowledged = applied, per
# commune too, lag 0 and nothing missing once drained, delivery latencies
# observed, librdkafka figures present —; every metric the alert rules and
# the dashboard use is in the real scrapes; /healthz answers 200 while the
# loops run, also while the database is away; /readyz answers 503 while
# PostgreSQL is stopped and 200 again once it is back; a port in use stops
# a daemon at start with exit status 2 and a clear message.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v curl >/dev/null || t_fail "curl not found (deploy/install-deps.sh installs it)"
command -v promtool >/dev/null || t_fail "promtool not found (deploy/install-deps.sh installs package prometheus)"

t_setup 68 2
c1=${T_COMMUNES[0]} c2=${T_COMMUNES[1]}

port_sink=$(lt_free_port 29464 7) || t_fail "no free port"
port_a1=$(lt_free_port $((port_sink + 1)) 7) || t_fail "no free port"
port_a2=$(lt_free_port $((port_a1 + 1)) 7) || t_fail "no free port"
url_sink="http://127.0.0.1:$port_sink" url_a1="http://127.0.0.1:$port_a1" url_a2="http://127.0.0.1:$port_a2"

# http_code URL - the status code (000 when nothing answers).
http_code() { curl -s -o /dev/null -m 5 -w '%{http_code}' "$1" || true; }
code_is() { [ "$(http_code "$1")" = "$2" ]; } # URL CODE

# scrape URL NAME - $T_DIR/NAME.prom, checked by promtool.
scrape() {
    curl -sf -m 5 "$1/metrics" >"$T_DIR/$2.prom" || t_fail "GET $1/metrics failed"
    local out
    out=$(promtool check metrics <"$T_DIR/$2.prom" 2>&1) ||
        t_fail "promtool check metrics on $2: $out (see $T_DIR/$2.prom)"
}

# value FILE SERIES - the value of one series ('name' or 'name{labels}'),
# empty when absent.
value() { awk -v s="$2" '$1 == s { print $2; exit }' "$1"; }

# metric_is URL SERIES VALUE - for wait_until: one scrape says so.
metric_is() {
    local v
    v=$(curl -sf -m 5 "$1/metrics" | awk -v s="$2" '$1 == s { print $2; exit }') || return 1
    [ "$v" = "$3" ]
}

t_start_sink -o "sink.http_listen=127.0.0.1:$port_sink"
t_start_agent "$c1" -o "agent.http_listen=127.0.0.1:$port_a1" -o agent.digest_every_events=100
t_start_agent "$c2" -o "agent.http_listen=127.0.0.1:$port_a2" -o agent.digest_every_events=100

# ---- 1. probes once started
wait_until "code_is $url_sink/healthz 200" 20 "sink /healthz 200"
wait_until "code_is $url_a1/healthz 200" 20 "agent $c1 /healthz 200"
t_wait_sink_ready 2
wait_until "code_is $url_sink/readyz 200" 30 "sink /readyz 200 (database, kafka, group)"
wait_until "code_is $url_a1/readyz 200" 30 "agent $c1 /readyz 200 (database, kafka)"
wait_until "code_is $url_a2/readyz 200" 30 "agent $c2 /readyz 200"
t_assert_eq 404 "$(http_code "$url_sink/nope")" "sink: unknown path"
t_assert_eq 405 "$(curl -s -o /dev/null -m 5 -w '%{http_code}' -X POST "$url_sink/metrics")" \
    "sink: POST /metrics"

# ---- 2. counters say what happened
t_gen "$c1" 600
t_gen "$c2" 400 -s "$((T_SEED % 100000 + 2))"
t_wait_drained 120 "$c1" "$c2"
n1=$(t_sql "$(t_cdb "$c1")" "SELECT max(seq) FROM lt.outbox")
n2=$(t_sql "$(t_cdb "$c2")" "SELECT max(seq) FROM lt.outbox")
t_log "numbered events: $c1 $n1, $c2 $n2"
# The figures refresh every 5 s (digests and quarantine every 30 s).
wait_until "metric_is $url_sink 'lienthong_sink_commune_lag_records{commune=\"$c1\"}' 0" 30 \
    "sink: lag of $c1 is 0 records"
wait_until "metric_is $url_sink 'lienthong_sink_commune_lag_records{commune=\"$c2\"}' 0" 30 \
    "sink: lag of $c2 is 0 records"
wait_until "metric_is $url_sink 'lienthong_sink_commune_digest_diverged{commune=\"$c1\"}' 0" 45 \
    "sink: digest of $c1 compared, equal"
wait_until "metric_is $url_a1 lienthong_agent_outbox_backlog_rows 0" 30 "agent $c1: backlog 0"
wait_until "metric_is $url_a2 lienthong_agent_outbox_backlog_rows 0" 30 "agent $c2: backlog 0"
scrape "$url_sink" sink
scrape "$url_a1" "agent_$c1"
scrape "$url_a2" "agent_$c2"
S="$T_DIR/sink.prom" A1="$T_DIR/agent_$c1.prom" A2="$T_DIR/agent_$c2.prom"

t_assert_eq "$((n1 + n2))" "$(value "$S" lienthong_sink_events_applied_total)" "sink: events applied"
t_assert_eq "$n1" "$(value "$S" "lienthong_sink_commune_events_applied_total{commune=\"$c1\"}")" \
    "sink: events applied of $c1"
t_assert_eq "$n2" "$(value "$S" "lienthong_sink_commune_events_applied_total{commune=\"$c2\"}")" \
    "sink: events applied of $c2"
t_assert_eq "$n1" "$(value "$S" "lienthong_sink_commune_last_seq{commune=\"$c1\"}")" "sink: last_seq of $c1"
t_assert_eq "$n2" "$(value "$S" "lienthong_sink_commune_last_seq{commune=\"$c2\"}")" "sink: last_seq of $c2"
t_assert_eq 0 "$(value "$S" "lienthong_sink_commune_missing_events{commune=\"$c1\"}")" "sink: missing of $c1"
t_assert_eq 0 "$(value "$S" "lienthong_sink_commune_quarantined_messages{commune=\"$c1\"}")" \
    "sink: quarantined of $c1"
t_assert_eq 0 "$(value "$S" lienthong_sink_messages_quarantined_total)" "sink: quarantined"
t_assert_eq 0 "$(value "$S" lienthong_sink_gaps_opened_total)" "sink: gaps opened"
t_assert_eq 1 "$(value "$S" lienthong_sink_database_up)" "sink: database up"
t_assert_eq 2 "$(value "$S" lienthong_sink_kafka_assigned_partitions)" "sink: partitions assigned"
t_assert_eq 1 "$(value "$S" "lienthong_sink_info{province=\"$T_PROVINCE\"}")" "sink: info"
batches=$(t_sql "$T_PDB" "SELECT count(*) FROM lt.batch_log")
t_assert_eq "$batches" "$(value "$S" lienthong_sink_batches_applied_total)" "sink: batches applied (lt.batch_log rows)"
compared=$(value "$S" lienthong_sink_digests_compared_total)
t_assert_cmp "${compared%.*}" -ge 1 "sink: digests compared"
rounds=$(value "$S" lienthong_sink_rounds_total)
t_assert_eq "$rounds" "$(value "$S" lienthong_sink_round_duration_seconds_count)" \
    "sink: one round time per round"
t_assert_eq "$rounds" "$(value "$S" lienthong_sink_transaction_duration_seconds_count)" \
    "sink: one transaction time per round"
age=$(value "$S" "lienthong_sink_commune_applied_event_age_seconds{commune=\"$c1\"}")
[ -n "$age" ] && awk -v a="$age" 'BEGIN { exit !(a > -5 && a < 600) }' ||
    t_fail "sink: applied event age of $c1 is [$age], expected a few seconds"
t_log "ok: sink: applied event age of $c1 = $age s"
rx=$(value "$S" lienthong_sink_kafka_rx_messages_total)
t_assert_cmp "${rx%.*}" -ge 1 "sink: librdkafka rx messages"

for a in "$c1:$n1:$A1" "$c2:$n2:$A2"; do
    IFS=: read -r c n f <<<"$a"
    t_assert_eq "$n" "$(value "$f" lienthong_agent_events_acked_total)" "agent $c: events acked"
    t_assert_eq "$n" "$(value "$f" lienthong_agent_events_produced_total)" "agent $c: events produced"
    t_assert_eq "$n" "$(value "$f" lienthong_agent_rows_claimed_total)" "agent $c: rows claimed"
    t_assert_eq "$n" "$(value "$f" lienthong_agent_acked_seq)" "agent $c: acked_seq"
    t_assert_eq "$((n + 1))" "$(value "$f" lienthong_agent_next_seq)" "agent $c: next_seq"
    t_assert_eq 0 "$(value "$f" lienthong_agent_outbox_backlog_rows)" "agent $c: backlog"
    t_assert_eq "" "$(value "$f" lienthong_agent_outbox_oldest_unsent_age_seconds)" \
        "agent $c: oldest unsent age (absent: none waits)"
    t_assert_eq 0 "$(value "$f" lienthong_agent_delivery_errors_total)" "agent $c: delivery errors"
    t_assert_eq 0 "$(value "$f" lienthong_agent_inflight_batches)" "agent $c: in flight"
    t_assert_eq 1 "$(value "$f" lienthong_agent_database_up)" "agent $c: database up"
    t_assert_eq 1 "$(value "$f" "lienthong_agent_info{commune=\"$c\"}")" "agent $c: info"
    acked=$(value "$f" lienthong_agent_batches_acked_total)
    t_assert_eq "$(value "$f" lienthong_agent_batches_produced_total)" "$acked" \
        "agent $c: batches produced = acknowledged"
    # Every acknowledged batch had its latency observed (digest-only and
    # resync messages are acknowledged outside the sequence, hence -ge).
    t_assert_cmp "$(value "$f" lienthong_agent_delivery_latency_seconds_count)" -ge "$acked" \
        "agent $c: delivery latencies observed"
    t_assert_cmp "$(value "$f" lienthong_agent_kafka_brokers_up)" -ge 1 "agent $c: brokers up"
    tx=$(value "$f" lienthong_agent_kafka_tx_messages_total)
    t_assert_cmp "${tx%.*}" -ge 1 "agent $c: librdkafka tx messages (as of its last statistics)"
done

# The rules and the dashboard use only names these daemons export.
bash "$LT_ROOT/tests/deploy/metric_names.sh" --scrape "$S" "$A1" ||
    t_fail "the rules or the dashboard use a metric the daemons do not export"

# ---- 3. the database away: not ready, but alive
t_pg stop
t_log "postgres stopped"
wait_until "code_is $url_sink/readyz 503" 20 "sink /readyz 503 without its database"
wait_until "code_is $url_a1/readyz 503" 20 "agent $c1 /readyz 503 without its database"
curl -s -m 5 "$url_sink/readyz" | grep -qx 'database no' || t_fail "sink /readyz does not name the database"
wait_until "metric_is $url_sink lienthong_sink_database_up 0" 20 "sink: database_up 0"
sleep 5
t_assert_eq 200 "$(http_code "$url_sink/healthz")" "sink /healthz while waiting for the database"
t_assert_eq 200 "$(http_code "$url_a1/healthz")" "agent $c1 /healthz while waiting for the database"
t_pg start
t_log "postgres back"
wait_until "code_is $url_sink/readyz 200" 40 "sink /readyz 200 with its database back (idle)"
wait_until "code_is $url_a1/readyz 200" 40 "agent $c1 /readyz 200 with its database back"
t_gen "$c1" 50 -s "$((T_SEED % 100000 + 3))"
t_wait_drained 60 "$c1"
wait_until "metric_is $url_sink 'lienthong_sink_commune_events_applied_total{commune=\"$c1\"}' $((n1 + 50))" \
    20 "sink: the events written after the outage counted"

# ---- 4. a port in use is a configuration error
t_spawn sink_dup job "$SINK" -c "$T_DIR/sink.ini" -o "sink.http_listen=127.0.0.1:$port_sink" run
t_wait_exit sink_dup 20
t_assert_eq 2 "${T_EXIT[sink_dup]}" "second sink on the same port: exit status"
grep 'level=error' "$T_DIR/sink_dup.log" | grep -q 'Address already in use' ||
    t_fail "the second sink does not say the port is in use (log $T_DIR/sink_dup.log)"
t_spawn agent_dup job "$AGENT" -c "$T_DIR/agent_$c2.ini" -o "agent.http_listen=127.0.0.1:$port_a1" run
t_wait_exit agent_dup 20
t_assert_eq 2 "${T_EXIT[agent_dup]}" "agent on a port in use: exit status"
grep 'level=error' "$T_DIR/agent_dup.log" | grep -q 'agent.http_listen.*Address already in use' ||
    t_fail "the agent does not say the port is in use (log $T_DIR/agent_dup.log)"
t_log "ok: a port in use stops the daemon at start: $(grep -o 'error="[^"]*' "$T_DIR/sink_dup.log" | head -n 1)"
t_assert_eq 200 "$(http_code "$url_sink/healthz")" "the first sink still answers"

t_stop "agent_$c1"
t_stop "agent_$c2"
t_stop sink
t_assert_log_clean sink
