#!/usr/bin/env bash
# The sink dies by SIGKILL at its crash points - just before and just after
# the PostgreSQL commit of a round - and resumes from the offsets stored in
# PostgreSQL: every event is applied exactly once.
# shellcheck source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

EVENTS=5000
BATCH=50 # events per Kafka message: EVENTS/BATCH messages at least
ROUND=5  # messages per sink round: round 3 is far from the end
t_setup 11 1
c=${T_COMMUNES[0]}
topic=$(t_topic "$c")
# A SIGKILLed consumer stays in its group until the broker's session timeout
# ends (librdkafka default 45 s): the restarted sink waits that long for its
# partitions.  6 s (the broker's minimum) keeps the test short.
SESSION=(-o kafka.session.timeout.ms=6000)

t_start_agent "$c" -o agent.batch_max_events=$BATCH

# queue_events N - write N events and wait until the agent has them all in Kafka.
queue_events() {
    t_gen "$c" "$1" -w 4
    wait_until '[ "$(t_unsent "$c")" = 0 ]' 120 "agent sent every outbox row of $c"
    t_log "$(t_sql "$(t_cdb "$c")" "SELECT count(*) FROM lt.outbox") events in the outbox," \
        "all in Kafka: $topic holds $(t_high_watermark "$topic") messages"
}

# progress - "applied|last_seq|next_offset|batches logged|quarantined" at the province.
progress() {
    t_sql "$T_PDB" "SELECT (SELECT count(*) FROM lt.event_log WHERE commune_code = '$c'),
        (SELECT coalesce(max(last_seq), 0) FROM lt.commune_progress WHERE commune_code = '$c'),
        (SELECT coalesce(max(next_offset), 0) FROM lt.kafka_offset WHERE topic = '$topic'),
        (SELECT count(*) FROM lt.batch_log WHERE topic = '$topic'),
        (SELECT count(*) FROM lt.quarantine)"
}

# crash_run POINT - run the sink with LT_CRASH_POINT=POINT:3; it must kill
# itself with SIGKILL.
crash_run() {
    t_log "starting the sink with LT_CRASH_POINT=$1:3, $ROUND messages per round"
    t_start_sink LT_CRASH_POINT="$1:3" "${SESSION[@]}" -o sink.round_max_messages=$ROUND
    t_wait_exit sink 120
    t_assert_eq 137 "${T_EXIT[sink]}" "sink exit status with LT_CRASH_POINT=$1:3 (128 + SIGKILL)"
}

# check_consistent - after a crash: the stored offset, the progress row,
# the event log and the batch log agree (one message = one batch here).
check_consistent() {
    local p applied last next batches quarantined
    p=$(progress)
    IFS='|' read -r applied last next batches quarantined <<<"$p"
    t_log "after the crash: applied|last_seq|next_offset|batches|quarantined = $p"
    t_assert_eq "$applied" "$last" "event_log rows = commune_progress.last_seq"
    t_assert_eq "$next" "$batches" "stored next offset = batches logged"
    t_assert_eq 0 "$quarantined" "quarantined messages"
    CRASH_APPLIED=$applied CRASH_NEXT=$next
}

# ---- 1. crash before the commit of round 3
queue_events "$EVENTS"
crash_run sink.before_commit
check_consistent
# Rounds 1 and 2 were committed, round 3 was not.
t_assert_cmp "$CRASH_APPLIED" -gt 0 "events applied by rounds 1-2"
t_assert_cmp "$CRASH_NEXT" -le $((2 * ROUND)) "messages applied by rounds 1-2 (at most 2 rounds)"
t_assert_cmp "$CRASH_APPLIED" -lt "$EVENTS" "crash before the end of the stream"

t_log "restarting the sink normally"
t_start_sink "${SESSION[@]}"
t_wait_drained 120 "$c"
t_assert_exactly_once "$c" "$EVENTS"
t_reconcile "$c"
t_stop sink

# ---- 2. crash after the commit of round 3 (before Kafka hears of it)
queue_events "$EVENTS"
before=$(t_applied "$c")
crash_run sink.after_commit
check_consistent
t_assert_cmp "$CRASH_APPLIED" -gt "$before" "events applied by rounds 1-3 of the second run"
t_assert_cmp "$CRASH_APPLIED" -lt $((2 * EVENTS)) "crash before the end of the stream"

t_log "restarting the sink normally"
t_start_sink "${SESSION[@]}"
t_wait_drained 120 "$c"
t_assert_exactly_once "$c" $((2 * EVENTS))
t_assert_eq "0" "$(t_sql "$T_PDB" "SELECT count(*) FROM lt.quarantine")" "rows in lt.quarantine"
t_assert_eq "$(t_high_watermark "$topic")" "$(t_sql "$T_PDB" "SELECT next_offset FROM lt.kafka_offset
    WHERE topic = '$topic' AND partition = 0")" "stored next offset = end of $topic"
t_reconcile "$c"

t_stop sink
t_stop "agent_$c"
t_assert_log_clean sink
t_assert_log_clean "agent_$c"
