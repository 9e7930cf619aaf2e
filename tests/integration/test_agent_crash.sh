#!/usr/bin/env bash
# shellcheck disable=SC2119 # t_start_sink: its arguments are optional
# The agent dies by SIGKILL while the commune writes: once right after
# producing its 5th batch (crash point agent.after_produce:5, the batch not
# yet acknowledged), once by a plain kill -9 after a random delay.  Each
# restart resends what Kafka had not acknowledged; the sink skips what it
# already applied, and every event is applied exactly once.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

EVENTS=10000
RATE=1000 # events/s: the generator runs ~10 s, the crashes happen meanwhile
t_setup 12 1
c=${T_COMMUNES[0]}
CDB=$(t_cdb "$c")
AGENT_OPTS=(-o agent.batch_max_events=50)

# outbox_state - "numbered|acknowledged|rows"
outbox_state() {
    t_sql "$CDB" "SELECT count(seq), count(sent_at), count(*) FROM lt.outbox"
}

t_start_sink
t_wait_sink_ready 1
t_gen_bg "$c" "$EVENTS" -w 4 -r "$RATE"
wait_until "t_rows_ge $c 1" 30 "first outbox rows"

# ---- 1. crash right after producing the 5th batch
t_start_agent "$c" LT_CRASH_POINT=agent.after_produce:5 "${AGENT_OPTS[@]}"
t_wait_exit "agent_$c" 60
t_assert_eq 137 "${T_EXIT[agent_$c]}" "agent exit status with LT_CRASH_POINT=agent.after_produce:5"
state=$(outbox_state)
t_log "after the crash: outbox numbered|acknowledged|rows = $state"
IFS='|' read -r numbered acked _ <<<"$state"
t_assert_cmp "$numbered" -gt 0 "rows numbered before the crash"
t_assert_cmp "$acked" -lt "$numbered" "not every numbered row acknowledged (batch 5 was in flight)"

# ---- 2. restart, then kill -9 at a random moment while it delivers and the
# generator runs.  (A restarted agent needs about a second for its first
# acknowledgement: wait for one, so the kill lands mid-stream, not mid-start.)
t_start_agent "$c" "${AGENT_OPTS[@]}"
acked_some() { [ "$(t_sql "$CDB" "SELECT count(sent_at) FROM lt.outbox")" -gt "$acked" ]; }
wait_until acked_some 60 "the restarted agent's first acknowledgement"
delay_ms=$((RANDOM % 1500))
t_log "agent restarted and delivering; kill -9 in $delay_ms ms (seed $T_SEED)"
sleep "$((delay_ms / 1000)).$(printf '%03d' $((delay_ms % 1000)))"
t_check_procs
t_running "gen_$c" || t_fail "the generator ended before the kill: the crash would not be mid-run"
before_kill=$(outbox_state)
t_kill9 "agent_$c"
t_log "agent killed (status ${T_EXIT[agent_$c]}); outbox numbered|acknowledged|rows = $before_kill"
IFS='|' read -r numbered acked _ <<<"$before_kill"
t_assert_cmp "$acked" -gt 0 "rows acknowledged before the kill"
# What Kafka acknowledged reaches the province while the agent is down.
wait_until "t_applied_ge $c $acked" 60 "the $acked acknowledged events applied at the province"
t_assert_cmp "$(t_applied "$c")" -ge "$acked" "events applied while the agent is down"
t_running "gen_$c" || t_log "note: the generator finished while the agent was down"

# ---- 3. restart for good and drain
t_start_agent "$c" "${AGENT_OPTS[@]}"
t_wait_gen "$c" 180
t_wait_drained 180 "$c"

t_assert_eq "$EVENTS|$EVENTS|0|$EVENTS" "$(t_outbox "$c")" "outbox numbered|max_seq|unsent|rows"
t_assert_exactly_once "$c" "$EVENTS"
t_assert_no_quarantine "$c"
t_reconcile "$c"
# Resent batches may or may not have reached Kafka twice: count, do not require.
t_log "province: events_applied|batches_applied|duplicates_skipped = $(t_sql "$T_PDB" \
    "SELECT events_applied, batches_applied, duplicates_skipped FROM lt.commune_progress
     WHERE commune_code = '$c'")"
t_assert_eq "$EVENTS" "$(t_sql "$T_PDB" "SELECT events_applied FROM lt.commune_progress
    WHERE commune_code = '$c'")" "commune_progress.events_applied (no event counted twice)"
restarts=$(grep -c 'msg="agent started"' "$T_DIR/agent_$c.log" || true)
t_assert_eq 3 "$restarts" "agent starts logged"

t_stop "agent_$c"
t_stop sink
t_assert_log_clean sink
t_assert_log_clean "agent_$c"
