#!/usr/bin/env bash
# bench/peer_apply.sh - lienthong-sink and its peer, back to back, on the same
# events, the same broker and the same PostgreSQL.
#
# LT_BENCH_REPEAT rounds, each: one sink pass into a fresh province database
# (sink_pass of bench/lib.sh, as bench/sink_apply.sh), then one pass of every
# peer configuration of LT_BENCH_PEER_CONFIGS - a fresh Kafka Connect
# standalone JVM with the Debezium JDBC sink and a new connector name (a new
# consumer group, reading the topics of bench/peer_setup.sh from the
# beginning) into a fresh database lt_bench_peer.  Rounds interleave the
# systems, so other load on the machine falls on all of them alike.
#
# Per pass, for both: process start, partition assignment (the sink's
# "partition assigned" log line; Connect's first "Adding newly assigned
# partitions"), last commit (the newest pg_xact_commit_timestamp of the rows
# written), the CPU seconds of the process and of every PostgreSQL backend
# serving it (/proc/<pid>/stat), and the process's VmHWM.  Each peer pass is
# checked against the expected final state.  One line per pass in
# $LT_BENCH_OUT/peer_passes.tsv; bench/peer_report.sh makes the report.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_begin peer_apply
PGSS=0
pgss_ok && PGSS=1
[ -s "$LT_BENCH_STATE/peer-done.sql" ] || die "no $LT_BENCH_STATE/peer-done.sql: run bench/peer_setup.sh first"
DONE_SQL=$(cat "$LT_BENCH_STATE/peer-done.sql")
read -r -a P_CONFIGS <<<"$LT_BENCH_PEER_CONFIGS"
PASSES=$OUT/peer_passes.tsv
printf 'label\tpass\tevents\tstartup_s\tapply_s\tproc_cpu_s\tbackend_cpu_s\trss_mb\tcpu_at_first_row_s\tsink_a_eps\tfinal_state\n' >"$PASSES"
pass_row() { printf '%s\n' "$(IFS=$'\t'; echo "$*")" >>"$PASSES"; }

# The worker, and what the connector needs of the server.
WORKER=$CONF/connect-worker.properties
sed -e "s#@BROKERS@#$BROKERS#" -e "s#@REST_PORT@#$LT_BENCH_CONNECT_PORT#" \
    -e "s#@OFFSETS@#$LT_BENCH_STATE/connect.offsets#" "$PEER_DIR/connect-worker.properties" >"$WORKER"
pg_param() { # pg_param KEY DEFAULT - a value of the LT_BENCH_POSTGRES conninfo
    local w
    for w in ${LT_PG_CONNINFO:-host=127.0.0.1 port=$LT_PG_PORT user=postgres}; do
        [ "${w%%=*}" != "$1" ] || { printf '%s\n' "${w#*=}"; return; }
    done
    printf '%s\n' "$2"
}
PG_URL="jdbc:postgresql://$(pg_param host 127.0.0.1):$(pg_param port 5432)/$PEER_DB?ApplicationName=$PEER_APP"
# What Debezium's schema.evolution=basic creates itself; made beforehand, so
# that tasks do not race to create it.
PEER_DDL="CREATE TABLE peer_entity (commune_code text NOT NULL, entity_type text NOT NULL,
  entity_id text NOT NULL, version bigint NOT NULL, deleted boolean NOT NULL, seq bigint NOT NULL,
  occurred_at timestamp(6) with time zone NOT NULL, recorded_at timestamp(6) with time zone NOT NULL,
  payload json, PRIMARY KEY (commune_code, entity_type, entity_id))"
JAVA_OPTS=(-Xms256m -Xmx2g -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20
    -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15
    -Djava.awt.headless=true "-Dlog4j2.configurationFile=$PEER_DIR/log4j2.properties")

