#!/usr/bin/env bash
# bench/latency.sh - figure (d): end-to-end latency, outbox commit to
# province commit, p50 and p99.
#
# An agent (commune LT_BENCH_LAT_COMMUNE, no backlog) and the sink run while
# lienthong-gen writes 1-row transactions at LT_BENCH_LAT_RATE events/s for
# LT_BENCH_LAT_SECONDS.  Per event: the commit time of its lt.event_log row
# at the province (pg_xact_commit_timestamp) minus the outbox row's
# recorded_at; both databases are on one server, so one clock.  The first
# LT_BENCH_LAT_WARMUP seconds are left out.  Progress comes from
# `lienthong-sink status --json`.  Results: latency.env.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_begin latency

LC=$LT_BENCH_LAT_COMMUNE
say "(d) latency: agent $LC + sink running; lienthong-gen $LT_BENCH_LAT_RATE events/s for $LT_BENCH_LAT_SECONDS s, 1-row transactions"
ini=$(sink_ini latency "$PROVINCE_DB" sink.stats_interval_s=10)
bench_spawn "$LOGS/agent-$LC.log" "$AGENT" -c "$(agent_ini "$LC")" run
lat_agent=$LT_SPAWNED
bench_spawn "$LOGS/sink-d.log" "$SINK" -c "$ini" "${SINK_EXTRA[@]}" run
lat_sink=$LT_SPAWNED
log_has() { grep -q -- "$2" "$1" 2>/dev/null; }
lt_wait_for 60 0.2 log_has "$LOGS/agent-$LC.log" 'msg="agent started"' ||
    die "timed out after 60s waiting for the agent of $LC"
lt_wait_for 60 0.2 log_has "$LOGS/sink-d.log" 'msg="partition assigned"' ||
    die "timed out after 60s waiting for the sink's partition assignment"
sleep 2 # let the idempotent producer get its PID and the consumer its first fetch
# A writer commits a few hundred one-row transactions a second here (three
# round trips and a WAL flush each, the outbox trigger's notice taken at
# commit one transaction at a time), less while agent, sink and Kafka share
# the cores: one writer per 150 events/s keeps the rate a rate the
# generator reaches, not its ceiling.
LAT_WRITERS=$(((LT_BENCH_LAT_RATE + 149) / 150))
[ "$LAT_WRITERS" -ge 2 ] || LAT_WRITERS=2
bench_spawn "$LOGS/gen-$LC.log" "$GEN" -d "$(conninfo "$(commune_db "$LC")")" -c "$LC" -n "$LAT_EVENTS" \
    -w "$LAT_WRITERS" -m 1 -H 0 -r "$LT_BENCH_LAT_RATE" -s 99
lat_gen=$LT_SPAWNED
all_applied() { # the sink applied every event of the phase; the agent runs
    local a
    lt_pid_alive "$lat_agent" || die "agent $LC exited (see $LOGS/agent-$LC.log)"
    a=$(applied_events "$ini" "$LC") || die "lienthong-sink status failed"
    PROGRESS="applied $a / $LAT_EVENTS"
    [ "$a" -ge "$LAT_EVENTS" ]
}
bench_poll "the sink of the latency phase" "$lat_sink" "$((LT_BENCH_LAT_SECONDS + 120))" 10 all_applied
wait "$lat_gen" || die "lienthong-gen $LC failed (see $LOGS/gen-$LC.log)"
bench_stop_all
# Latency of every event of the phase but those written in its first
# LT_BENCH_LAT_WARMUP seconds (first connections, first fetch).
lat_sql() { # lat_sql DB TABLE_AND_FILTER TIME_EXPR WARMUP_S
    q "$1" "WITH e AS (SELECT recorded_at, $3 AS done FROM $2),
             t AS (SELECT extract(epoch FROM done - recorded_at) * 1000 AS ms FROM e
                   WHERE recorded_at >= (SELECT min(recorded_at) FROM e) + interval '$4 s')
        SELECT count(*),
            round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 1),
            round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 1),
            round(max(ms)::numeric, 1), round(avg(ms)::numeric, 1)
        FROM t"
}
EL_LC="lt.event_log WHERE commune_code = '$LC'"
W=$LT_BENCH_LAT_WARMUP
IFS='|' read -r D_N D_P50 D_P99 D_MAX D_AVG <<<"$(lat_sql "$PROVINCE_DB" "$EL_LC" 'pg_xact_commit_timestamp(xmin)' "$W")"
IFS='|' read -r D_NALL _ D_ALL_P99 D_ALL_MAX _ <<<"$(lat_sql "$PROVINCE_DB" "$EL_LC" 'pg_xact_commit_timestamp(xmin)' 0)"
IFS='|' read -r _ D2_P50 D2_P99 _ _ <<<"$(lat_sql "$PROVINCE_DB" "$EL_LC" 'applied_at' "$W")"
# The agent's share: outbox row written -> Kafka acknowledged it and the
# agent marked it sent (lt.outbox.sent_at, now() of the marking transaction).
IFS='|' read -r _ DA_P50 DA_P99 _ _ <<<"$(lat_sql "$(commune_db "$LC")" lt.outbox 'sent_at' "$W")"
D_RATE=$(q "$PROVINCE_DB" "SELECT round(count(*) / extract(epoch FROM max(recorded_at) - min(recorded_at)))
    FROM lt.event_log WHERE commune_code = '$LC'")
say "(d) done: $D_N events (first ${W} s excluded) at $D_RATE events/s: p50 $D_P50 ms, p99 $D_P99 ms (max $D_MAX ms)"
say "    outbox -> sent_at (agent + Kafka): p50 $DA_P50 ms, p99 $DA_P99 ms; all $D_NALL events incl. warm-up: p99 $D_ALL_P99 ms, max $D_ALL_MAX ms"
bench_result D_N D_P50 D_P99 D_MAX D_AVG D_NALL D_ALL_P99 D_ALL_MAX D2_P50 D2_P99 DA_P50 DA_P99 D_RATE W
