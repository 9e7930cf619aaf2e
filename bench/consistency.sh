#!/usr/bin/env bash
# bench/consistency.sh - what proving consistency costs (bench/run.sh
# --consistency runs it on the benchmark's services):
#   (r) `lienthong-reconcile report` over LT_BENCH_REPORT_COMMUNES communes
#       (default 100) with a month of digest comparisons each: median of 5;
#   (x) one record among LT_BENCH_ENTITIES entities (default 1,000,000)
#       removed at the commune without an outbox row: from the agent's start
#       (it rebuilds its digest) to the province seeing the difference
#       (detect), then `lienthong-reconcile repair` until equal (repair);
#       and `verify --deep` over all of them;
#   (d) the digest's share of the sink's apply: the same events applied into
#       a fresh province database with and without the digest table's writes
#       (a trigger drops them; the member hashes and the join that feeds
#       the table still run), median of LT_BENCH_REPEAT passes each.
# Figures on stdout and in $OUT/consistency.env.
set -euo pipefail
# shellcheck source=bench/lib.sh source-path=SCRIPTDIR
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_begin consistency

: "${LT_BENCH_REPORT_COMMUNES:=100}"
: "${LT_BENCH_ENTITIES:=1000000}"
: "${LT_BENCH_DIGEST_EVENTS:=200000}"
C=${COMMUNES[0]}
CDB=$(commune_db "$C")
RINI=$CONF/reconcile.ini

# ------------------------------------------------------------ (r) report
report_db=lt_bench_report
lt_pg_fresh_db "$report_db" >/dev/null || die "cannot create $report_db"
"$SINK" -c "$(sink_ini report "$report_db")" migrate >>"$LOGS/setup.log" 2>&1 || die "migrate failed"
say "(r) $LT_BENCH_REPORT_COMMUNES communes, a month of digest comparisons each (every 5 min)"
q "$report_db" "
INSERT INTO lt.commune (commune_code, province_code, name, events_topic, control_topic)
SELECT lpad(i::text, 5, '0'), '$PROVINCE', 'Xã ' || i, 'lt.$PROVINCE.' || lpad(i::text, 5, '0') || '.events',
       'lt.$PROVINCE.' || lpad(i::text, 5, '0') || '.control'
FROM generate_series(1, $LT_BENCH_REPORT_COMMUNES) i;
INSERT INTO lt.commune_progress (commune_code, last_seq, events_applied, updated_at)
SELECT commune_code, 864000, 864000, now() FROM lt.commune;
INSERT INTO lt.digest_check (commune_code, seq, checked_at, equal, diverged)
SELECT c.commune_code, s * 100, now() - (8640 - s) * interval '5 min', s % 97 <> 0,
       CASE WHEN s % 97 = 0 THEN '{3,17}'::smallint[] ELSE '{}' END
FROM lt.commune c, generate_series(1, 8640) s;
INSERT INTO lt.commune_heartbeat (commune_code, agent_at, received_at, outbox_pending,
    rows_refused, agent_version, agent_id, acked_seq, next_seq)
SELECT commune_code, now(), now(), 0, 0, 'bench', 'bench', 864000, 864001 FROM lt.commune;
INSERT INTO lt.seq_gap (commune_code, from_seq, to_seq)
SELECT commune_code, 1000, 1009 FROM lt.commune WHERE commune_code LIKE '%7';
ANALYZE;" >/dev/null
lt_write_reconcile_ini "$RINI" "$(conninfo "$report_db")" "kafka.bootstrap.servers=$BROKERS"
report_ms=()
for _ in 1 2 3 4 5; do
    t0=$(now)
    st=0
    "$RECONCILE" -c "$RINI" report --json >"$LOGS/report.json" || st=$?
    [ "$st" = 3 ] || die "report exited $st (expected 3: some communes have gaps)"
    report_ms+=("$(calc "($(now) - $t0) * 1000")")
done
REPORT_COMMUNES=$LT_BENCH_REPORT_COMMUNES
REPORT_MS=$(fmt0 "$(median "${report_ms[@]}")")
REPORT_ROWS=$(q "$report_db" "SELECT count(*) FROM lt.digest_check")
say "(r) report over $REPORT_COMMUNES communes ($REPORT_ROWS comparisons): median ${REPORT_MS} ms"
bench_result REPORT_COMMUNES REPORT_MS REPORT_ROWS

