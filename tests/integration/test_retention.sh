#!/usr/bin/env bash
# shellcheck disable=SC2119 # t_start_sink: its arguments are optional
# Retention at both levels, without losing anything:
#   1. provisioned topics carry an explicit retention.ms;
#   2. the sink confirms each digest found equal with no gap open; the agent
#      then purges its old sent rows, keeping each entity's current state, so
#      both the two-database verify and a full resync still work;
#   3. records a topic's retention deleted before the sink read them (the sink
#      was away) are said loudly, become a gap, and repair fetches them again
#      from the commune, which kept every row not yet confirmed.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KADMIN="$LT_TEST_BIN_DIR/tests/lt-test-kafka-admin"
[ -x "$KADMIN" ] || t_env_fail "$KADMIN is missing: build first (tests/run.sh builds)"
t_setup 52 1
c=${T_COMMUNES[0]}
CDB=$(t_cdb "$c")
TOPIC=$(t_topic "$c")
printf '\n[kafka]\nbootstrap.servers = %s\n' "$BROKERS" >>"$T_DIR/reconcile.ini"
R() { "$RECONCILE" -c "$T_DIR/reconcile.ini" "$@"; }
SINK_OPTS=(-o sink.confirm_interval_s=1)
AGENT_OPTS=(-o agent.purge_sent_after_s=1 -o agent.digest_every_events=100 -o agent.batch_max_events=50
            -o agent.digest_every_s=1 -o agent.resync_max_events_per_s=20000)
outbox_rows() { t_sql "$CDB" "SELECT count(*) FROM lt.outbox"; }
states() { t_sql "$CDB" "SELECT count(*) FROM lt.entity_state"; }
purged() { t_sql "$CDB" "SELECT coalesce(sum(purged_rows), 0) FROM lt.agent_state"; }
gen_more() { # N SEED - N more events from another desk seed
    t_run "gen_$c" "$GEN" -d "$(lt_pg_conninfo "$CDB")" -c "$c" -n "$1" -s "$2"
}

# ---- 1. explicit retention on the topics
for topic in "$TOPIC" "${TOPIC%.events}.control"; do
    t_assert_eq $((30 * 86400000)) "$("$KADMIN" "$BROKERS" config "$topic" retention.ms)" \
        "retention.ms of $topic (sink.retention_days default 30)"
done

# ---- 2. confirmation, then purge of what the province holds
t_start_sink "${SINK_OPTS[@]}"
t_start_agent "$c" "${AGENT_OPTS[@]}"
t_wait_sink_ready 1
t_gen "$c" 1500
t_wait_drained 90 "$c"
max_seq=$(t_sql "$CDB" "SELECT max(seq) FROM lt.outbox")
wait_until "[ \"\$(t_sql $CDB 'SELECT confirmed_seq FROM lt.agent_state')\" = $max_seq ]" 60 \
    "the province confirmed the digest as of seq $max_seq"
wait_until "[ \"\$(outbox_rows)\" = \"\$(states)\" ]" 60 \
    "the agent purged every sent row but the current states"
t_assert_eq "$max_seq" "$(($(outbox_rows) + $(purged)))" "outbox rows left + purged = rows sent"
t_assert_cmp "$(purged)" -gt 0 "rows purged"
grep -q 'msg="sent outbox rows purged' "$T_DIR/agent_$c.log" || t_fail "the agent did not log its purge"
t_reconcile "$c"
st=0
R repair --commune "$c" --all --timeout 90 >>"$T_DIR/repair.log" 2>&1 || st=$?
t_assert_eq 0 "$st" "repair --all after the purge (every state is still there to send)"

# ---- 3. records deleted before the sink read them
t_stop sink
gen_more 600 $((T_SEED % 1000 + 400001))
wait_until "t_unsent_is $c 0" 60 "the agent sent the new rows while the sink was away"
high=$(t_high_watermark "$TOPIC")
stored=$(t_sql "$T_PDB" "SELECT next_offset FROM lt.kafka_offset WHERE topic = '$TOPIC'")
t_assert_cmp $((high - stored)) -ge 3 "records the sink has not read"
"$KADMIN" "$BROKERS" delete-records "$TOPIC" $((high - 1)) >>"$T_DIR/kafka_admin.log" 2>&1 ||
    t_fail "delete-records: $(tail -n 1 "$T_DIR/kafka_admin.log")"
t_log "deleted records $stored..$((high - 2)) of $TOPIC, as a retention would"
t_start_sink "${SINK_OPTS[@]}"
gen_more 50 $((T_SEED % 1000 + 500001)) # a batch after the loss shows the jump
t_repair_expired "$c"
t_reconcile "$c"
n=$(t_sql "$CDB" "SELECT max(seq) FROM lt.outbox")
t_assert_eq "$n|$n|$n" "$(t_sql "$T_PDB" "SELECT count(*), count(DISTINCT seq), max(seq)
    FROM lt.event_log WHERE commune_code = '$c'")" \
    "province event log count|distinct|max: every sequence applied once, none missing"
