#!/usr/bin/env bash
# shellcheck disable=SC2119 # t_start_sink: its arguments are optional
# PostgreSQL errors are told apart: what waiting cannot heal ends the daemon
# with a clear message and a non-zero exit (no such database, no such role, a
# schema never migrated, a table gone while running); an outage is waited out
# and work resumes within seconds of the server's return; data the database
# refuses (a duplicate key) quarantines that one message, not the commune.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

t_setup 24 1
c=${T_COMMUNES[0]}
CDB=$(t_cdb "$c")

# expect_refusal NAME PATTERN CMD... - CMD must exit 1 within 20 s, with an
# error line matching PATTERN in its log.
expect_refusal() {
    local name=$1 pattern=$2
    shift 2
    t_spawn "$name" job "$@"
    t_wait_exit "$name" 20
    t_assert_eq 1 "${T_EXIT[$name]}" "$name exit status"
    grep 'level=error' "$T_DIR/$name.log" | grep -q -- "$pattern" ||
        t_fail "$name: no error line matching '$pattern' in $T_DIR/$name.log"
    t_log "ok: $name says: $(grep 'level=error' "$T_DIR/$name.log" | grep -o -- "$pattern" | head -n 1)"
}

# ---- 1. refusals at start: nothing to wait for
expect_refusal agent_nodb 'database \\"lt_no_such_db\\" does not exist' \
    "$AGENT" -c "$T_DIR/agent_$c.ini" -o "agent.postgres=$(lt_pg_conninfo lt_no_such_db)" run
expect_refusal sink_norole 'role \\"lt_no_such_role\\" does not exist' \
    "$SINK" -c "$T_DIR/sink.ini" \
    -o "sink.postgres=$(lt_pg_conninfo "$T_PDB") user=lt_no_such_role" run
t_fresh_db "lt_t_${T_NAME}_empty"
expect_refusal sink_nomigrate 'run lienthong-sink migrate' \
    "$SINK" -c "$T_DIR/sink.ini" -o "sink.postgres=$(lt_pg_conninfo "lt_t_${T_NAME}_empty")" run

# ---- 2. an outage: both daemons wait, and resume within seconds of its end
t_start_sink
t_start_agent "$c"
t_wait_sink_ready 1
t_gen "$c" 500
t_wait_drained 60 "$c"
t_pg stop
t_log "postgres stopped; waiting 15 s"
sleep 15
t_check_procs
t_pg start
back=$SECONDS
t_log "postgres back"
t_gen "$c" 300 -s "$((T_SEED % 100000 + 2))"
wait_until "t_applied_ge $c 800" 30 "events written after the outage applied"
resumed=$((SECONDS - back))
t_assert_cmp "$resumed" -le 8 "seconds from the server's return to the new events applied"
grep -q 'msg="province database back"' "$T_DIR/sink.log" || t_fail "the sink does not log its reconnection"
grep -q 'msg="commune database back"' "$T_DIR/agent_$c.log" || t_fail "the agent does not log its reconnection"
t_wait_drained 60 "$c"

# ---- 3. data the database refuses: that message alone is quarantined
last=$(t_sql "$T_PDB" "SELECT last_seq FROM lt.commune_progress WHERE commune_code = '$c'")
t_sql "$T_PDB" "INSERT INTO lt.event_log (commune_code, seq, entity_type, entity_id, version, op,
    occurred_at, recorded_at) VALUES ('$c', $((last + 1)), 'dossier', 'planted', 1, 'upsert',
    now(), now())" >/dev/null
t_gen "$c" 200 -s "$((T_SEED % 100000 + 3))"
wait_until "[ \$(t_sql $T_PDB \"SELECT count(*) FROM lt.quarantine WHERE reason_code = 'refused_by_database'\") -ge 1 ]" \
    30 "the refused message quarantined"
t_assert_eq 1 "$(t_sql "$T_PDB" "SELECT count(*) FROM lt.quarantine WHERE reason_code = 'refused_by_database'
    AND reason LIKE '%duplicate key%' AND commune_code = '$c'")" "quarantined for a duplicate key"
t_gen "$c" 100 -s "$((T_SEED % 100000 + 4))"
wait_until "t_unsent_is $c 0" 30 "the later events sent"
max=$(t_sql "$CDB" "SELECT max(seq) FROM lt.outbox")
wait_until "[ \$(t_sql $T_PDB \"SELECT coalesce(max(seq), 0) FROM lt.event_log WHERE commune_code = '$c'\") = $max ]" \
    30 "the messages behind the refused one applied"
t_running sink || t_fail "the sink died on refused data"
grep -q 'msg="province database refused a message.s data: quarantined"' "$T_DIR/sink.log" ||
    t_fail "the sink does not say it quarantined refused data"
t_log "ok: refused data quarantined one message; the rest applied"

# ---- 4. a table gone while running: both daemons stop, saying why
t_sql "$T_PDB" "ALTER TABLE lt.event_log RENAME TO event_log_gone" >/dev/null
t_sql "$CDB" "ALTER TABLE lt.outbox RENAME TO outbox_gone" >/dev/null
t_wait_exit "agent_$c" 30
t_assert_eq 1 "${T_EXIT[agent_$c]}" "agent exit status without its outbox table"
grep 'level=error' "$T_DIR/agent_$c.log" | grep -q '42P01' || t_fail "the agent does not name the missing table"
t_sql "$CDB" "ALTER TABLE lt.outbox_gone RENAME TO outbox" >/dev/null
t_start_agent "$c"
t_gen "$c" 50 -s "$((T_SEED % 100000 + 5))"
t_wait_exit sink 60
t_assert_eq 1 "${T_EXIT[sink]}" "sink exit status without lt.event_log"
grep 'level=error' "$T_DIR/sink.log" | grep -q 'run lienthong-sink migrate' ||
    t_fail "the sink does not say what to do"
t_log "ok: both daemons stop on a missing table, with a hint"
t_sql "$T_PDB" "ALTER TABLE lt.event_log_gone RENAME TO event_log" >/dev/null
t_stop "agent_$c"
