#!/usr/bin/env bash
# shellcheck disable=SC2119 # t_start_sink: its arguments are optional
# `lienthong-sink status` does not mislead: its lag in events and in Kafka
# records equals what the province has not applied yet, --json holds the
# same facts, a commune that no sink consumes (or that has no topic) is a
# problem (exit 3), and when Kafka is away status says it cannot tell
# (exit 1) within seconds.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BATCH=50 # events per Kafka record: lag in events and in records differ
EVENTS1=1000
EVENTS2=300
ROUND=5 # Kafka records per sink round: the crash at round 3 leaves a backlog
EXIT_CANNOT_TELL=1
EXIT_PROBLEM=3
t_setup 96 2
c1=${T_COMMUNES[0]} c2=${T_COMMUNES[1]}
# A SIGKILLed sink stays in its group until its session times out; 6 s
# (the broker's minimum) keeps the wait for "no sink is running" short.
SESSION=(-o kafka.session.timeout.ms=6000)

kafka() { # deploy/kafka.sh with this run's LT_STATE_DIR and LT_KAFKA_PORT
    "$LT_ROOT/deploy/kafka.sh" "$@" >>"$T_DIR/kafka.log" 2>&1
}
# Whatever happens, leave the broker running for the tests after this one.
T_CLEANUP_HOOKS+=('kafka status >/dev/null || kafka start || t_log "could not restart kafka"')

# st_run [ARG...] - run `status ARG...` (with the options in ST_OPTS before
# it): stdout in ST_OUT, stderr in ST_ERR, exit status in ST_RC, duration in
# ST_SECS (all logged to status.log).
ST_OPTS=()
st_run() {
    local t0=$SECONDS
    ST_RC=0
    ST_OUT=$("$SINK" -c "$T_DIR/sink.ini" "${ST_QUIET[@]}" "${ST_OPTS[@]}" status "$@" \
        2>"$T_DIR/status.err") ||
        ST_RC=$?
    ST_ERR=$(<"$T_DIR/status.err")
    ST_SECS=$((SECONDS - t0))
    printf '==== [+%ss] status %s: exit %s in %s s\n%s\n--- stderr\n%s\n' "$((SECONDS - T_T0))" \
        "$*" "$ST_RC" "$ST_SECS" "$ST_OUT" "$ST_ERR" >>"$T_DIR/status.log"
}

# st_exits RC [ARG...] - status exits RC (a predicate for wait_until).
st_exits() { st_run "${@:2}"; [ "$ST_RC" = "$1" ]; }

# st_row CODE - "state|lag_events|lag_records" of CODE in the text report.
st_row() {
    awk -v c="$1" '$1 == c { print $2 "|" $5 "|" $6 }' <<<"$ST_OUT"
}

# st_json EXPR - evaluate a Python expression over the --json document `d`
# (fails if ST_OUT is not one JSON document).
st_json() {
    python3 -c 'import json, sys
d = json.load(sys.stdin)
c = {x["commune"]: x for x in d["communes"]}
print(eval(sys.argv[1]))' "$1" <<<"$ST_OUT" || t_fail "status --json is not a JSON document: $ST_OUT"
}

