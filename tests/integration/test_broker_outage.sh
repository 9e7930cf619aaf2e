#!/usr/bin/env bash
# shellcheck disable=SC2119 # t_start_sink: its arguments are optional
# Kafka goes away for 30 s while the commune keeps writing: the outbox
# backlog grows, agent and sink stay up, `lienthong-sink status` says Kafka
# is unreachable and the commune unheard (OFFLINE), and once the broker is
# back everything drains - exactly once - and the commune is OK again.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RATE=300    # events/s
EVENTS=15000 # ~50 s of writing at RATE
OUTAGE=30   # seconds without Kafka
t_setup 14 1
c=${T_COMMUNES[0]}

kafka() { # deploy/kafka.sh with this run's LT_STATE_DIR and LT_KAFKA_PORT
    "$LT_ROOT/deploy/kafka.sh" "$@" >>"$T_DIR/kafka.log" 2>&1
}
# Whatever happens, leave the broker running for the tests after this one.
T_CLEANUP_HOOKS+=('kafka status >/dev/null || kafka start || t_log "could not restart kafka"')

t_start_sink
t_start_agent "$c" -o agent.heartbeat_interval_s=1
t_wait_sink_ready 1
t_gen_bg "$c" "$EVENTS" -w 4 -r "$RATE"
wait_until "t_applied_ge $c 1000" 60 "1000 events applied before the outage"
t_log "applied $(t_applied "$c") events; stopping kafka for $OUTAGE s"

outage_start=$SECONDS
kafka stop || t_fail "deploy/kafka.sh stop failed (see $T_DIR/kafka.log)"
kafka status && t_fail "kafka still running after deploy/kafka.sh stop"
t_log "kafka stopped (took $((SECONDS - outage_start)) s)"

sleep 3
unsent1=$(t_unsent "$c") applied1=$(t_applied "$c")
t_log "outage reading 1: unsent $unsent1, applied $applied1"
sleep $((OUTAGE - 3 - (SECONDS - outage_start) > 5 ? OUTAGE - 3 - (SECONDS - outage_start) : 5))
unsent2=$(t_unsent "$c") applied2=$(t_applied "$c")
t_log "outage reading 2: unsent $unsent2, applied $applied2"
t_assert_cmp "$unsent2" -gt "$unsent1" "commune outbox backlog grows during the outage"
t_assert_eq "$applied1" "$applied2" "events applied at the province during the outage"
t_running "gen_$c" || t_fail "the generator ended during the outage (it should outlast it)"
t_running "agent_$c" || t_fail "the agent died during the outage"
t_running sink || t_fail "the sink died during the outage"
t_check_procs
t_log "ok: agent and sink alive after $((SECONDS - outage_start)) s without kafka"
# status [ARGS] - "STATE EXIT KAFKA_REACHABLE", judged for 1 s heartbeats
status() {
    local out st=0
    out=$("$SINK" -c "$T_DIR/sink.ini" -o sink.heartbeat_interval_s=1 status --json --timeout 2 \
        2>>"$T_DIR/status.err") || st=$?
    printf '%s %s %s\n' "$(jq -r '.communes[0].health.state' <<<"$out")" "$st" \
        "$(jq -r '.kafka.reachable' <<<"$out")"
}
t_assert_eq "OFFLINE 3 false" "$(status)" "status without Kafka: health, exit, Kafka reachable"

kafka start || t_fail "deploy/kafka.sh start failed (see $T_DIR/kafka.log)"
t_log "kafka back after $((SECONDS - outage_start)) s"

t_wait_gen "$c" 180
t_wait_drained 180 "$c"
t_assert_eq "$EVENTS|$EVENTS|0|$EVENTS" "$(t_outbox "$c")" "outbox numbered|max_seq|unsent|rows"
t_assert_exactly_once "$c" "$EVENTS"
t_assert_no_quarantine "$c"
t_reconcile "$c"
wait_until "[ \"\$(status)\" = 'OK 0 true' ]" 30 "status OK again after the outage"
t_log "ok: status after the outage: $(status)"

t_stop "agent_$c"
t_stop sink
t_assert_log_clean "agent_$c" allow-kafka-errors
t_assert_log_clean sink allow-kafka-errors
