#!/usr/bin/env bash
# bench/outage.sh - figure (f): a commune back after an outage.  While its
# agent is stopped, LT_BENCH_OUTAGE_EVENTS (100,000) events pile up in the
# outbox of commune LT_BENCH_LAT_COMMUNE; the sink runs, caught up.  Then the
# agent starts: the figure is the time from its start to the commit of the
# last of those events at the province (track_commit_timestamp), and, on the
# way, to the moment the agent marked the last one sent (Kafka acknowledged
# it).  Needs the province database of bench/sink_apply.sh.  Results:
# outage.env.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
: "${LT_BENCH_OUTAGE_EVENTS:=100000}"
bench_begin outage

OC=$LT_BENCH_LAT_COMMUNE
N=$LT_BENCH_OUTAGE_EVENTS
say "(f) outage: $N events written into the outbox of $OC while its agent is stopped"
t=$(now)
"$GEN" -d "$(conninfo "$(commune_db "$OC")")" -c "$OC" -n "$N" -w 2 -m 200 -H 0 -s 98 \
    >"$LOGS/gen-outage.log" 2>&1 || die "lienthong-gen $OC failed (see $LOGS/gen-outage.log)"
q "$(commune_db "$OC")" "ANALYZE lt.outbox" >/dev/null
say "    written in $(fmt1 "$(calc "$(now) - $t")") s"

ini=$(sink_ini outage "$PROVINCE_DB" sink.stats_interval_s=10)
bench_spawn "$LOGS/sink-f.log" "$SINK" -c "$ini" "${SINK_EXTRA[@]}" run
out_sink=$LT_SPAWNED
log_has() { grep -q -- "$2" "$1" 2>/dev/null; }
lt_wait_for 60 0.2 log_has "$LOGS/sink-f.log" 'msg="partition assigned"' ||
    die "timed out after 60s waiting for the sink's partition assignment"
before=$(applied_events "$ini" "$OC") || die "lienthong-sink status failed"
want=$((before + N))
checkpoint "$PROVINCE_DB"

F_T0=$(now)
bench_spawn "$LOGS/agent-outage.log" "$AGENT" -c "$(agent_ini "$OC")" run
out_agent=$LT_SPAWNED
caught_up() {
    local a
    lt_pid_alive "$out_agent" || die "agent $OC exited (see $LOGS/agent-outage.log)"
    a=$(applied_events "$ini" "$OC") || die "lienthong-sink status failed"
    PROGRESS="applied $((a - before)) / $N"
    [ "$a" -ge "$want" ]
}
bench_poll "the sink of the outage phase" "$out_sink" 600 0.25 caught_up
agent_progress "$OC" || die "lienthong-agent status failed"
F_AGENT_RSS=$(fmt1 "$(calc "$(vm_hwm_kb "$out_agent") / 1024")")
F_SINK_RSS=$(fmt1 "$(calc "$(vm_hwm_kb "$out_sink") / 1024")")
bench_stop_all
last=$(q "$PROVINCE_DB" "SELECT extract(epoch FROM max(pg_xact_commit_timestamp(xmin)))
    FROM lt.event_log WHERE commune_code = '$OC'")
F_APPLIED_S=$(calc "$last - $F_T0")
F_SENT_S=$(calc "${LAST_SENT:-$last} - $F_T0")
F_RATE=$(calc "$N / $F_APPLIED_S")
F_N=$N
say "(f) done: $N events sent by the agent in $(fmt1 "$F_SENT_S") s and applied at the province $(fmt1 "$F_APPLIED_S") s after its start ($(fmt0 "$F_RATE") events/s); peak RSS agent $F_AGENT_RSS MB, sink $F_SINK_RSS MB"
bench_result F_N F_SENT_S F_APPLIED_S F_RATE F_AGENT_RSS F_SINK_RSS