# expected CODE - "lag_events|lag_records" from the databases and the broker:
# events numbered at the commune beyond the province's last_seq, and Kafka
# records beyond the province's stored offset.
expected() {
    local sent applied hw next
    sent=$(t_sql "$(t_cdb "$1")" "SELECT coalesce(max(seq), 0) FROM lt.outbox WHERE sent_at IS NOT NULL")
    applied=$(t_sql "$T_PDB" "SELECT coalesce(max(last_seq), 0) FROM lt.commune_progress
        WHERE commune_code = '$1'")
    hw=$(t_high_watermark "$(t_topic "$1")")
    next=$(t_sql "$T_PDB" "SELECT coalesce(max(next_offset), 0) FROM lt.kafka_offset
        WHERE topic = '$(t_topic "$1")'")
    printf '%s|%s\n' "$((sent - applied))" "$((hw - next))"
}

# assert_lags STATE CODE... - text and --json report, for each CODE, STATE
# and the lags that expected() computes.
assert_lags() {
    local state=$1 c want
    shift
    st_run
    local text_rc=$ST_RC
    for c in "$@"; do
        want=$(expected "$c")
        t_assert_eq "$state|$want" "$(st_row "$c")" "status: $c state|lag_events|lag_records"
    done
    st_run --json
    t_assert_eq "$text_rc|$text_rc" "$ST_RC|$(st_json "d['exit_status']")" \
        "status --json: exit status|exit_status in the document (as the text report's)"
    for c in "$@"; do
        want=$(expected "$c")
        t_assert_eq "$state|$want" "$(st_json "'%s|%s|%s' % (c['$c']['state'],
            c['$c']['lag_events'], c['$c']['lag_records'])")" \
            "status --json: $c state|lag_events|lag_records"
    done
}

# ---- 1. a backlog in Kafka before any sink ever ran
# The agents send one heartbeat and one digest at start, then none for an
# hour: the records in Kafka stay put while the test counts them, and status
# is told the agents' interval (a commune is not OFFLINE meanwhile).
QUIET=(-o agent.heartbeat_interval_s=3600 -o agent.digest_every_s=3600)
ST_QUIET=(-o sink.heartbeat_interval_s=3600)
for c in "$c1" "$c2"; do
    t_start_agent "$c" -o agent.batch_max_events=$BATCH "${QUIET[@]}"
done
t_gen "$c1" "$EVENTS1" -w 2
t_gen "$c2" "$EVENTS2" -w 2
wait_until "t_unsent_is $c1 0 && t_unsent_is $c2 0" 120 "agents sent every outbox row"
t_log "in Kafka: $c1 $(t_high_watermark "$(t_topic "$c1")") records, $c2 $(t_high_watermark "$(t_topic "$c2")") records"

st_run
t_assert_eq "$EXIT_PROBLEM" "$ST_RC" "status exit with no sink running (problem)"
grep -q 'lag_events' <<<"$ST_OUT" && grep -q 'lag_records' <<<"$ST_OUT" ||
    t_fail "status header names no lag_events / lag_records column: $ST_OUT"
grep -q 'no sink is running' <<<"$ST_ERR" || t_fail "status does not say no sink is running: $ST_ERR"
t_log "ok: status says no sink is running"
t_assert_eq "$EVENTS1" "$(expected "$c1" | cut -d'|' -f1)" "unapplied events of $c1 (the test's own count)"
assert_lags unassigned "$c1" "$c2"
t_assert_eq "True|0" "$(st_json "'%s|%s' % (d['kafka']['reachable'], d['sink_group']['members'])")" \
    "status --json: kafka reachable|sink group members"

# ---- 2. a partial backlog: the sink dies before the commit of its round 3
t_start_sink LT_CRASH_POINT=sink.before_commit:3 "${SESSION[@]}" -o sink.round_max_messages=$ROUND
t_wait_exit sink 120
t_assert_eq 137 "${T_EXIT[sink]}" "sink exit status with LT_CRASH_POINT (128 + SIGKILL)"
applied=$(t_sql "$T_PDB" "SELECT count(*) FROM lt.event_log")
t_assert_cmp "$applied" -gt 0 "events applied before the crash"
t_assert_cmp "$applied" -lt $((EVENTS1 + EVENTS2)) "events applied before the crash"
# Its membership outlives it by the session timeout; then the group is empty.
# (status exits 3 at once: the communes are STALLED; wait for what this step checks.)
st_unassigned() { st_run; [ "$(st_row "$c1" | cut -d'|' -f1)" = unassigned ]; }
wait_until st_unassigned 40 "status: $c1 unassigned once the dead sink left its group"
assert_lags unassigned "$c1" "$c2"

# ---- 3. the sink running and caught up: every commune consumed, no lag
t_start_sink "${SESSION[@]}"
t_wait_drained 120 "$c1" "$c2"
wait_until "st_exits 0" 30 "status exit 0 with the sink running and caught up"
assert_lags ok "$c1" "$c2"

# ---- 4. communes registered at the province that the sink does not consume:
# one whose events topic does not exist, one whose topic exists but lies
# outside the sink's subscription (the control topic of $c1 stands in for a
# new commune's topic the running sink has not picked up yet, issue 11).
mapfile -t ghosts < <(python3 - "$LT_ROOT/data/admin-units/units-2026-07-25.json" "$T_PROVINCE" \
    "$(t_kafka_topics | tr '\n' ' ')" <<'EOF'
import json, sys
path, province, existing = sys.argv[1], sys.argv[2], set(sys.argv[3].split())
units = json.load(open(path, encoding="utf-8"))
wards = [w["Code"] for p in units if p["Code"] == province for w in p["Wards"]]
print("\n".join([c for c in wards if f"lt.{province}.{c}.events" not in existing][-2:]))
EOF
)
no_topic=${ghosts[0]} unassigned=${ghosts[1]}
register() { # CODE EVENTS_TOPIC: a row of lt.commune, as provision writes it
    t_sql "$T_PDB" "INSERT INTO lt.commune (commune_code, province_code, name, events_topic,
        control_topic) VALUES ('$1', '$T_PROVINCE', 'test $1', '$2', 'lt.test.$1.control')" >/dev/null
}
register "$no_topic" "$(t_topic "$no_topic")"
register "$unassigned" "lt.$T_PROVINCE.$c1.control"
st_run
t_sql "$T_PDB" "DELETE FROM lt.commune WHERE commune_code IN ('$no_topic', '$unassigned')" >/dev/null
t_assert_eq "$EXIT_PROBLEM" "$ST_RC" "status exit with communes not consumed while the sink runs"
t_assert_eq "no-topic|unassigned|ok|ok" "$(st_row "$no_topic" | cut -d'|' -f1)|$(st_row \
    "$unassigned" | cut -d'|' -f1)|$(st_row "$c1" | cut -d'|' -f1)|$(st_row "$c2" | cut -d'|' -f1)" \
    "status: states of $no_topic (no topic)|$unassigned (not subscribed)|$c1|$c2"
grep -q "commune $no_topic: events topic .* does not exist" <<<"$ST_ERR" ||
    t_fail "status does not name the missing topic: $ST_ERR"
grep -q "commune $unassigned: events topic .* is assigned to no member" <<<"$ST_ERR" ||
    t_fail "status does not name the unassigned commune: $ST_ERR"
t_log "ok: status names both on stderr"

# ---- 5. PostgreSQL unreachable: cannot tell
ST_OPTS=(-o sink.postgres="host=127.0.0.1 port=1 dbname=none connect_timeout=3")
st_run
ST_OPTS=()
says=$(grep -c 'cannot tell' <<<"$ST_ERR" || true)
t_assert_eq "$EXIT_CANNOT_TELL|1" "$ST_RC|$says" \
    "status exit|lines saying it cannot tell, with PostgreSQL unreachable"

# ---- 6. Kafka stopped: cannot tell, within seconds
kafka stop || t_fail "deploy/kafka.sh stop failed (see $T_DIR/kafka.log)"
t_log "kafka stopped"
st_run
t_assert_eq "$EXIT_CANNOT_TELL" "$ST_RC" "status exit with Kafka stopped"
t_assert_cmp "$ST_SECS" -le 10 "seconds status took with Kafka stopped"
grep -q 'Kafka .* did not answer' <<<"$ST_ERR" || t_fail "status does not say Kafka did not answer: $ST_ERR"
t_assert_eq "?|?|?" "$(st_row "$c1")" "status: $c1 state|lag_events|lag_records with Kafka stopped"
st_run --json
t_assert_eq "$EXIT_CANNOT_TELL" "$ST_RC" "status --json exit with Kafka stopped"
t_assert_eq "False|None" "$(st_json "'%s|%s' % (d['kafka']['reachable'], c['$c1']['lag_events'])")" \
    "status --json: kafka reachable|lag_events with Kafka stopped"
kafka start || t_fail "deploy/kafka.sh start failed (see $T_DIR/kafka.log)"
t_log "kafka back"
wait_until "st_exits 0" 60 "status exit 0 once Kafka is back"

t_stop sink
for c in "$c1" "$c2"; do
    t_stop "agent_$c"
    t_assert_log_clean "agent_$c" allow-kafka-errors
done
