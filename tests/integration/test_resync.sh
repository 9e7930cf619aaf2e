#!/usr/bin/env bash
# shellcheck disable=SC2119 # t_start_sink: its arguments are optional
# Repair without ever opening a commune database: the province asks on the
# commune's control topic, the agent answers between live batches, the sink
# applies the answer and the digest that follows says equal.
#   1. events the province lacks (a gap): repair asks for the range;
#   2. a province row edited by hand: repair --all sends every state again,
#      which wins over the edit (the commune's state is the truth);
#   3. a state the commune no longer holds: the manifest lets the province
#      drop it;
#   4. named records only (repair --entity): one edited at the province is
#      sent again, one the commune no longer holds is dropped;
#   5. the province loses a commune's entities: snapshot re-sends them all
#      while live traffic goes on.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

t_setup 42 1
c=${T_COMMUNES[0]}
CDB=$(t_cdb "$c")
printf '\n[kafka]\nbootstrap.servers = %s\n' "$BROKERS" >>"$T_DIR/reconcile.ini"
R() { "$RECONCILE" -c "$T_DIR/reconcile.ini" "$@"; }
AGENT_OPTS=(-o agent.digest_every_events=100 -o agent.digest_every_s=2
            -o agent.resync_max_events_per_s=20000)
repair() { # ARGS... - repair must exit 0 within its timeout
    local st=0
    R repair --commune "$c" --timeout 90 "$@" >>"$T_DIR/repair.log" 2>&1 || st=$?
    [ "$st" = 0 ] || t_fail "repair $* exited $st: $(tail -n 5 "$T_DIR/repair.log")"
    t_log "ok: repair $*: $(tail -n 1 "$T_DIR/repair.log")"
}
entity_count() {
    t_sql "$T_PDB" "SELECT count(*) FROM lt.entity WHERE commune_code = '$c'"
}

t_start_sink
t_start_agent "$c" "${AGENT_OPTS[@]}"
t_wait_sink_ready 1
t_gen "$c" 1000
t_wait_drained 60 "$c"

# ---- 1. a gap: 40 events refused by a stricter sink, then 60 applied
t_stop sink
t_start_sink -o sink.allow_integrity_only=false
t_gen "$c" 40 -s "$((T_SEED % 100000 + 2))"
wait_until "[ \$(t_sql $T_PDB \"SELECT count(*) FROM lt.quarantine\") -ge 1 ]" 30 "a batch quarantined"
t_stop sink
t_start_sink
t_gen "$c" 60 -s "$((T_SEED % 100000 + 3))"
wait_until "t_unsent_is $c 0" 30 "all sent"
wait_until "[ \$(t_sql $T_PDB \"SELECT count(*) FROM lt.seq_gap WHERE resolved_at IS NULL\") = 1 ]" 30 \
    "the gap recorded at the province"
repair
t_assert_eq 0 "$(t_sql "$T_PDB" "SELECT count(*) FROM lt.seq_gap WHERE resolved_at IS NULL")" \
    "open gaps after repair"
t_reconcile "$c"