# peer_applied JPID LOG - the peer applied every event.  Samples the CPU of
# its backends; JVM CPU when the first row showed (P_FIRST_CPU).
peer_applied() {
    local r first n done pids
    ! grep -q 'Task threw an uncaught\|Task is being killed' "$2" || die "a Connect task failed (see $2)"
    r=$(q "$PEER_DB" "SELECT EXISTS (SELECT 1 FROM peer_entity),
        (SELECT n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables WHERE relname = 'peer_entity'),
        ($DONE_SQL),
        (SELECT string_agg(pid::text, ' ') FROM pg_stat_activity WHERE application_name = '$PEER_APP')")
    IFS='|' read -r first n done pids <<<"$r"
    [ "$first" = f ] || [ -n "$P_FIRST_CPU" ] || P_FIRST_CPU=$(cpu_s "$1")
    # shellcheck disable=SC2086 # one pid a word
    backends_sample $pids
    PROGRESS="$n row writes for $TOTAL events"
    [ "$done" = t ]
}

# peer_pass LABEL:TASKS:BATCH:MAXPOLL:REDUCTION:URLPARAMS PASS - one pass of a
# peer configuration; a line in $PASSES.
peer_pass() {
    local label tasks batch maxpoll red urlp pass=$2 props log c topics="" t_exec jpid
    IFS=: read -r label tasks batch maxpoll red urlp <<<"$1"
    props=$CONF/$label-$pass.properties log=$LOGS/$label-$pass.log
    for c in "${COMMUNES[@]}"; do topics+="${topics:+,}$(peer_topic "$c")"; done
    cat >"$props" <<EOF
name=lt-bench-$label-$pass-$(date +%s)
connector.class=io.debezium.connector.jdbc.JdbcSinkConnector
tasks.max=$tasks
topics=$topics
connection.url=$PG_URL$urlp
connection.username=$(pg_param user postgres)
connection.password=$(pg_param password "")
insert.mode=upsert
primary.key.mode=record_key
delete.enabled=true
schema.evolution=basic
collection.name.format=peer_entity
batch.size=$batch
use.reduction.buffer=$red
consumer.override.max.poll.records=$maxpoll
# single-partition topics: the default RangeAssignor gives them all to task 0
consumer.override.partition.assignment.strategy=org.apache.kafka.clients.consumer.RoundRobinAssignor
EOF
    lt_pg_fresh_db "$PEER_DB" >/dev/null || die "cannot create database $PEER_DB"
    q "$PEER_DB" "$PEER_DDL" >/dev/null
    rm -f "$LT_BENCH_STATE/connect.offsets"
    checkpoint "$PEER_DB"
    [ "$PGSS" = 0 ] || q postgres "SELECT pg_stat_statements_reset()" >/dev/null
    say "round $pass: $label (tasks.max=$tasks batch.size=$batch max.poll.records=$maxpoll use.reduction.buffer=$red${urlp:+ url $urlp})"
    BACKEND_CPU=() P_FIRST_CPU=""
    t_exec=$(now)
    bench_spawn "$log" java "${JAVA_OPTS[@]}" -cp "$LT_BENCH_PEER_LIBS/*" \
        org.apache.kafka.connect.cli.ConnectStandalone "$WORKER" "$props"
    jpid=$LT_SPAWNED
    bench_poll "$label" "$jpid" 900 0.5 peer_applied "$jpid" "$log"
    local cpu rss bcpu assigned t_assign c_last state=equal
    cpu=$(cpu_s "$jpid")
    rss=$(fmt1 "$(calc "$(vm_hwm_kb "$jpid") / 1024")")
    # shellcheck disable=SC2046 # one pid a word
    backends_sample $(q postgres "SELECT pid FROM pg_stat_activity WHERE application_name = '$PEER_APP'")
    bcpu=$(backends_cpu)
    bench_stop_all
    pgss_report "$PEER_DB" "$OUT/pgss-$label-$pass.txt"
    assigned=$(grep -m1 'Adding newly assigned partitions' "$log" | sed -n 's/^\[\([0-9-]* [0-9:]*\),\([0-9]*\)\].*/\1.\2/p')
    [ -n "$assigned" ] || die "no 'Adding newly assigned partitions' line in $log"
    t_assign=$(iso_to_epoch "$assigned")
    c_last=$(q "$PEER_DB" "SELECT extract(epoch FROM max(pg_xact_commit_timestamp(xmin))) FROM peer_entity")
    while read -r c md5; do
        [ "$(q "$PEER_DB" "SELECT $PEER_STATE_MD5 FROM peer_entity WHERE commune_code = '$c'")" = "$md5" ] ||
            state=DIFFERENT
    done <"$LT_BENCH_STATE/peer-expected"
    [ "$state" = equal ] || say "warning: $label pass $pass: final state of $PEER_DB differs from the communes'"
    pass_row "$label" "$pass" "$TOTAL" "$(fmt2 "$(calc "$t_assign - $t_exec")")" "$(fmt2 "$(calc "$c_last - $t_assign")")" \
        "$cpu" "$bcpu" "$rss" "${P_FIRST_CPU:-0}" - "$state"
    say "round $pass: $label: $(fmt0 "$(calc "$TOTAL / ($c_last - $t_exec)")") events/s from process start, $(fmt0 "$(calc "$TOTAL / ($c_last - $t_assign)")") from partition assignment ($(fmt1 "$(calc "$t_assign - $t_exec")") s start-up); CPU java $cpu s (${P_FIRST_CPU:-?} s before the first row), backends $bcpu s; peak RSS $rss MB; final state $state"
}

for ((pass = 1; pass <= LT_BENCH_REPEAT; pass++)); do
    sink_pass "$pass" p
    pass_row sink "$pass" "$TOTAL" "$(fmt2 "$S_STARTUP")" "$(fmt2 "$S_APPLY_SPAN")" "$S_SINK_CPU" "$S_BACKEND_CPU" \
        "$S_SINK_RSS_MB" - "$(fmt0 "$S_STEADY")" -
    say "round $pass: sink: $(fmt0 "$(calc "$TOTAL / $S_START_TO_COMMIT")") events/s from process start, $(fmt0 "$S_FROM_ASSIGN") from partition assignment ($(fmt1 "$S_STARTUP") s start-up); CPU sink $S_SINK_CPU s, backends $S_BACKEND_CPU s; peak RSS $S_SINK_RSS_MB MB"
    for cfg in "${P_CONFIGS[@]}"; do peer_pass "$cfg" "$pass"; done
done
[ "$LT_BENCH_KEEP" = 1 ] || q postgres "DROP DATABASE IF EXISTS $PEER_DB" >/dev/null
P_JAVA_OPTS="${JAVA_OPTS[*]:0:7}"
bench_result P_CONFIGS P_JAVA_OPTS
