#!/usr/bin/env bash
# shellcheck disable=SC2119 # t_start_sink: its arguments are optional
# The sink dies by SIGKILL at its crash points - just before and just after
# the PostgreSQL commit of a round - and resumes from the offsets stored in
# PostgreSQL: every event is applied exactly once.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

EVENTS=5000
BATCH=50 # events per Kafka message: EVENTS/BATCH messages at least
ROUND=5  # messages per sink round: round 3 is far from the end
# Two communes: the first for the crash before the commit, the second for
# the crash after it (lienthong-gen cannot write twice into one outbox: its
# entity ids repeat and lt.outbox is unique on entity and version).
t_setup 11 2
c1=${T_COMMUNES[0]} c2=${T_COMMUNES[1]}
# A SIGKILLed consumer stays in its group until the broker's session timeout
# ends (librdkafka default 45 s): the restarted sink waits that long for its
# partitions.  6 s (the broker's minimum) keeps the test short.
SESSION=(-o kafka.session.timeout.ms=6000)

for c in "$c1" "$c2"; do
    t_start_agent "$c" -o agent.batch_max_events=$BATCH
done

# queue_events CODE - write EVENTS events and wait until the agent has them
# all in Kafka, before the sink runs: every round then has ROUND messages.
queue_events() {
    t_gen "$1" "$EVENTS" -w 4
    wait_until "t_unsent_is $1 0" 120 "agent sent every outbox row of $1"
    t_log "$EVENTS events of $1 in Kafka: $(t_topic "$1") holds $(t_high_watermark "$(t_topic "$1")") messages"
}

# progress CODE - "applied|last_seq|next_offset|after the last batch logged|quarantined"
# at the province. (A record may also be a heartbeat alone - an idle agent's
# first, say - which is applied without a batch_log row: the last record a
# crashed round applied is a batch, though, the agents being busy then.)
progress() {
    local topic
    topic=$(t_topic "$1")
    t_sql "$T_PDB" "SELECT (SELECT count(*) FROM lt.event_log WHERE commune_code = '$1'),
        (SELECT coalesce(max(last_seq), 0) FROM lt.commune_progress WHERE commune_code = '$1'),
        (SELECT coalesce(max(next_offset), 0) FROM lt.kafka_offset WHERE topic = '$topic'),
        (SELECT coalesce(max(kafka_offset) + 1, 0) FROM lt.batch_log WHERE topic = '$topic'),
        (SELECT count(*) FROM lt.quarantine)"
}

# stored_next CODE - the next offset the province stores for CODE's topic.
stored_next() {
    t_sql "$T_PDB" "SELECT coalesce(max(next_offset), 0) FROM lt.kafka_offset
        WHERE topic = '$(t_topic "$1")'"
}

# crash_run POINT - run the sink with LT_CRASH_POINT=POINT:3; it must kill
# itself with SIGKILL.
crash_run() {
    t_log "starting the sink with LT_CRASH_POINT=$1:3, $ROUND messages per round"
    t_start_sink LT_CRASH_POINT="$1:3" "${SESSION[@]}" -o sink.round_max_messages=$ROUND
    t_wait_exit sink 120
    t_assert_eq 137 "${T_EXIT[sink]}" "sink exit status with LT_CRASH_POINT=$1:3 (128 + SIGKILL)"
}

# check_consistent CODE - after a crash: the stored offset, the progress
# row, the event log and the batch log agree.
# Sets CRASH_APPLIED and CRASH_NEXT.
check_consistent() {
    local p applied last next after_batches quarantined
    p=$(progress "$1")
    IFS='|' read -r applied last next after_batches quarantined <<<"$p"
    t_log "after the crash, $1: applied|last_seq|next_offset|after last batch|quarantined = $p"
    t_assert_eq "$applied" "$last" "$1 event_log rows = commune_progress.last_seq"
    t_assert_eq "$next" "$after_batches" "$1 stored next offset = the offset after the last batch logged"
    t_assert_eq 0 "$quarantined" "quarantined messages"
    CRASH_APPLIED=$applied CRASH_NEXT=$next
}

# ---- 1. crash before the commit of round 3: rounds 1 and 2 stay, 3 is lost
queue_events "$c1"
before=$(stored_next "$c1")
crash_run sink.before_commit
check_consistent "$c1"
t_assert_cmp "$CRASH_APPLIED" -gt 0 "events applied by rounds 1-2"
t_assert_cmp $((CRASH_NEXT - before)) -le $((2 * ROUND)) "messages applied by rounds 1-2 (at most 2 rounds)"
t_assert_cmp "$CRASH_APPLIED" -lt "$EVENTS" "crash before the end of the stream"

t_log "restarting the sink normally"
t_start_sink "${SESSION[@]}"
t_wait_drained 120 "$c1"
t_assert_exactly_once "$c1" "$EVENTS"
t_reconcile "$c1"
t_stop sink

# ---- 2. crash after the commit of round 3 (before Kafka hears of it)
queue_events "$c2"
# The sink that drained $c1 may already have applied $c2's first heartbeat.
before=$(stored_next "$c2")
crash_run sink.after_commit
check_consistent "$c2"
t_assert_cmp "$CRASH_NEXT" -gt "$before" "messages of $c2 applied by rounds 1-3"
t_assert_cmp $((CRASH_NEXT - before)) -le $((3 * ROUND)) "messages of $c2 applied by rounds 1-3 (at most 3 rounds)"
t_assert_cmp "$CRASH_APPLIED" -lt "$EVENTS" "crash before the end of the stream"

t_log "restarting the sink normally"
t_start_sink "${SESSION[@]}"
t_wait_drained 120 "$c1" "$c2"
for c in "$c1" "$c2"; do
    t_assert_exactly_once "$c" "$EVENTS"
    topic=$(t_topic "$c")
    t_assert_eq "$(t_high_watermark "$topic")" "$(t_sql "$T_PDB" "SELECT next_offset
        FROM lt.kafka_offset WHERE topic = '$topic' AND partition = 0")" \
        "stored next offset = end of $topic"
    t_reconcile "$c"
done
t_assert_eq 0 "$(t_sql "$T_PDB" "SELECT count(*) FROM lt.quarantine")" "rows in lt.quarantine"

t_stop sink
for c in "$c1" "$c2"; do
    t_stop "agent_$c"
    t_assert_log_clean "agent_$c"
done
t_assert_log_clean sink
