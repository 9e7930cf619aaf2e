#!/usr/bin/env bash
# shellcheck disable=SC2119 # t_start_sink: its arguments are optional
# lienthong-reconcile verify while the commune still has events on their way:
# the province is compared up to the last sequence N it applied, the verdict
# is PENDING (exit 3) "equal up to seq N, M events not yet sent", and a real
# difference up to N is still DIFFERENT (exit 1).  M counts the rows numbered
# but not acknowledged by Kafka (an agent that cannot reach the broker, then
# killed) and the rows not numbered yet, never a refused row.  Events sent but
# not yet applied (sink stopped) are PENDING too.  Once drained: EQUAL, exit 0.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

EVENTS=2400 # written at RATE while the agent is stopped midway: later versions
RATE=150    # of entities the province already holds stay at the commune
t_setup 40 1
c=${T_COMMUNES[0]}
CDB=$(t_cdb "$c")

# verify - run lienthong-reconcile verify; sets V_OUT and V_RC.
verify() {
    V_RC=0
    V_OUT=$("$RECONCILE" -c "$T_DIR/reconcile.ini" verify "$c" "$(lt_pg_conninfo "$CDB")" 2>&1) ||
        V_RC=$?
    printf '%s\n' "$V_OUT" >>"$T_DIR/reconcile.log"
}

# assert_verify STATUS TEXT WHAT - verify exits STATUS and says TEXT.
assert_verify() {
    verify
    if [ "$V_RC" != "$1" ] || ! grep -qF -- "$2" <<<"$V_OUT"; then
        printf '%s\n' "$V_OUT" >&2
        t_fail "verify $3: expected exit $1 and \"$2\", got exit $V_RC"
    fi
    t_log "ok: verify $3: exit $V_RC, $(tail -n 1 <<<"$V_OUT")"
}

province_last_seq() {
    t_sql "$T_PDB" "SELECT coalesce(max(seq), 0) FROM lt.event_log WHERE commune_code = '$c'"
}
sent() { t_sql "$CDB" "SELECT count(sent_at) FROM lt.outbox"; }
numbered_unsent() {
    t_sql "$CDB" "SELECT count(*) FROM lt.outbox WHERE seq IS NOT NULL AND sent_at IS NULL"
}
unnumbered() {
    t_sql "$CDB" "SELECT count(*) FROM lt.outbox WHERE seq IS NULL AND rejected_at IS NULL"
}
rejected() { t_sql "$CDB" "SELECT count(rejected_at) FROM lt.outbox"; }
applied_all_sent() { [ "$(t_applied "$c")" = "$(sent)" ]; }
bad_agent_done() { [ "$(numbered_unsent)" -ge 100 ] && [ "$(rejected)" = 1 ]; }

# bump_version TYPE ID DELTA - edit the province's copy of one entity by hand.
bump_version() {
    t_sql "$T_PDB" "UPDATE lt.entity SET version = version + ($3)
        WHERE commune_code = '$c' AND entity_type = '$1' AND entity_id = '$2'" >/dev/null
}

# ---- 1. part of the activity reaches the province, then the agent stops
t_start_sink
t_start_agent "$c"
t_wait_sink_ready 1
t_gen_bg "$c" "$EVENTS" -w 2 -r "$RATE"
wait_until "t_applied_ge $c 300" 60 "300 events applied"
t_stop "agent_$c"
wait_until applied_all_sent 60 "every acknowledged event applied"
t_running "gen_$c" || t_fail "the generator ended before the agent stopped (raise EVENTS)"

# ---- 2. an agent that cannot reach Kafka numbers rows it never sends, and
# refuses one invalid row; killed, it leaves them numbered but unsent.
t_sql "$CDB" "INSERT INTO lt.outbox (entity_type, entity_id, version, op, occurred_at, payload)
    VALUES ('dossier', 'refused-1', 1, 'upsert', now(), '{\"noSuchField\": 1}')" >/dev/null
t_start_agent "$c" -o kafka.bootstrap.servers=127.0.0.1:1
wait_until bad_agent_done 60 "100 rows numbered without Kafka and the invalid row refused"
t_kill9 "agent_$c"
t_wait_gen "$c" 120
# and rows nobody numbered yet, of entities that begin after N
t_gen "$c" 100 -w 1 -s "$(((T_SEED + 7) % 100000 + 100001))"

