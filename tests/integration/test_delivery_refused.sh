#!/usr/bin/env bash
# Kafka refuses one batch for good while it takes the batches behind it: the
# topic's max.message.bytes is lowered under a running agent, and a ~1 MB
# outbox row is numbered (seq N) before the agent learns the new limit.
#   - the agent never counts N+1.. as sent (acked_seq stays N-1), says which
#     sequence is stuck and why, and exits non-zero;
#   - the province applied N+1.. and records the gap N..N;
#   - once the limit is raised (provision again) and the agent restarts, N
#     arrives late and fills the gap exactly once; verify says EQUAL.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

t_setup 22 1
c=${T_COMMUNES[0]}
CDB=$(t_cdb "$c")
# librdkafka must not pack the big batch with small ones into one record batch,
# and the batch behind it must go out before the refusal comes back.
AGENT_OPTS=(-o kafka.batch.size=100000 -o agent.linger_ms=0)
provision() { t_run sink_admin "$SINK" -c "$T_DIR/sink.ini" "$@" provision "$c"; }
topic_limit() {
    grep -o 'max.message.bytes [0-9]*' "$T_DIR/sink_admin.log" | tail -n 1 | cut -d' ' -f2
}

t_start_sink
t_wait_sink_ready 1
t_start_agent "$c" "${AGENT_OPTS[@]}"
wait_until "grep -q 'msg=\"agent started\"' $T_DIR/agent_$c.log" 30 "agent started"
t_gen "$c" 20
t_wait_drained 60 "$c"
t_assert_eq 4194304 "$(topic_limit)" "topic max.message.bytes set by provision"

# ---- 1. the topic's limit drops under the running agent; a big row and three
# small ones are committed together
provision -o sink.max_message_bytes=262144
t_assert_eq 262144 "$(topic_limit)" "topic max.message.bytes lowered by provision"
t_sql "$CDB" "BEGIN;
INSERT INTO lt.outbox (entity_type, entity_id, version, op, occurred_at, payload)
SELECT entity_type, entity_id || '-big', 1, op, occurred_at,
       jsonb_set(payload, '{history,0,note}',
                 to_jsonb((SELECT string_agg(md5(g::text || random()::text), '')
                           FROM generate_series(1, 30000) g)))
FROM lt.outbox WHERE entity_type = 'dossier' AND payload ? 'history' ORDER BY id LIMIT 1;
INSERT INTO lt.outbox (entity_type, entity_id, version, op, occurred_at, payload)
SELECT entity_type, entity_id || '-small' || g, 1, op, occurred_at, payload
FROM lt.outbox, generate_series(1, 3) g
WHERE id = (SELECT min(id) FROM lt.outbox WHERE op = 'upsert');
COMMIT;" >/dev/null
big_seq=21

t_wait_exit "agent_$c" 120
t_assert_eq 1 "${T_EXIT[agent_$c]}" "agent exit status after a refusal that cannot heal"
grep -q "msg=\"an event is too large for the commune's topic.*seq=$big_seq " "$T_DIR/agent_$c.log" ||
    t_fail "the agent does not say which sequence is stuck: $(grep level=error "$T_DIR/agent_$c.log")"
t_log "ok: the agent names the stuck sequence $big_seq"
t_assert_eq "$((big_seq - 1))" "$(t_sql "$CDB" "SELECT acked_seq FROM lt.agent_state")" \
    "agent_state.acked_seq (every seq <= it is in Kafka)"
t_assert_eq "4|$big_seq|$((big_seq + 3))" "$(t_sql "$CDB" "SELECT count(*), min(seq), max(seq)
    FROM lt.outbox WHERE sent_at IS NULL")" "unsent outbox rows count|min|max"
wait_until "t_applied_ge $c 23" 60 "the batch behind the refused one applied at the province"
t_assert_eq "$big_seq|$big_seq" "$(t_sql "$T_PDB" "SELECT from_seq, to_seq FROM lt.seq_gap
    WHERE commune_code = '$c' AND resolved_at IS NULL")" "open gap at the province"

# ---- 2. the limit goes back up; the restarted agent resends from the gap
provision
t_assert_eq 4194304 "$(topic_limit)" "topic max.message.bytes restored by provision"
t_start_agent "$c" "${AGENT_OPTS[@]}"
t_wait_drained 120 "$c"
t_assert_eq "24|24|1|24" "$(t_sql "$T_PDB" "SELECT count(*), count(DISTINCT seq), min(seq), max(seq)
    FROM lt.event_log WHERE commune_code = '$c'")" "event_log count|distinct|min|max"
t_assert_eq 0 "$(t_sql "$T_PDB" "SELECT count(*) FROM lt.seq_gap WHERE commune_code = '$c'
    AND resolved_at IS NULL")" "open gaps after the late event"
t_assert_eq "24|24" "$(t_sql "$T_PDB" "SELECT last_seq, events_applied FROM lt.commune_progress
    WHERE commune_code = '$c'")" "commune_progress last_seq|events_applied"
grep -q 'msg="gap filled"' "$T_DIR/sink.log" || t_fail "the sink does not log the gap it filled"
grep -q 'msg="batch already applied, skipped".*first_seq=22 last_seq=24' "$T_DIR/sink.log" ||
    t_fail "the resent batch 22..24 is skipped without a trace"
t_log "ok: the sink logs the filled gap and the skipped resend"
t_assert_no_quarantine "$c"
t_reconcile "$c"
t_stop "agent_$c"
t_stop sink
t_assert_log_clean sink
