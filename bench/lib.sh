# shellcheck shell=bash
# bench/lib.sh - what the pieces of the benchmark share: the settings, the
# places, the programs, and a few helpers.  Every bench/*.sh sources it; it
# sources deploy/lib.sh (the shell helper library of the whole project).
#
# The settings come from the environment (bench/run.sh --help lists them);
# bench/run.sh exports them, so a piece run by hand takes the same ones.
# Services: LT_BENCH_BROKERS (bootstrap list) and LT_BENCH_POSTGRES (libpq
# conninfo without dbname) name them; bench/run.sh sets both, to its own
# servers or to those given with --brokers / --postgres.
#
# A piece records its figures with bench_result VAR... into
# $LT_BENCH_OUT/<piece>.env; bench/report.sh reads them all.

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(dirname "$BENCH_DIR")

: "${LT_BENCH_BUILD:=$ROOT/build}"
: "${LT_BENCH_OUT:=$BENCH_DIR/out}"
: "${LT_BENCH_COMMUNES:=00004 00008 00025 00070}"
: "${LT_BENCH_EVENTS:=600000}"
: "${LT_BENCH_FLOOR_EVENTS:=20000}"
: "${LT_BENCH_LAT_COMMUNE:=00091}"
: "${LT_BENCH_LAT_RATE:=300}"
: "${LT_BENCH_LAT_SECONDS:=60}"
: "${LT_BENCH_LAT_WARMUP:=5}"
: "${LT_BENCH_PROFILE:=auto}"
: "${LT_BENCH_KEEP:=0}"
: "${LT_BENCH_SINK_OPTS:=}"
: "${LT_BENCH_REPEAT:=3}"
: "${LT_BENCH_PEER_CONFIGS:=peer-1task:1:500:500:false: peer-tuned:4:5000:5000:true:&reWriteBatchedInserts=true}"
: "${LT_BENCH_CONNECT_PORT:=48083}"
: "${LT_BENCH_T0:=$(date +%s.%N)}" # start of the whole run, for the progress lines
export LT_BENCH_T0

# shellcheck source=deploy/lib.sh source-path=SCRIPTDIR/..
. "$ROOT/deploy/lib.sh"
if [ -n "${LT_BENCH_POSTGRES:-}" ]; then
    export LT_PG_CONNINFO=$LT_BENCH_POSTGRES
fi
BROKERS=${LT_BENCH_BROKERS:-}
# Keys, ini files, logs and COPY files of this run.
: "${LT_BENCH_STATE:=${LT_STATE_DIR:?}/bench}"

PROVINCE=01
read -r -a COMMUNES <<<"$LT_BENCH_COMMUNES"
NCOMMUNES=${#COMMUNES[@]}
PER_COMMUNE=$((LT_BENCH_EVENTS / (NCOMMUNES > 0 ? NCOMMUNES : 1)))
TOTAL=$((PER_COMMUNE * NCOMMUNES))
LAT_EVENTS=$((LT_BENCH_LAT_RATE * LT_BENCH_LAT_SECONDS))
read -r -a SINK_EXTRA <<<"$LT_BENCH_SINK_OPTS"

OUT=$LT_BENCH_OUT
LOGS=$LT_BENCH_STATE/logs
KEYS=$LT_BENCH_STATE/keys
CONF=$LT_BENCH_STATE/conf
BIN=$LT_BENCH_BUILD
AGENT=$BIN/producer/lienthong-agent
SINK=$BIN/consumer/lienthong-sink
GEN=$BIN/producer/lienthong-gen
RECONCILE=$BIN/reconcile/lienthong-reconcile
FLOOR=$BIN/bench/lt-bench-floor
# The benchmark's own databases: names no deployment uses.
PROVINCE_DB=lt_bench_province_$PROVINCE
commune_db() { printf 'lt_bench_c%s\n' "$1"; }
# The peer (bench/peer/, bench/peer_*.sh): Kafka Connect standalone with the
# Debezium JDBC sink; its jars are cached under the versions of its pom.
PEER_DIR=$BENCH_DIR/peer
pom_version() { sed -n "s:.*<$1>\(.*\)</$1>.*:\1:p" "$PEER_DIR/pom.xml"; }
: "${LT_BENCH_PEER_LIBS:=$LT_CACHE_DIR/peer-connect-$(pom_version kafka.version)-debezium-$(pom_version debezium.version)/libs}"
PEER_DB=lt_bench_peer
PEER_APP=lt-bench-peer # its connections' application_name
# PEER_STATE_MD5 - a checksum of a final state (the newest live version of
# every entity): over entity_type, entity_id, version and payload as jsonb.
PEER_STATE_MD5="md5(string_agg(entity_type || '|' || entity_id || '|' || version || '|'
    || md5(payload::jsonb::text), E'\\n' ORDER BY entity_type, entity_id))"