# ------------------------------------------------- (x) one record in a million
topic=$(lt_topic "$PROVINCE" "$C")
# province_for_c DB INI - a fresh province database DB (sink INI) with $C
# provisioned, reading its topic from where (x) began (the end it had then).
province_for_c() {
    lt_pg_fresh_db "$1" >/dev/null || die "cannot create $1"
    "$SINK" -c "$2" migrate >>"$LOGS/setup.log" 2>&1 || die "migrate $1 failed"
    "$SINK" -c "$2" provision "$C" >>"$LOGS/setup.log" 2>&1 || die "provision $C into $1 failed"
    : "${high:=$(kcat -b "$BROKERS" -Q -t "$topic:0:-1" 2>/dev/null |
        sed -n 's/.* offset \([0-9-]*\)$/\1/p')}"
    q "$1" "INSERT INTO lt.kafka_offset (topic, partition, next_offset)
        VALUES ('$topic', 0, ${high:-0})" >/dev/null
}
# applied_reached - bench_poll condition: the sink of REACH_INI applied
# REACH_TARGET events of $C (REACH_LABEL names the pass).
applied_reached() {
    local n
    n=$(applied_events "$REACH_INI" "$C" 2>/dev/null) || return 1
    PROGRESS="$REACH_LABEL: applied $n of $REACH_TARGET"
    [ "$n" -ge "$REACH_TARGET" ]
}
province_db=lt_bench_province_x
say "(x) $LT_BENCH_ENTITIES records at commune $C, sent and applied"
lt_pg_fresh_db "$CDB" >/dev/null || die "cannot create $CDB"
aini=$CONF/agent-x.ini
lt_write_agent_ini "$aini" "$C" "$PROVINCE" "$(conninfo "$CDB")" "$BROKERS" \
    agent.stats_interval_s=10 agent.digest_every_s=1 agent.resync_max_events_per_s=50000
"$AGENT" -c "$aini" init >>"$LOGS/setup.log" 2>&1 || die "agent init failed"
sini=$(sink_ini x "$province_db")
province_for_c "$province_db" "$sini"
q "$CDB" "$(lt_death_records_sql "$C" "$LT_BENCH_ENTITIES" 2026 2025-07-01)" >/dev/null
bench_spawn "$LOGS/x-sink.log" "$SINK" -c "$sini" run
sink_pid=$LT_SPAWNED
bench_spawn "$LOGS/x-agent.log" "$AGENT" -c "$aini" run
agent_pid=$LT_SPAWNED
REACH_INI=$sini REACH_TARGET=$LT_BENCH_ENTITIES REACH_LABEL=load
bench_poll "the sink" "$sink_pid" 3600 2 applied_reached
digest_equal() { # the newest comparison says equal (t) or not (f)
    q "$province_db" "SELECT equal FROM lt.digest_check WHERE commune_code = '$C'
        ORDER BY checked_at DESC LIMIT 1"
}
x_equal() { PROGRESS="waiting for an equal digest"; [ "$(digest_equal)" = t ]; }
bench_poll "the sink" "$sink_pid" 300 1 x_equal
say "(x) verify --deep over $LT_BENCH_ENTITIES records"
lt_write_reconcile_ini "$RINI" "$(conninfo "$province_db")" "kafka.bootstrap.servers=$BROKERS"
t0=$(now)
"$RECONCILE" -c "$RINI" verify --deep "$C" >>"$LOGS/verify.log" 2>&1 || die "verify --deep failed"
VERIFY_DEEP_S=$(fmt2 "$(calc "$(now) - $t0")")

gone=$(q "$CDB" "SELECT entity_id FROM lt.entity_state ORDER BY entity_id LIMIT 1 OFFSET 12345")
kill -TERM "$agent_pid"
lt_stop_pid "$agent_pid" 60 || true
q "$CDB" "DELETE FROM lt.entity_state WHERE entity_id = '$gone'" >/dev/null
say "(x) $gone removed at the commune without an outbox row; agent restarted"
t0=$(now)
bench_spawn "$LOGS/x-agent2.log" "$AGENT" -c "$aini" run
agent_pid=$LT_SPAWNED
x_differs() { PROGRESS="waiting for the province to see the difference"; [ "$(digest_equal)" = f ]; }
bench_poll "the agent" "$agent_pid" 300 0.2 x_differs
DETECT_S=$(fmt2 "$(calc "$(now) - $t0")")
t1=$(now)
"$RECONCILE" -c "$RINI" repair --commune "$C" --timeout 300 >"$LOGS/repair.log" 2>&1 ||
    die "repair did not converge (see $LOGS/repair.log)"
