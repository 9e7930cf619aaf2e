#!/usr/bin/env bash
# bench/agent_rss.sh - the pre-fill, and figure (e): the agent's peak RSS.
#
# For each commune, lienthong-gen writes its share of LT_BENCH_EVENTS into
# the outbox, then lienthong-agent drains it into Kafka while no sink runs;
# the agent is stopped once its status says every event is acknowledged.
# (e) is the largest VmHWM of those agents.  Results: agent_rss.env.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_begin agent_rss

say "pre-fill: $TOTAL events = $NCOMMUNES communes x $PER_COMMUNE (lienthong-gen -w 2 -m 200)"
drained() { # drained COMMUNE - every event acknowledged; samples the agent's VmHWM
    local h
    h=$(vm_hwm_kb "$apid")
    [ "${h:-0}" -gt "$hwm" ] && hwm=$h
    agent_progress "$1" || die "lienthong-agent status of $1 failed"
    PROGRESS="acked $ACKED / $PER_COMMUNE, agent VmHWM $((hwm / 1024)) MB"
    [ "${ACKED:-0}" -ge "$PER_COMMUNE" ]
}
AGENT_HWM_MAX=0
AGENT_RSS_LIST=()
DRAIN_SECS_TOTAL=0
i=0
for c in "${COMMUNES[@]}"; do
    i=$((i + 1))
    t=$(now)
    "$GEN" -d "$(conninfo "$(commune_db "$c")")" -c "$c" -n "$PER_COMMUNE" -w 2 -m 200 -H 0 -s "$i" \
        >>"$LOGS/gen.log" 2>&1 || die "lienthong-gen $c failed (see $LOGS/gen.log)"
    # Fresh statistics, so the agent's claim query takes the partial index
    # at once instead of sorting the whole backlog until autovacuum analyzes.
    q "$(commune_db "$c")" "ANALYZE lt.outbox" >/dev/null
    say "  commune $c: $PER_COMMUNE events written in $(fmt1 "$(calc "$(now) - $t")") s; draining with lienthong-agent"
    bench_spawn "$LOGS/agent-$c.log" "$AGENT" -c "$(agent_ini "$c")" run
    apid=$LT_SPAWNED
    t=$(now)
    hwm=0
    # The status counts the backlog, which costs the database a little:
    # asked every 2 s; the drain ends when the last row was marked sent.
    bench_poll "agent $c" "$apid" 600 2 drained "$c"
    d=$(calc "$LAST_SENT - $t")
    h=$(vm_hwm_kb "$apid")
    [ "${h:-0}" -gt "$hwm" ] && hwm=$h
    bench_stop_all
    DRAIN_SECS_TOTAL=$(calc "$DRAIN_SECS_TOTAL + $d")
    AGENT_RSS_LIST+=("$c:$(fmt1 "$(calc "$hwm / 1024")")")
    [ "$hwm" -gt "$AGENT_HWM_MAX" ] && AGENT_HWM_MAX=$hwm
    say "  commune $c: drained to Kafka in $(fmt1 "$d") s ($(fmt0 "$(calc "$PER_COMMUNE / $d")") events/s), agent peak RSS $(fmt1 "$(calc "$hwm / 1024")") MB"
done
AGENT_RSS_MB=$(fmt1 "$(calc "$AGENT_HWM_MAX / 1024")")
AGENT_DRAIN_RATE=$(fmt0 "$(calc "$TOTAL / $DRAIN_SECS_TOTAL")")
bench_result AGENT_RSS_MB AGENT_RSS_LIST AGENT_DRAIN_RATE
