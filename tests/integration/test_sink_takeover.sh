#!/usr/bin/env bash
# Two sinks on one host, one consumer group. By default each is a dynamic
# member and the communes are spread over them (one each here); when one is
# killed (-9) the other takes its communes over and every event is applied
# exactly once. Two sinks given
# the same static member id (sink.instance_id) fence each other: the fenced
# one ends with a clear message and a non-zero exit instead of living on idle.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

t_setup 25 2
c1=${T_COMMUNES[0]} c2=${T_COMMUNES[1]}
assigned_in() { # LOG -> partitions assigned since that daemon last started
    awk '/^==== /{ n = 0 } /msg="partition assigned"/{ n++ } /msg="partitions revoked"/{ n = 0 }
         END{ print n + 0 }' "$T_DIR/$1.log"
}

# ---- 1. two sinks, the active one killed
t_start_sink
t_spawn sink_b daemon "$SINK" -c "$T_DIR/sink.ini" run
spread() { [ "$(assigned_in sink) $(assigned_in sink_b)" = "1 1" ]; }
wait_until spread 60 "one partition each: the communes spread over the group by default"
t_log "ok: sink holds $(assigned_in sink) partition, sink_b $(assigned_in sink_b)"
t_start_agent "$c1"
t_start_agent "$c2"
t_gen "$c1" 500
t_gen "$c2" 500
t_wait_drained 60 "$c1" "$c2"
if [ "$(assigned_in sink)" -gt 0 ]; then active=sink standby=sink_b; else active=sink_b standby=sink; fi
t_log "$active holds $(assigned_in $active) partition(s), $standby $(assigned_in $standby); killing $active"
t_kill9 "$active"
t_gen "$c1" 500 -s "$((T_SEED % 100000 + 2))"
t_gen "$c2" 500 -s "$((T_SEED % 100000 + 2))"
start=$SECONDS
t_wait_drained 90 "$c1" "$c2"
t_log "the standby applied the new events $((SECONDS - start)) s after the kill"
t_assert_cmp "$(assigned_in $standby)" -ge 2 "partitions the standby holds after the takeover"
for c in "$c1" "$c2"; do
    t_assert_exactly_once "$c" 1000
    t_reconcile "$c"
done
t_stop "$standby"

# ---- 2. the same static member id twice: the older member is fenced and exits
SAME=(-o sink.instance_id=lt-test-same -o "sink.group_id=lt-test-fenced-$T_SEED"
      -o kafka.session.timeout.ms=6000)
t_spawn fenced_a job "$SINK" -c "$T_DIR/sink.ini" "${SAME[@]}" run
wait_until "[ \$(assigned_in fenced_a) -ge 2 ]" 60 "the first static member assigned"
t_spawn fenced_b job "$SINK" -c "$T_DIR/sink.ini" "${SAME[@]}" run
deadline=$((SECONDS + 60))
while t_running fenced_a && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.5; done
t_running fenced_a && t_fail "the fenced sink is still running 60 s after the second one started"
t_collect fenced_a
t_assert_eq 1 "${T_EXIT[fenced_a]}" "exit status of the fenced sink"
grep 'level=error' "$T_DIR/fenced_a.log" | grep -q 'enced' ||
    t_fail "the fenced sink does not say it was fenced: $(grep level=error "$T_DIR/fenced_a.log")"
grep 'level=error' "$T_DIR/fenced_a.log" | grep -q 'sink.instance_id' ||
    t_fail "the fenced sink does not name sink.instance_id"
t_log "ok: the fenced sink says: $(grep -o 'error="[^"]*"' "$T_DIR/fenced_a.log" | tail -n 1)"
kill -TERM "${T_PID[fenced_b]}" 2>/dev/null || true
t_wait_exit fenced_b 30
t_stop "agent_$c1"
t_stop "agent_$c2"