N=$(province_last_seq)
M=$(t_sql "$CDB" "SELECT count(*) FROM lt.outbox WHERE sent_at IS NULL AND rejected_at IS NULL")
t_assert_eq "$N" "$(sent)" "province last seq = rows acknowledged by Kafka"
t_assert_cmp "$(numbered_unsent)" -gt 0 "rows numbered but not sent"
t_assert_cmp "$(unnumbered)" -gt 0 "rows not numbered yet"
t_assert_eq "$M" "$(($(numbered_unsent) + $(unnumbered)))" "M = numbered-unsent + unnumbered rows"
assert_verify 3 "equal up to seq $N, $M events not yet sent" "with $M events at the commune"

# ---- 3. while pending, a real difference up to N is DIFFERENT
# an entity whose newest version the province holds
IFS='|' read -r type id <<<"$(t_sql "$CDB" "SELECT entity_type, entity_id FROM lt.entity_state
    WHERE seq <= $N ORDER BY seq LIMIT 1")"
bump_version "$type" "$id" 1
assert_verify 1 "DIFFERENT up to seq $N: entities: 1 differ" \
    "after editing $type/$id at the province"
bump_version "$type" "$id" -1
assert_verify 3 "equal up to seq $N, $M events not yet sent" "after undoing the edit"

# an entity with versions both below and above N: compared as of N
IFS='|' read -r type id <<<"$(t_sql "$CDB" "SELECT s.entity_type, s.entity_id FROM lt.entity_state s
    WHERE s.seq > $N AND EXISTS (SELECT 1 FROM lt.outbox o WHERE o.seq <= $N
        AND (o.entity_type, o.entity_id) = (s.entity_type, s.entity_id))
    ORDER BY s.seq LIMIT 1")"
[ -n "$id" ] || t_fail "no entity changed both before and after seq $N (raise EVENTS)"
bump_version "$type" "$id" 1
assert_verify 1 "DIFFERENT up to seq $N: entities: 1 differ" \
    "after editing $type/$id (changed again after seq $N) at the province"
bump_version "$type" "$id" -1

# an event missing from the province's log
t_sql "$T_PDB" "CREATE TABLE lt.t_saved_event AS SELECT * FROM lt.event_log
    WHERE commune_code = '$c' AND seq = 1; DELETE FROM lt.event_log
    WHERE commune_code = '$c' AND seq = 1" >/dev/null
assert_verify 1 "events: of seq 1..$N the commune numbered $N and the province applied $((N - 1))" \
    "without seq 1 in the province's event log"
t_sql "$T_PDB" "INSERT INTO lt.event_log SELECT * FROM lt.t_saved_event;
    DROP TABLE lt.t_saved_event" >/dev/null
assert_verify 3 "equal up to seq $N, $M events not yet sent" "after restoring seq 1"

# ---- 4. everything sent, the sink stopped: sent but not yet applied
t_stop sink
t_start_agent "$c"
wait_until "t_unsent_is $c 0" 120 "every row acknowledged by Kafka"
K=$(($(t_sql "$CDB" "SELECT count(seq) FROM lt.outbox") - N))
assert_verify 3 "equal up to seq $N, 0 events not yet sent, $K sent but not yet applied" \
    "with the sink stopped"

# ---- 5. drained: EQUAL, exit 0 - and a hand edit is DIFFERENT
t_start_sink
t_wait_drained 120 "$c"
t_assert_eq 1 "$(rejected)" "refused rows (not pending)"
t_reconcile "$c"
verify
grep -q "not yet" <<<"$V_OUT" && t_fail "EQUAL with events still pending: $V_OUT"
IFS='|' read -r type id <<<"$(t_sql "$T_PDB" "SELECT entity_type, entity_id FROM lt.entity
    WHERE commune_code = '$c' ORDER BY seq DESC LIMIT 1")"
bump_version "$type" "$id" 1
assert_verify 1 "entities: 1 differ" "after editing $type/$id at the province, drained"

t_stop "agent_$c"
t_stop sink
t_assert_log_clean sink
