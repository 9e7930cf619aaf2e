#!/usr/bin/env bash
# shellcheck disable=SC2119 # t_start_sink: its arguments are optional
# The province database is restored from an older dump (pg_dump / pg_restore)
# while the topics' retention has meanwhile deleted part of what it lacks:
# the restored offsets make the sink read again what Kafka still holds, the
# deleted records show as a gap, and repair fetches them from the commune.
# `report` shows the difference, repair converges, verify agrees.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KADMIN="$LT_TEST_BIN_DIR/tests/lt-test-kafka-admin"
[ -x "$KADMIN" ] || t_env_fail "$KADMIN is missing: build first (tests/run.sh builds)"
command -v pg_dump >/dev/null || t_env_fail "pg_dump not found (deploy/install-deps.sh installs it)"
t_setup 56 1
c=${T_COMMUNES[0]}
CDB=$(t_cdb "$c")
TOPIC=$(t_topic "$c")
printf '\n[kafka]\nbootstrap.servers = %s\n' "$BROKERS" >>"$T_DIR/reconcile.ini"
R() { "$RECONCILE" -c "$T_DIR/reconcile.ini" "$@"; }
AGENT_OPTS=(-o agent.digest_every_events=100 -o agent.digest_every_s=1 -o agent.batch_max_events=50
            -o agent.resync_max_events_per_s=20000)
gen_more() { # N SEED - N more events from another desk seed
    t_run "gen_$c" "$GEN" -d "$(lt_pg_conninfo "$CDB")" -c "$c" -n "$1" -s "$2"
}
applied() { t_sql "$T_PDB" "SELECT count(*) FROM lt.event_log WHERE commune_code = '$c'"; }

t_start_sink
t_start_agent "$c" "${AGENT_OPTS[@]}"
t_wait_sink_ready 1
t_gen "$c" 800
t_wait_drained 60 "$c"
pg_dump -Fc -f "$T_DIR/province.dump" "$(lt_pg_conninfo "$T_PDB")" ||
    t_fail "pg_dump of the province database"
dumped=$(applied)
t_log "province dumped with $dumped events applied"

gen_more 1200 $((T_SEED % 1000 + 200001))
t_wait_drained 60 "$c"
total=$(t_sql "$CDB" "SELECT max(seq) FROM lt.outbox")
t_stop sink

# The restore, and meanwhile the topic's retention deleted half of what the
# dump lacks.
lt_psql postgres -c "DROP DATABASE \"$T_PDB\"" >/dev/null && t_fresh_db "$T_PDB"
pg_restore -d "$(lt_pg_conninfo "$T_PDB")" "$T_DIR/province.dump" ||
    t_fail "pg_restore of the province database"
t_assert_eq "$dumped" "$(applied)" "events applied in the restored database"
stored=$(t_sql "$T_PDB" "SELECT next_offset FROM lt.kafka_offset WHERE topic = '$TOPIC'")
high=$(t_high_watermark "$TOPIC")
cut=$(( (stored + high) / 2 ))
"$KADMIN" "$BROKERS" delete-records "$TOPIC" "$cut" >>"$T_DIR/kafka_admin.log" 2>&1 ||
    t_fail "delete-records: $(tail -n 1 "$T_DIR/kafka_admin.log")"
t_log "restored offset $stored, records before $cut deleted, topic end $high"
st=0
R verify --deep "$c" >>"$T_DIR/verify.log" 2>&1 || st=$?
t_assert_eq 0 "$st" "verify --deep on the restored database (its digests match its rows)"

t_start_sink
gen_more 40 $((T_SEED % 1000 + 300001)) # a batch after the loss shows the jump
total=$((total + 40))
t_repair_expired "$c"
t_assert_eq "$total|$total|$total" "$(t_sql "$T_PDB" "SELECT count(*), count(DISTINCT seq),
    max(seq) FROM lt.event_log WHERE commune_code = '$c'")" \
    "province event log count|distinct|max after the repair"
st=0
R report --commune "$c" >"$T_DIR/report.txt" || st=$?
t_assert_eq 0 "$st" "report exit status once repaired"
t_reconcile "$c"