peer_topic() { printf 'lt-bench-peer.%s.%s\n' "$PROVINCE" "$1"; }

# ------------------------------------------------------------------ helpers
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.6f\", $* }"; } # calc EXPR -> float
fmt0() { awk -v x="$1" 'BEGIN { printf "%.0f", x }'; }
fmt1() { awk -v x="$1" 'BEGIN { printf "%.1f", x }'; }
fmt2() { awk -v x="$1" 'BEGIN { printf "%.2f", x }'; }
gt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > b) }'; } # gt A B: A > B (floats)
say() {
    printf '[bench +%5.0fs] %s\n' "$(calc "$(now) - $LT_BENCH_T0")" "$*" >&2
}
die() { say "ERROR: $*"; exit 1; }
conninfo() { lt_pg_conninfo "$1"; }
q() { lt_sql "$@"; } # q DB SQL -> unaligned, tuples only, '|' separated
iso_to_epoch() { date -d "$1" +%s.%N; }
vm_hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
cpu_s() { # cpu_s PID -> user+system CPU seconds of a live process
    awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat" 2>/dev/null || echo 0
}
# local_backend PID - true if PID is a PostgreSQL backend on this machine
# (not when --postgres names another host).
local_backend() {
    [ -n "$1" ] && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -q '^postgres'
}
# median X... - the median of numbers (the mean of the middle two if even).
median() {
    printf '%s\n' "$@" | sort -g |
        awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# The CPU of the PostgreSQL backends serving a process: backends_sample
# PID... while it runs (a backend that exits keeps its last sample), then
# backends_cpu: their CPU seconds, '?' when none is on this machine.
declare -A BACKEND_CPU=()
backends_sample() {
    local pid c
    for pid in "$@"; do
        local_backend "$pid" || continue
        c=$(cpu_s "$pid")
        gt "$c" "${BACKEND_CPU[$pid]:-0}" && BACKEND_CPU[$pid]=$c
        : "${BACKEND_CPU[$pid]:=0}"
    done
}
backends_cpu() {
    [ "${#BACKEND_CPU[@]}" -gt 0 ] || { echo '?'; return; }
    printf '%s\n' "${BACKEND_CPU[@]}" | awk '{ s += $1 } END { printf "%.2f", s }'
}
# checkpoint DB - start a timed phase with a clean slate (needs the right to).
checkpoint() { q "$1" "CHECKPOINT" >/dev/null || say "warning: CHECKPOINT refused in $1"; }
# pgss_ok - pg_stat_statements can be read (loaded by the server).
pgss_ok() { q postgres "SELECT 1 FROM pg_stat_statements LIMIT 1" >/dev/null 2>&1; }

# Background processes of this piece, stopped when it ends.
BENCH_PIDS=()
bench_spawn() { # bench_spawn LOG CMD... ; its pid in LT_SPAWNED
    lt_spawn "$@"
    BENCH_PIDS+=("$LT_SPAWNED")
}
bench_stop_all() {
    local pid
    for pid in "${BENCH_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${BENCH_PIDS[@]}"; do lt_stop_pid "$pid" 30 || true; done
    BENCH_PIDS=()
}
trap 'bench_stop_all' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# bench_begin NAME - a piece starts: its results go to $OUT/NAME.env, empty.
bench_begin() {
    [ -n "$BROKERS" ] || die "LT_BENCH_BROKERS is not set (bench/run.sh sets it)"
    mkdir -p "$OUT" "$LOGS" "$KEYS" "$CONF"
    BENCH_PIECE=$1
    : >"$OUT/$BENCH_PIECE.env"
}
# bench_result VAR... - record figures of this piece for bench/report.sh.
bench_result() {
    declare -p "$@" >>"$OUT/$BENCH_PIECE.env"
}

# bench_poll WHAT PID TIMEOUT INTERVAL DONE... - run DONE every INTERVAL
# seconds until it succeeds; DONE sets PROGRESS, said every 5 s.  Dies when
# PID (what does the work) exits, or after TIMEOUT seconds.
bench_poll() {
    local what=$1 pid=$2 timeout=$3 interval=$4 t0 last
    shift 4
    t0=$(now) last=$t0
    until "$@"; do
        lt_pid_alive "$pid" || die "$what exited (see its log in $LOGS)"
        if gt "$(calc "$(now) - $last")" 4.9; then
            say "    $PROGRESS"
            last=$(now)
        fi
        gt "$(calc "$(now) - $t0")" "$timeout" && die "$what did not finish in $timeout s"
        sleep "$interval"
    done
}

# --------------------------------------------------------- configurations
# agent_ini COMMUNE - write the agent's ini file (signed batches); its path.
agent_ini() {
    local f=$CONF/agent-$1.ini
    lt_write_agent_ini "$f" "$1" "$PROVINCE" "$(conninfo "$(commune_db "$1")")" \
        "$BROKERS" "agent.signing_key=$KEYS/$1.pem" agent.stats_interval_s=10
    printf '%s\n' "$f"
}
# sink_ini NAME DB [SECTION.KEY=VALUE...] - write $CONF/sink-NAME.ini, a sink
# applying into DB; its path.
sink_ini() {
    local f=$CONF/sink-$1.ini db=$2
    shift 2
    lt_write_sink_ini "$f" "$PROVINCE" "$(conninfo "$db")" "$BROKERS" "$@"
    printf '%s\n' "$f"
}

# --------------------------------------------------------------- progress
# agent_progress COMMUNE - ask the agent's status: ACKED, the acked_seq, and
# LAST_SENT, when the agent marked it sent (local epoch seconds, from the age
# the server measured, so the two clocks need not agree; empty if nothing).
agent_progress() {
    local st age
    st=$(lt_status_json "$AGENT" -c "$CONF/agent-$1.ini" status --json) || return 1
    IFS='|' read -r ACKED age <<<"$(lt_json '[.acked_seq, .last_sent_age_s // ""]' <<<"$st")"
    LAST_SENT=
    [ -z "$age" ] || LAST_SENT=$(calc "$(now) - $age")
}
# applied_events INI [COMMUNE] - events the province of the sink INI applied
# (of COMMUNE, else of all), as `lienthong-sink status --json` says.
applied_events() {
    lt_status_json "$SINK" -c "$1" status --json |
        lt_json '[.communes[] | select($c == "" or .commune == $c) | .events_applied] | add // 0' \
            --arg c "${2:-}"
}

# new_province_db DB - a fresh province schema with every commune provisioned;
# the sink starts at the end of every topic of the province that held
# records before this run (a broker given with --brokers), as its stored
# offsets would tell it.
new_province_db() {
    local ini c t
    lt_pg_fresh_db "$1" >/dev/null || die "cannot create database $1"
    ini=$(sink_ini "admin-$1" "$1")
    "$SINK" -c "$ini" migrate >>"$LOGS/setup.log" 2>&1 || die "migrate $1 failed"
    for c in "${COMMUNES[@]}" "$LT_BENCH_LAT_COMMUNE"; do
        "$SINK" -c "$ini" provision "$c" "$KEYS/$c.pub" >>"$LOGS/setup.log" 2>&1 ||
            die "provision $c into $1 failed (see $LOGS/setup.log)"
    done
    if [ -s "$LT_BENCH_STATE/start-offsets" ]; then
        while read -r t off; do
            q "$1" "INSERT INTO lt.kafka_offset (topic, partition, next_offset) VALUES ('$t', 0, $off)
                ON CONFLICT DO NOTHING" >/dev/null
        done <"$LT_BENCH_STATE/start-offsets"
    fi
}

# ------------------------------------------------------------- a sink pass
# Shared by bench/sink_apply.sh (a) and bench/peer_apply.sh.

# pgss_report DB FILE - the top statements in DB since the last reset.
pgss_report() {
    if [ "${PGSS:-0}" = 0 ]; then
        echo "pg_stat_statements is not loaded by the server" >"$2"
        return
    fi
    q postgres "SELECT round(s.total_exec_time::numeric) AS ms, s.calls,
                round((s.total_exec_time * 1000 / $TOTAL)::numeric, 2) AS us_per_event,
                left(regexp_replace(s.query, '\\s+', ' ', 'g'), 90)
        FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
        WHERE d.datname = '$1' AND s.query !~* 'pg_stat_statements|CHECKPOINT'
        ORDER BY s.total_exec_time DESC LIMIT 8" >"$2"
}

# sink_backend_pids DB - the backends of lienthong-sink in DB, newest first.
sink_backend_pids() {
    q postgres "SELECT pid FROM pg_stat_activity WHERE application_name = 'lienthong-sink'
                AND datname = '$1' ORDER BY backend_start DESC"
}

all_applied() { # all_applied INI - the sink of INI applied the whole pre-fill
    local a
    a=$(applied_events "$1") || die "lienthong-sink status failed"
    PROGRESS="applied $a / $TOTAL"
    [ "$a" -ge "$TOTAL" ]
}

# run_sink_phase DB NAME PROFILE(0|1) - lienthong-sink applies the pre-fill
# into DB (a fresh province schema, new_province_db), its log in
# $LOGS/sink-NAME.log; with PROFILE 1 under perf (perf-*.data in
# $LT_BENCH_STATE).  Sets the S_* results: rates, CPU seconds of the sink
# and of every backend serving it ('?' for a server on another machine),
# peak RSS, and the times from process start (S_STARTUP to partition
# assignment, S_START_TO_COMMIT to the last commit).
run_sink_phase() {
    local db=$1 log=$LOGS/sink-$2.log profile=$3 i ini bpid="" spid t_exec t_done
    local perf1="" perf2=""
    ini=$(sink_ini "$2" "$db" sink.stats_interval_s=5 "sink.group_id=lt-bench-$db")
    checkpoint "$db"
    [ "${PGSS:-0}" = 0 ] || q postgres "SELECT pg_stat_statements_reset()" >/dev/null
    t_exec=$(now)
    bench_spawn "$log" "$SINK" -c "$ini" "${SINK_EXTRA[@]}" run
    spid=$LT_SPAWNED
    for ((i = 0; i < 150; i++)); do
        bpid=$(sink_backend_pids "$db" | head -n 1)
        [ -n "$bpid" ] && break
        sleep 0.2
    done
    [ -n "$bpid" ] || die "the sink did not connect to $db (see $log)"
    local_backend "$bpid" || bpid="" # a server on another machine: its CPU is not ours to read
    if [ "$profile" = 1 ]; then
        perf record -q -F 999 -g -o "$LT_BENCH_STATE/perf-sink.data" -p "$spid" >"$LOGS/perf.log" 2>&1 &
        perf1=$!
        BENCH_PIDS+=("$perf1")
        if [ -n "$bpid" ]; then
            perf record -q -F 999 -g -o "$LT_BENCH_STATE/perf-backend.data" -p "$bpid" >>"$LOGS/perf.log" 2>&1 &
            perf2=$!
            BENCH_PIDS+=("$perf2")
        fi
    fi
    bench_poll sink "$spid" 900 0.5 all_applied "$ini"
    t_done=$(now)
    S_SINK_CPU=$(cpu_s "$spid")
    BACKEND_CPU=()
    # shellcheck disable=SC2046 # one pid a word
    backends_sample $(sink_backend_pids "$db")
    S_BACKEND_CPU=$(backends_cpu)
    S_SINK_RSS_MB=$(fmt1 "$(calc "$(vm_hwm_kb "$spid") / 1024")")
    if [ -n "$perf1" ]; then
        kill -INT $perf1 $perf2 2>/dev/null || true
        wait $perf1 $perf2 2>/dev/null || true
    fi
    bench_stop_all
    local assigned
    assigned=$(grep -m1 'msg="partition assigned"' "$log" | sed -n 's/^ts=\([^ ]*\).*/\1/p')
    [ -n "$assigned" ] || die "no 'partition assigned' line in $log"
    S_T_ASSIGN=$(iso_to_epoch "$assigned")
    S_WALL=$(calc "$t_done - $t_exec")
    # One sink round = one transaction = one xmin on every row it inserted.
    local r
    r=$(q "$db" "WITH r AS (
            SELECT xmin::text AS x, count(*) AS n, min(applied_at) AS began,
                   pg_xact_commit_timestamp(xmin) AS committed
            FROM lt.event_log GROUP BY xmin::text, pg_xact_commit_timestamp(xmin))
        SELECT count(*), sum(n), (array_agg(n ORDER BY committed))[1],
               extract(epoch FROM min(committed)), extract(epoch FROM max(committed)),
               extract(epoch FROM min(began)), min(n), max(n)
        FROM r")
    IFS='|' read -r S_ROUNDS S_EVENTS S_N_FIRST S_C_FIRST S_C_LAST _ S_N_MIN S_N_MAX <<<"$r"
    [ "$S_EVENTS" = "$TOTAL" ] || die "lt.event_log holds $S_EVENTS events, expected $TOTAL"
    if [ "$S_ROUNDS" -ge 2 ]; then
        S_STEADY_SPAN=$(calc "$S_C_LAST - $S_C_FIRST")
        S_STEADY=$(calc "($S_EVENTS - $S_N_FIRST) / $S_STEADY_SPAN")
    else
        S_STEADY_SPAN=$(calc "$S_C_LAST - $S_T_ASSIGN")
        S_STEADY=$(calc "$S_EVENTS / $S_STEADY_SPAN")
    fi
    S_DEF="events of rounds 2..n / (commit time of round n - commit time of round 1)"
    [ "$S_ROUNDS" -ge 2 ] || S_DEF="one round only: events / (its commit time - partition assignment)"
    S_FROM_ASSIGN=$(calc "$S_EVENTS / ($S_C_LAST - $S_T_ASSIGN)")
    S_WALL_RATE=$(calc "$S_EVENTS / $S_WALL")
    S_STARTUP=$(calc "$S_T_ASSIGN - $t_exec")
    S_APPLY_SPAN=$(calc "$S_C_LAST - $S_T_ASSIGN")
    S_START_TO_COMMIT=$(calc "$S_C_LAST - $t_exec")
}

# sink_pass PASS NAME - pass PASS of LT_BENCH_REPEAT: run_sink_phase into
# $PROVINCE_DB for the first (the later pieces read it), else into a fresh
# lt_bench_<NAME><PASS>, dropped afterwards; its log sink-<NAME><PASS>.log,
# its pg_stat_statements report $OUT/pgss-sink-<NAME><PASS>.txt.
sink_pass() {
    local db=$PROVINCE_DB
    [ "$1" = 1 ] || db=lt_bench_$2$1
    new_province_db "$db"
    say "sink pass $1/$LT_BENCH_REPEAT: lienthong-sink applies $TOTAL pre-filled events into a fresh $db"
    run_sink_phase "$db" "$2$1" 0
    pgss_report "$db" "$OUT/pgss-sink-$2$1.txt"
    [ "$1" = 1 ] || q postgres "DROP DATABASE $db" >/dev/null
}