# ---- 2. a province row edited by hand
id=$(t_sql "$T_PDB" "SELECT entity_id FROM lt.entity WHERE commune_code = '$c' AND NOT deleted
    ORDER BY entity_id LIMIT 1")
t_sql "$T_PDB" "UPDATE lt.entity SET version = version + 100, payload = '{}'
    WHERE commune_code = '$c' AND entity_id = '$id'" >/dev/null
R verify --deep "$c" >/dev/null && t_fail "verify --deep does not see the edit"
repair --all
R verify --deep "$c" >/dev/null || t_fail "verify --deep after repair --all"
t_reconcile "$c"

# ---- 3. a state removed at the commune without an outbox row
gone=$(t_sql "$CDB" "SELECT entity_id FROM lt.entity_state ORDER BY entity_id DESC LIMIT 1")
t_stop "agent_$c"
t_sql "$CDB" "DELETE FROM lt.entity_state WHERE entity_id = '$gone'" >/dev/null
t_start_agent "$c" "${AGENT_OPTS[@]}"
wait_until "grep -q 'the digest did not match the entity states' $T_DIR/agent_$c.log" 30 \
    "the agent noticing its digest no longer matches"
wait_until "[ \"\$(t_sql $T_PDB \"SELECT equal FROM lt.digest_check WHERE commune_code = '$c'
    ORDER BY checked_at DESC LIMIT 1\")\" = f ]" 30 "the province seeing the difference"
repair
t_assert_eq 1 "$(t_sql "$T_PDB" "SELECT count(*) FROM lt.resync_removed WHERE entity_id = '$gone'")" \
    "the state the commune dropped, dropped at the province"
t_assert_eq 0 "$(t_sql "$T_PDB" "SELECT count(*) FROM lt.entity WHERE entity_id = '$gone'")" \
    "rows of it left at the province"

# ---- 4. named records only: one edited at the province, one gone at the commune
IFS='|' read -r xt x yt y <<<"$(t_sql "$CDB" "SELECT a.entity_type, a.entity_id, b.entity_type,
    b.entity_id FROM lt.entity_state a, lt.entity_state b WHERE NOT a.deleted AND NOT b.deleted
    AND a.bucket <> b.bucket ORDER BY a.entity_id, b.entity_id LIMIT 1")"
t_stop "agent_$c"
t_sql "$CDB" "DELETE FROM lt.entity_state WHERE entity_type = '$yt' AND entity_id = '$y'" >/dev/null
t_sql "$T_PDB" "UPDATE lt.entity SET version = version + 100, payload = '{}'
    WHERE commune_code = '$c' AND entity_type = '$xt' AND entity_id = '$x'" >/dev/null
t_start_agent "$c" "${AGENT_OPTS[@]}"
wait_until "[ \"\$(t_sql $T_PDB \"SELECT equal FROM lt.digest_check WHERE commune_code = '$c'
    ORDER BY checked_at DESC LIMIT 1\")\" = f ]" 30 "the province seeing the difference"
repair --entity "$xt/$x" --entity "$yt/$y" --entity "civil_record/$c-nobody-has-this"
t_assert_eq "$(t_sql "$CDB" "SELECT version || ' ' || encode(content_hash, 'hex') FROM lt.entity_state
    WHERE entity_type = '$xt' AND entity_id = '$x'")" "$(t_sql "$T_PDB" "SELECT version || ' ' ||
    encode(content_hash, 'hex') FROM lt.entity WHERE commune_code = '$c' AND entity_type = '$xt'
    AND entity_id = '$x'")" "the record edited at the province, as the commune holds it"
t_assert_eq "0|1" "$(t_sql "$T_PDB" "SELECT (SELECT count(*) FROM lt.entity WHERE entity_id = '$y'),
    (SELECT count(*) FROM lt.resync_removed WHERE entity_id = '$y')")" \
    "the record the commune no longer holds: rows left|recorded as removed"
R verify --deep "$c" >/dev/null || t_fail "verify --deep after repair --entity"
t_reconcile "$c"

# ---- 5. the province loses the commune's entities; snapshot under live traffic
held=$(entity_count)
t_sql "$T_PDB" "DELETE FROM lt.civil_record WHERE commune_code = '$c';
    DELETE FROM lt.dossier_history WHERE commune_code = '$c';
    DELETE FROM lt.dossier WHERE commune_code = '$c';
    DELETE FROM lt.entity WHERE commune_code = '$c';
    DELETE FROM lt.digest_bucket WHERE commune_code = '$c'" >/dev/null
t_gen_bg "$c" 2000 -w 2 -r 200 -s "$((T_SEED % 100000 + 4))"
t_snapshot "$c" 120
t_wait_gen "$c" 60
t_wait_drained 60 "$c"
t_assert_cmp "$(entity_count)" -ge "$held" "entities at the province after the snapshot"
R verify --deep "$c" >/dev/null || t_fail "verify --deep after the snapshot"
t_reconcile "$c"
t_stop "agent_$c"
t_stop sink
