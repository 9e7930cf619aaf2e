#!/usr/bin/env bash
# shellcheck disable=SC2119 # t_start_sink: its arguments are optional
# A transaction that inserted an outbox row stays open while later
# transactions (higher ids) commit: the later rows are numbered and applied
# at once, and the held row, once committed, gets a HIGHER sequence than
# them (lower id, higher seq) and is applied too - never skipped.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LATER=300
t_setup 08 1
c=${T_COMMUNES[0]}
CDB=$(t_cdb "$c")
HELD_ID="$c-held-1"

t_start_sink
t_start_agent "$c"
t_wait_sink_ready 1

# The held transaction: psql reading its statements from a FIFO, so the
# test decides when it commits (no sleeps racing the agent).
mkfifo "$T_DIR/held.fifo"
# shellcheck disable=SC2016 # $1..$3 are bash -c's arguments
t_spawn held job env PGAPPNAME=lt_test_held PGCONNECT_TIMEOUT=10 bash -c 'exec psql -X -q \
    -v ON_ERROR_STOP=1 -At -h 127.0.0.1 -p "$1" -U postgres -d "$2" <"$3"' \
    psql "$LT_PG_PORT" "$CDB" "$T_DIR/held.fifo"
exec 7>"$T_DIR/held.fifo"
printf '%s\n' "BEGIN;" \
    "INSERT INTO lt.outbox (entity_type, entity_id, version, op, occurred_at, payload)
     VALUES ('civil_record', '$HELD_ID', 1, 'delete', now(), NULL) RETURNING id;" >&7

held_open() {
    [ "$(t_sql postgres "SELECT count(*) FROM pg_stat_activity
        WHERE application_name = 'lt_test_held' AND datname = '$CDB'
          AND state = 'idle in transaction' AND backend_xid IS NOT NULL")" = 1 ]
}
wait_until held_open 30 "held transaction open with its outbox row inserted"
t_log "held transaction open: one outbox row inserted, not committed"

# Later transactions (higher ids) commit while it stays open.
t_gen "$c" "$LATER" -w 4 -H 0
t_log "generator: $(tail -n 1 "$T_DIR/gen_$c.log")"
t_wait_drained 120 "$c"
held_open || t_fail "the held transaction ended too early"
t_log "ok: held transaction still open after the later rows were applied"
t_assert_eq "$LATER|$LATER|0|$LATER" "$(t_outbox "$c")" \
    "outbox numbered|max_seq|unsent|rows seen outside the held transaction"
t_assert_exactly_once "$c" "$LATER"
t_assert_eq 0 "$(t_sql "$T_PDB" "SELECT count(*) FROM lt.event_log
    WHERE commune_code = '$c' AND entity_id = '$HELD_ID'")" "held row at the province before commit"
t_reconcile "$c"

# Commit it.
printf 'COMMIT;\n' >&7
exec 7>&-
t_wait_exit held 30
t_assert_eq 0 "${T_EXIT[held]}" "held psql session exit status"
t_wait_drained 60 "$c"

t_assert_eq "$((LATER + 1))|$((LATER + 1))|0|$((LATER + 1))" "$(t_outbox "$c")" \
    "outbox numbered|max_seq|unsent|rows after commit"
held=$(t_sql "$CDB" "SELECT id, seq FROM lt.outbox WHERE entity_id = '$HELD_ID'")
held_id=${held%|*} held_seq=${held#*|}
others=$(t_sql "$CDB" "SELECT min(id), max(seq) FROM lt.outbox WHERE entity_id <> '$HELD_ID'")
min_other_id=${others%|*} max_other_seq=${others#*|}
t_assert_cmp "$held_id" -lt "$min_other_id" "held row id below every later row's id"
t_assert_cmp "$held_seq" -gt "$max_other_seq" "held row seq above every later row's seq"
t_assert_eq "$((LATER + 1))" "$held_seq" "held row seq"
t_assert_eq "$held_seq|civil_record|1|delete" "$(t_sql "$T_PDB" "SELECT seq, entity_type, version, op
    FROM lt.event_log WHERE commune_code = '$c' AND entity_id = '$HELD_ID'")" \
    "held row at the province (seq|type|version|op)"
t_assert_eq "t" "$(t_sql "$T_PDB" "SELECT deleted FROM lt.entity
    WHERE commune_code = '$c' AND entity_id = '$HELD_ID'")" "held row's entity is a tombstone"
t_assert_exactly_once "$c" "$((LATER + 1))"
t_assert_no_quarantine "$c"
t_reconcile "$c"

t_stop agent_"$c"
t_stop sink
t_assert_log_clean "agent_$c"
t_assert_log_clean sink