REPAIR_S=$(fmt2 "$(calc "$(now) - $t1")")
TOTAL_X_S=$(fmt2 "$(calc "$(now) - $t0")")
[ "$(q "$province_db" "SELECT count(*) FROM lt.entity WHERE entity_id = '$gone'")" = 0 ] ||
    die "the removed record is still at the province"
ENTITIES=$LT_BENCH_ENTITIES
say "(x) detect ${DETECT_S} s (agent start, digest rebuilt, sent, compared), repair ${REPAIR_S} s, total ${TOTAL_X_S} s; verify --deep ${VERIFY_DEEP_S} s"
bench_result ENTITIES DETECT_S REPAIR_S TOTAL_X_S VERIFY_DEEP_S
bench_stop_all

# ------------------------------------------------- (d) the digest's share
# The same events again into fresh province databases, with and without the
# digest table's writes.
apply_pass() { # apply_pass LABEL WITH_DIGEST -> events/s on stdout
    local db=lt_bench_province_d ini pid t0 n
    ini=$(sink_ini "d-$1" "$db" "sink.group_id=lt-bench-d-$1-$RANDOM")
    province_for_c "$db" "$ini"
    [ "$2" = 1 ] || q "$db" "CREATE FUNCTION lt.bench_drop() RETURNS trigger LANGUAGE plpgsql
        AS 'BEGIN RETURN NULL; END';
        CREATE TRIGGER bench_no_digest BEFORE INSERT ON lt.digest_bucket
        FOR EACH ROW EXECUTE FUNCTION lt.bench_drop()" >/dev/null
    checkpoint "$db"
    t0=$(now)
    bench_spawn "$LOGS/d-$1.log" "$SINK" -c "$ini" -o sink.confirm_interval_s=0 run
    pid=$LT_SPAWNED
    REACH_INI=$ini REACH_TARGET=$LT_BENCH_DIGEST_EVENTS REACH_LABEL=$1
    bench_poll "the sink" "$pid" 3600 0.5 applied_reached
    n=$(calc "$LT_BENCH_DIGEST_EVENTS / ($(now) - $t0)")
    bench_stop_all
    printf '%s\n' "$n"
}
# Only the first LT_BENCH_DIGEST_EVENTS records count: the passes stop there.
with=() without=()
for _ in $(seq "$LT_BENCH_REPEAT"); do
    with+=("$(apply_pass with 1)")
    without+=("$(apply_pass without 0)")
done
DIGEST_WITH_EPS=$(fmt0 "$(median "${with[@]}")")
DIGEST_WITHOUT_EPS=$(fmt0 "$(median "${without[@]}")")
DIGEST_COST_PCT=$(fmt1 "$(calc "100 * (1 - $DIGEST_WITH_EPS / $DIGEST_WITHOUT_EPS)")")
# The member hash the sink computes per event, against the time per event.
MEMBER_NS=$("$BIN/bench/lt-bench-digest" 1000000) || die "lt-bench-digest failed"
MEMBER_PCT=$(fmt1 "$(calc "100 * $MEMBER_NS * $DIGEST_WITH_EPS / 1000000000")")
say "(d) apply with digest writes ${DIGEST_WITH_EPS} ev/s, without ${DIGEST_WITHOUT_EPS} ev/s: ${DIGEST_COST_PCT} %; member hash ${MEMBER_NS} ns (${MEMBER_PCT} % of an event's time)"
bench_result DIGEST_WITH_EPS DIGEST_WITHOUT_EPS DIGEST_COST_PCT MEMBER_NS MEMBER_PCT

cat <<EOF
consistency figures:
  (r) report over $REPORT_COMMUNES communes ($REPORT_ROWS digest comparisons): ${REPORT_MS} ms (median of 5)
  (x) one record removed among $ENTITIES: detected in ${DETECT_S} s, repaired in ${REPAIR_S} s, ${TOTAL_X_S} s end to end
      verify --deep over $ENTITIES records: ${VERIFY_DEEP_S} s
  (d) sink apply with / without digest writes: ${DIGEST_WITH_EPS} / ${DIGEST_WITHOUT_EPS} events/s (${DIGEST_COST_PCT} %)
      member hash per event: ${MEMBER_NS} ns (${MEMBER_PCT} % of an event's time at that rate)
EOF
