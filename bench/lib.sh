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
