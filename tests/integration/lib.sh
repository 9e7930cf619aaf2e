# shellcheck shell=bash
# tests/integration/lib.sh - shared helpers of the integration tests.
#
#     . "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#     t_setup 04 3            # province 04, its first 3 communes with no topic yet
#     t_start_sink
#     t_start_agent "${T_COMMUNES[0]}"
#     ...
#
# The tests run against the Kafka broker and PostgreSQL server that
# tests/run.sh starts; it exports LT_STATE_DIR, LT_KAFKA_PORT, LT_PG_PORT,
# LT_TEST_BROKERS and LT_TEST_BIN_DIR.  Without them a test fails at once.
#
# Isolation: every test uses its own province (so the sink's topic pattern
# lt.<PP>.<CCCCC>.events sees no other test's topics), communes of that
# province whose topics do not exist yet in the broker, fresh databases
# lt_t_<test>_province and lt_t_<test>_c<code>, and its own directory
# $LT_STATE_DIR/tests/<test> with the ini files and one log per daemon.
#
# Every failure goes through t_fail, which prints the message, and the EXIT
# trap then stops what the test started and prints the tail of each log.
set -euo pipefail

T_NAME=$(basename "$0" .sh)
T_NAME=${T_NAME#test_}
T_T0=$SECONDS

t_log() { printf '[%s +%3ss] %s\n' "$T_NAME" "$((SECONDS - T_T0))" "$*"; }

# t_fail MESSAGE... - report and end the test with status 1.  (On stderr:
# inside a command substitution, only that subshell ends, and the message
# must not become the substituted value.)
t_fail() {
    printf '\n[%s +%3ss] FAIL: %s\n' "$T_NAME" "$((SECONDS - T_T0))" "$*" >&2
    exit 1
}

# ------------------------------------------------------------ environment
t_env_fail() {
    printf '[%s] FAIL: %s\n' "$T_NAME" "$1"
    printf '[%s] The integration tests need the Kafka broker and PostgreSQL server\n' "$T_NAME"
    printf '[%s] that tests/run.sh starts: run tests/run.sh (e.g. tests/run.sh -R %s).\n' \
        "$T_NAME" "$T_NAME"
    exit 1
}

for _v in LT_STATE_DIR LT_KAFKA_PORT LT_PG_PORT LT_TEST_BROKERS LT_TEST_BIN_DIR; do
    [ -n "${!_v:-}" ] || t_env_fail "$_v is not set (not started by tests/run.sh?)"
done
unset _v

if [ -z "${LT_ROOT:-}" ]; then
    LT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)
fi
# shellcheck source-path=SCRIPTDIR/../.. source=deploy/lib.sh
. "$LT_ROOT/deploy/lib.sh"
unset LT_CRASH_POINT # only the daemons a test arms may crash

AGENT="$LT_TEST_BIN_DIR/producer/lienthong-agent"
SINK="$LT_TEST_BIN_DIR/consumer/lienthong-sink"
RECONCILE="$LT_TEST_BIN_DIR/reconcile/lienthong-reconcile"
GEN="$LT_TEST_BIN_DIR/producer/lienthong-gen"
for _b in "$AGENT" "$SINK" "$RECONCILE" "$GEN"; do
    [ -x "$_b" ] || t_env_fail "$_b is missing: build first (tests/run.sh builds)"
done
unset _b
command -v kcat >/dev/null || t_env_fail "kcat not found (deploy/install-deps.sh installs it)"
command -v psql >/dev/null || t_env_fail "psql not found (deploy/install-deps.sh installs it)"
command -v python3 >/dev/null || t_env_fail "python3 not found (deploy/install-deps.sh installs it)"
command -v jq >/dev/null || t_env_fail "jq not found (deploy/install-deps.sh installs it)"

BROKERS=$LT_TEST_BROKERS
if ! PGCONNECT_TIMEOUT=5 lt_psql postgres -Atc 'SELECT 1' >/dev/null 2>&1; then
    t_env_fail "PostgreSQL is not reachable on 127.0.0.1:$LT_PG_PORT"
fi
if ! kcat -b "$BROKERS" -L -m 5 -t __lt_probe >/dev/null 2>&1; then
    t_env_fail "Kafka is not reachable at $BROKERS"
fi

T_DIR="$LT_STATE_DIR/tests/$T_NAME"
rm -rf "$T_DIR"
mkdir -p "$T_DIR"

# Reproducible randomness: LT_TEST_SEED=N reruns with the same random choices.
T_SEED=${LT_TEST_SEED:-$(((RANDOM << 15) | RANDOM))}
RANDOM=$T_SEED

# ------------------------------------------------------------- processes
declare -A T_PID=()  # name -> pid of what the test started in the background
declare -A T_KIND=() # name -> daemon (must keep running) | job (must exit 0)
declare -A T_EXIT=() # name -> exit status once collected

# t_spawn NAME KIND CMD... - run CMD in the background, output appended to
# $T_DIR/NAME.log.  A "daemon" that exits while expected to run, or a "job"
# that exits non-zero, fails the test at the next t_check_procs.
t_spawn() {
    local name=$1 kind=$2 log="$T_DIR/$1.log"
    shift 2
    if [ -n "${T_PID[$name]:-}" ] && t_running "$name"; then
        t_fail "t_spawn: $name is already running (pid ${T_PID[$name]})"
    fi
    printf '==== [%s +%ss] start: %s\n' "$T_NAME" "$((SECONDS - T_T0))" "$*" >>"$log"
    lt_spawn "$log" "$@"
    T_PID[$name]=$LT_SPAWNED
    T_KIND[$name]=$kind
    unset 'T_EXIT[$name]'
    printf '%s\n' "$LT_SPAWNED" >"$T_DIR/$name.pid"
}

# t_running NAME - true while NAME's process exists (and is not a zombie).
t_running() {
    [ -n "${T_PID[$1]:-}" ] && lt_pid_alive "${T_PID[$1]}"
}

# t_collect NAME - wait for NAME's (finished) process, record its status.
t_collect() {
    local st=0
    [ -n "${T_EXIT[$1]:-}" ] && return 0
    wait "${T_PID[$1]}" 2>/dev/null || st=$?
    T_EXIT[$1]=$st
    unset 'T_KIND[$1]'
    rm -f "$T_DIR/$1.pid"
}

t_describe_status() { # STATUS -> text
    if [ "$1" -gt 128 ]; then
        printf 'killed by signal %s (%s)' "$(($1 - 128))" "$(kill -l "$(($1 - 128))" 2>/dev/null || echo '?')"
    else
        printf 'exit status %s' "$1"
    fi
}

# t_check_procs - fail if a daemon died or a job failed.
t_check_procs() {
    local name
    for name in "${!T_KIND[@]}"; do
        t_running "$name" && continue
        local kind=${T_KIND[$name]}
        t_collect "$name"
        if [ "$kind" = daemon ]; then
            t_fail "$name exited unexpectedly: $(t_describe_status "${T_EXIT[$name]}") (log $T_DIR/$name.log)"
        elif [ "${T_EXIT[$name]}" != 0 ]; then
            t_fail "$name failed: $(t_describe_status "${T_EXIT[$name]}") (log $T_DIR/$name.log)"
        fi
    done
}

# t_wait_exit NAME TIMEOUT - wait until NAME's process ends; its status in
# T_EXIT[NAME].  Fails after TIMEOUT seconds.
t_wait_exit() {
    local name=$1 deadline=$((SECONDS + $2))
    [ -n "${T_PID[$name]:-}" ] || t_fail "t_wait_exit: nothing named $name was started"
    unset 'T_KIND[$name]' # its end is expected now
    while t_running "$name"; do
        [ "$SECONDS" -lt "$deadline" ] || t_fail "$name still running after $2 s (log $T_DIR/$name.log)"
        t_check_procs
        sleep 0.2
    done
    t_collect "$name"
}

# t_stop NAME [TIMEOUT] - SIGTERM, wait up to TIMEOUT (default 30) s, then
# SIGKILL.  Fails if it had to SIGKILL or the status is not 0.
t_stop() {
    local name=$1 timeout=${2:-30} killed=0
    [ -n "${T_PID[$name]:-}" ] || return 0
    unset 'T_KIND[$name]'
    if [ -z "${T_EXIT[$name]:-}" ]; then
        lt_stop_pid "${T_PID[$name]}" "$timeout" || killed=1
        T_EXIT[$name]=${LT_STOPPED_STATUS:-0}
        rm -f "$T_DIR/$name.pid"
        [ "$killed" = 0 ] ||
            t_fail "$name did not stop within $timeout s of SIGTERM (log $T_DIR/$name.log)"
    fi
    [ "${T_EXIT[$name]}" = 0 ] ||
        t_fail "$name stopped with $(t_describe_status "${T_EXIT[$name]}") (log $T_DIR/$name.log)"
}

# t_kill9 NAME - SIGKILL (crash simulation) and collect.
t_kill9() {
    unset 'T_KIND[$1]'
    kill -KILL "${T_PID[$1]}" 2>/dev/null || true
    while t_running "$1"; do sleep 0.05; done
    t_collect "$1"
}

# wait_until CMD TIMEOUT [WHAT] - evaluate CMD every 0.5 s until it
# succeeds; fail after TIMEOUT seconds, or at once when a daemon dies.
wait_until() {
    lt_wait_for "$2" 0.5 t_poll "$1" || t_fail "timed out after $2 s waiting for: ${3:-$1}"
}

# t_poll CMD - one try of wait_until: CMD's status, after failing the test
# if a daemon died meanwhile.
t_poll() {
    eval "$1" && return 0
    t_check_procs
    return 1
}

t_show_logs() {
    local f
    for f in "$T_DIR"/*.log; do
        [ -f "$f" ] || continue
        printf '\n----- last 40 lines of %s -----\n' "$f"
        tail -n 40 "$f"
    done
}

# Commands t_cleanup runs first (e.g. to restart a broker a test stopped).
T_CLEANUP_HOOKS=()

t_cleanup() {
    local rc=$? name hook
    trap - EXIT
    set +e
    for hook in "${T_CLEANUP_HOOKS[@]}"; do eval "$hook"; done
    for name in "${!T_PID[@]}"; do
        t_running "$name" && kill -TERM "${T_PID[$name]}" 2>/dev/null
    done
    local deadline=$((SECONDS + 20))
    for name in "${!T_PID[@]}"; do
        while t_running "$name" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
        t_running "$name" && kill -KILL "${T_PID[$name]}" 2>/dev/null
        wait "${T_PID[$name]}" 2>/dev/null
        rm -f "$T_DIR/$name.pid"
    done
    if [ "$rc" = 0 ]; then
        t_log "PASS in $((SECONDS - T_T0)) s"
    else
        t_show_logs
        printf '\n[%s] FAILED after %s s (seed %s; rerun with LT_TEST_SEED=%s); logs in %s\n' \
            "$T_NAME" "$((SECONDS - T_T0))" "$T_SEED" "$T_SEED" "$T_DIR"
    fi
    exit "$rc"
}
trap t_cleanup EXIT
trap 'exit 130' INT TERM

# t_pg stop|start|restart - the tests' PostgreSQL server (deploy/postgres.sh,
# its output in postgres.log); the test fails if that fails.  Whatever
# happens after, the server is left running for the tests after this one.
t_pg() {
    if [ -z "${T_PG_GUARDED:-}" ]; then
        T_PG_GUARDED=1
        T_CLEANUP_HOOKS+=('t_pg_run status >/dev/null || t_pg_run start || t_log "could not restart postgres"')
    fi
    t_pg_run "$1" || t_fail "deploy/postgres.sh $1 failed (see $T_DIR/postgres.log)"
}
t_pg_run() { "$LT_ROOT/deploy/postgres.sh" "$@" >>"$T_DIR/postgres.log" 2>&1; }

# -------------------------------------------------------------- assertions
# t_assert_eq EXPECTED ACTUAL WHAT
t_assert_eq() {
    if [ "$1" != "$2" ]; then
        t_fail "$3: expected [$1], got [$2]"
    fi
    t_log "ok: $3 = $2"
}

# t_assert_cmp A OP B WHAT - integer comparison, OP one of -lt -le -gt -ge -ne
t_assert_cmp() {
    [[ $1 =~ ^-?[0-9]+$ && $3 =~ ^-?[0-9]+$ ]] || t_fail "$4: not integers: [$1] [$3]"
    local ok=0
    case $2 in
        -lt) [ "$1" -lt "$3" ] && ok=1 ;;
        -le) [ "$1" -le "$3" ] && ok=1 ;;
        -gt) [ "$1" -gt "$3" ] && ok=1 ;;
        -ge) [ "$1" -ge "$3" ] && ok=1 ;;
        -ne) [ "$1" -ne "$3" ] && ok=1 ;;
        *) t_fail "t_assert_cmp: unknown operator $2" ;;
    esac
    [ "$ok" = 1 ] || t_fail "$4: expected $1 $2 $3, which is false"
    t_log "ok: $4 ($1 $2 $3)"
}

# ---------------------------------------------------------------- postgres
# t_sql DB SQL - one query, unaligned tuples-only output ("a|b" per row).
t_sql() {
    local out
    if ! out=$(lt_sql "$1" "$2" 2>&1); then
        t_fail "SQL failed on $1: $2: $out"
    fi
    printf '%s\n' "$out"
}

# t_sql_try DB SQL - like t_sql, but a failure returns 1 instead of failing
# (for polling while a server may be away).
t_sql_try() { lt_sql "$1" "$2" 2>/dev/null; }

T_PDB="lt_t_${T_NAME}_province"
t_cdb() { printf 'lt_t_%s_c%s\n' "$T_NAME" "$1"; }

t_fresh_db() { lt_pg_fresh_db "$1" || t_fail "cannot create a fresh database $1"; }

# ------------------------------------------------------------------- kafka
t_topic() { lt_topic "$T_PROVINCE" "$1"; }

# t_high_watermark TOPIC - the end offset of partition 0.
t_high_watermark() {
    local out
    out=$(kcat -b "$BROKERS" -Q -t "$1:0:-1" 2>&1) || t_fail "kcat -Q $1: $out"
    sed -n 's/.* offset \([0-9-]*\)$/\1/p' <<<"$out"
}

# t_kafka_topics - every topic name in the broker, one a line.
t_kafka_topics() {
    kcat -b "$BROKERS" -L -m 10 2>/dev/null | sed -n 's/^ *topic "\([^"]*\)".*/\1/p'
}

# ------------------------------------------------------------------- setup
# t_setup PROVINCE N - choose N communes of PROVINCE whose topics do not
# exist yet, create fresh databases, write the ini files, init the commune
# schemas, migrate the province and provision the communes.
# Sets T_PROVINCE and T_COMMUNES.
t_setup() {
    T_PROVINCE=$1
    local n=$2 existing c
    existing=" $(t_kafka_topics | tr '\n' ' ') "
    T_COMMUNES=()
    while read -r c && [ "${#T_COMMUNES[@]}" -lt "$n" ]; do
        [[ $existing == *" $(t_topic "$c") "* ]] || T_COMMUNES+=("$c")
    done < <(jq -r --arg p "$T_PROVINCE" '.[] | select(.Code == $p) | .Wards[].Code' \
        "$LT_ROOT/data/admin-units/units-2026-07-25.json")
    [ "${#T_COMMUNES[@]}" = "$n" ] ||
        t_fail "province $T_PROVINCE: wanted $n communes with no topic yet, found ${#T_COMMUNES[@]}"
    t_setup_codes "$T_PROVINCE" "${T_COMMUNES[@]}"
}

# t_setup_codes PROVINCE CODE... - t_setup with these communes.
t_setup_codes() {
    T_PROVINCE=$1
    shift
    T_COMMUNES=("$@")
    local existing c
    existing=" $(t_kafka_topics | tr '\n' ' ') "
    T_SINK_GROUP="lt-test-$T_NAME-$T_SEED"
    t_log "province $T_PROVINCE, communes ${T_COMMUNES[*]}, seed $T_SEED, dir $T_DIR"

    t_fresh_db "$T_PDB"
    t_write_sink_ini
    lt_write_reconcile_ini "$T_DIR/reconcile.ini" "$(lt_pg_conninfo "$T_PDB")"
    t_run sink_admin "$SINK" -c "$T_DIR/sink.ini" migrate
    # Topics of this province left by an earlier run against the same broker
    # (ctest --repeat, a rerun by hand): the sink subscribes to the whole
    # province, so start it at their end - as its own stored offsets would.
    local stale topic
    for topic in $existing; do
        # shellcheck disable=SC2053 # a glob on purpose
        [[ $topic == $(t_topic '[0-9][0-9][0-9][0-9][0-9]') ]] || continue
        stale=$(t_high_watermark "$topic")
        t_sql "$T_PDB" "INSERT INTO lt.kafka_offset (topic, partition, next_offset)
            VALUES ('$topic', 0, $stale)" >/dev/null
        t_log "topic $topic is left from an earlier run: the sink starts at its end ($stale)"
    done
    for c in "${T_COMMUNES[@]}"; do
        t_fresh_db "$(t_cdb "$c")"
        t_write_agent_ini "$c"
        t_run "agent_$c" "$AGENT" -c "$T_DIR/agent_$c.ini" init
        t_run sink_admin "$SINK" -c "$T_DIR/sink.ini" provision "$c"
    done
}

# t_run LOGNAME CMD... - run CMD in the foreground, output appended to
# $T_DIR/LOGNAME.log; fail if it fails.
t_run() {
    local log="$T_DIR/$1.log" st=0
    shift
    printf '==== [%s +%ss] run: %s\n' "$T_NAME" "$((SECONDS - T_T0))" "$*" >>"$log"
    "$@" </dev/null >>"$log" 2>&1 || st=$?
    [ "$st" = 0 ] || t_fail "'$*' failed ($(t_describe_status "$st")); see $log"
}

# t_write_agent_ini CODE - $T_DIR/agent_CODE.ini
t_write_agent_ini() {
    lt_write_agent_ini "$T_DIR/agent_$1.ini" "$1" "$T_PROVINCE" "$(lt_pg_conninfo "$(t_cdb "$1")")" \
        "$BROKERS" "agent.agent_id=test-$T_NAME-$1" agent.stats_interval_s=5
}

# t_write_sink_ini - $T_DIR/sink.ini
t_write_sink_ini() {
    lt_write_sink_ini "$T_DIR/sink.ini" "$T_PROVINCE" "$(lt_pg_conninfo "$T_PDB")" "$BROKERS" \
        "sink.group_id=$T_SINK_GROUP" sink.stats_interval_s=5
}

# t_split_env ARGS... - leading VAR=VALUE words into T_ENV, the rest into T_ARGS.
t_split_env() {
    T_ENV=() T_ARGS=()
    while [ $# -gt 0 ] && [[ $1 =~ ^[A-Z_][A-Z0-9_]*= ]]; do
        T_ENV+=("$1")
        shift
    done
    T_ARGS=("$@")
}

# t_start_agent CODE [VAR=VALUE...] [-o section.key=value...]
t_start_agent() {
    local c=$1
    shift
    t_split_env "$@"
    t_spawn "agent_$c" daemon env "${T_ENV[@]}" "$AGENT" -c "$T_DIR/agent_$c.ini" \
        "${T_ARGS[@]}" run
}

# t_start_sink [VAR=VALUE...] [-o section.key=value...]
t_start_sink() {
    t_split_env "$@"
    t_spawn sink daemon env "${T_ENV[@]}" "$SINK" -c "$T_DIR/sink.ini" "${T_ARGS[@]}" run
}

# t_sink_assigned - partitions assigned to the sink since its last start.
t_sink_assigned() {
    awk '/^==== /{ n = 0 } /msg="partition assigned"/{ n++ } END{ print n + 0 }' "$T_DIR/sink.log"
}

t_sink_assigned_ge() { [ "$(t_sink_assigned)" -ge "$1" ]; }

# t_wait_sink_ready N [TIMEOUT] - until the running sink was assigned N
# partitions (the consumer group join takes a few seconds).
t_wait_sink_ready() {
    wait_until "t_sink_assigned_ge $1" "${2:-60}" "sink assigned $1 partition(s)"
    t_log "sink assigned $1 partition(s)"
}

# t_gen CODE EVENTS [GEN-OPTIONS...] - run the generator in the foreground.
t_gen() {
    local c=$1 n=$2
    shift 2
    t_run "gen_$c" "$GEN" -d "$(lt_pg_conninfo "$(t_cdb "$c")")" -c "$c" -n "$n" \
        -s "$((T_SEED % 100000 + 1))" "$@"
}

# t_gen_bg CODE EVENTS [GEN-OPTIONS...] - the generator in the background as
# job gen_CODE (t_wait_exit gen_CODE ... to wait for it).
t_gen_bg() {
    local c=$1 n=$2
    shift 2
    t_spawn "gen_$c" job "$GEN" -d "$(lt_pg_conninfo "$(t_cdb "$c")")" -c "$c" -n "$n" \
        -s "$((T_SEED % 100000 + 1))" "$@"
}

# t_wait_gen CODE TIMEOUT - wait for the background generator; it must succeed.
t_wait_gen() {
    t_wait_exit "gen_$1" "$2"
    [ "${T_EXIT[gen_$1]}" = 0 ] ||
        t_fail "generator of $1 failed: $(t_describe_status "${T_EXIT[gen_$1]}") (log $T_DIR/gen_$1.log)"
    t_log "generator $1: $(tail -n 1 "$T_DIR/gen_$1.log")"
}

# ---------------------------------------------------------------- progress
# Progress is asked of the programs, as an operator would: `lienthong-agent
# status --json` and `lienthong-sink status --json`.  The assertions (t_outbox,
# t_assert_*, the tests' own queries) read the tables: they are the oracle.

# t_agent_status CODE - the agent's status of CODE as JSON; fails when the
# commune database does not answer.  The status commands get the test's
# settings as options, not its ini files: a test may break those on purpose.
t_agent_status() {
    "$AGENT" -c /dev/null -o "agent.commune=$1" -o "agent.postgres=$(lt_pg_conninfo "$(t_cdb "$1")")" \
        status --json 2>/dev/null
}

# t_sink_status - the sink's status of the province as JSON (whether a sink
# runs or not); fails when the province database does not answer.  Kafka
# gets 2 s: the applied counts come from PostgreSQL regardless.
t_sink_status() {
    lt_status_json "$SINK" -c /dev/null -o "sink.province=$T_PROVINCE" \
        -o "sink.postgres=$(lt_pg_conninfo "$T_PDB")" -o "sink.group_id=$T_SINK_GROUP" \
        -o "kafka.bootstrap.servers=$BROKERS" status --json --timeout 2
}

# t_outbox CODE - "numbered|max_seq|unsent|rows" of the commune outbox, from
# the table (unsent = not yet acknowledged by Kafka and not refused).
t_outbox() {
    t_sql "$(t_cdb "$1")" "SELECT count(seq), coalesce(max(seq), 0),
        count(*) FILTER (WHERE sent_at IS NULL AND rejected_at IS NULL), count(*) FROM lt.outbox"
}

# t_unsent CODE - outbox rows not yet acknowledged by Kafka, numbered or not
# (refused rows do not count).
t_unsent() {
    local out
    out=$(t_agent_status "$1") || t_fail "lienthong-agent status of commune $1 failed"
    lt_json .unsent <<<"$out"
}

# t_applied CODE - events the province applied for CODE.
t_applied() {
    local out
    out=$(t_sink_status) || t_fail "lienthong-sink status failed"
    lt_json '[.communes[] | select(.commune == $c) | .events_applied] | .[0] // 0' --arg c "$1" <<<"$out"
}

# Predicates for wait_until.
t_applied_ge() { [ "$(t_applied "$1")" -ge "$2" ]; } # CODE N
t_unsent_is() { [ "$(t_unsent "$1")" = "$2" ]; }     # CODE N
t_rows_ge() {                                        # CODE N: outbox rows
    local rows
    rows=$(t_agent_status "$1" | lt_json '.next_seq - 1 + .unnumbered + .refused') || return 1
    [ "$rows" -ge "$2" ]
}

# t_drained CODE [SINK_STATUS_JSON] - true when every outbox row of CODE is
# numbered and acknowledged (refused ones aside) and the province applied
# exactly the numbered events (see lt_drained).
t_drained() {
    local commune province
    commune=$(t_agent_status "$1") || return 1
    province=${2:-$(t_sink_status)} || return 1
    lt_drained "$commune" "$province"
}

# t_progress CODE [SINK_STATUS_JSON] - one line: what agent and sink say of CODE.
t_progress() {
    local agent province af pf
    af='"acked_seq \(.acked_seq) of \(.next_seq - 1), unsent \(.numbered_unsent) numbered'
    af+=' + \(.unnumbered) unnumbered, refused \(.refused)"'
    pf='.communes[] | select(.commune == $c) | "last_seq \(.last_seq), applied \(.events_applied),'
    pf+=' state \(.state), lag_events \(.lag_events)"'
    agent=$(t_agent_status "$1" | lt_json "$af") || agent='?'
    province=${2:-$(t_sink_status)} || province=''
    province=$(lt_json "$pf" --arg c "$1" <<<"$province" 2>/dev/null) || province=''
    printf 'agent: %s; province: %s\n' "$agent" "${province:-?}"
}

# t_wait_drained TIMEOUT CODE... - until every CODE is drained; prints the
# progress every 10 s.
t_wait_drained() {
    local timeout=$1 deadline next_report c all sink
    shift
    deadline=$((SECONDS + timeout))
    next_report=$((SECONDS + 10))
    while :; do
        all=1
        sink=$(t_sink_status) || sink=''
        for c in "$@"; do
            [ -n "$sink" ] && t_drained "$c" "$sink" || { all=0; break; }
        done
        [ "$all" = 1 ] && break
        t_check_procs
        if [ "$SECONDS" -ge "$deadline" ]; then
            for c in "$@"; do
                t_log "commune $c: outbox numbered|max_seq|unsent|rows = $(t_outbox "$c"); $(t_progress "$c")"
            done
            t_fail "not drained within $timeout s: $*"
        fi
        if [ "$SECONDS" -ge "$next_report" ]; then
            for c in "$@"; do t_log "draining $c: $(t_progress "$c" "$sink")"; done
            next_report=$((SECONDS + 10))
        fi
        sleep 0.5
    done
    t_log "drained: $*"
}

# ------------------------------------------------------------ verification
# t_reconcile CODE - lienthong-reconcile verify must exit 0 and say EQUAL.
t_reconcile() {
    local c=$1 out st=0
    out=$("$RECONCILE" -c "$T_DIR/reconcile.ini" verify "$c" "$(lt_pg_conninfo "$(t_cdb "$c")")" 2>&1) ||
        st=$?
    printf '%s\n' "$out" >>"$T_DIR/reconcile.log"
    if [ "$st" != 0 ] || ! grep -qw EQUAL <<<"$out"; then
        printf '%s\n' "$out"
        t_fail "reconcile of $c: exit $st, expected 0 and EQUAL"
    fi
    t_log "ok: reconcile $c: $(grep -w EQUAL <<<"$out" | tail -n 1)"
}

# t_assert_exactly_once CODE N - the province event log holds seq 1..N of
# CODE once each, the progress row says N, and no gap was recorded.
t_assert_exactly_once() {
    local c=$1 n=$2
    t_assert_eq "$n|$n|1|$n" "$(t_sql "$T_PDB" "SELECT count(*), count(DISTINCT seq),
        coalesce(min(seq), 0), coalesce(max(seq), 0) FROM lt.event_log WHERE commune_code = '$c'")" \
        "commune $c event_log count|distinct seq|min|max"
    t_assert_eq "$n" "$(t_sql "$T_PDB" "SELECT coalesce(max(last_seq), 0) FROM lt.commune_progress
        WHERE commune_code = '$c'")" "commune $c commune_progress.last_seq"
    t_assert_eq 0 "$(t_sql "$T_PDB" "SELECT count(*) FROM lt.seq_gap WHERE commune_code = '$c'")" \
        "commune $c rows in lt.seq_gap"
}

# t_assert_no_quarantine CODE - nothing from CODE's topic was quarantined.
t_assert_no_quarantine() {
    t_assert_eq 0 "$(t_sql "$T_PDB" "SELECT count(*) FROM lt.quarantine
        WHERE topic = '$(t_topic "$1")' OR commune_code = '$1'")" "commune $1 rows in lt.quarantine"
}

# t_assert_log_clean NAME [allow-kafka-errors] - the daemon's log holds no
# level=error line (with allow-kafka-errors: none but librdkafka's own, as
# when the broker is away).
t_assert_log_clean() {
    local hits
    hits=$(grep -n 'level=error' "$T_DIR/$1.log" || true)
    if [ "${2:-}" = allow-kafka-errors ]; then
        hits=$(grep -v 'msg="librdkafka"' <<<"$hits" || true)
    fi
    [ -z "$hits" ] || t_fail "$1.log has error lines:
$(head -n 5 <<<"$hits")"
    local but=""
    [ -z "${2:-}" ] || but=" (librdkafka errors allowed)"
    t_log "ok: no level=error lines in $1.log$but"
}

# ----------------------------------------------------------------- mergers
# t_take_over NEW OLD... - the new commune's system takes the old communes'
# records over after a merger: the newest sent version of each goes into
# NEW's outbox, with its id, version and content; then NEW's agent must
# have sent them all and NEW's digest compare equal as of its last sequence.
t_take_over() {
    local new=$1 c
    shift
    for c in "$@"; do
        lt_psql "$(t_cdb "$c")" -c "\\copy (SELECT DISTINCT ON (entity_type, entity_id)
            entity_type, entity_id, version, op, occurred_at, payload FROM lt.outbox
            WHERE seq IS NOT NULL AND rejected_at IS NULL
            ORDER BY entity_type, entity_id, version DESC) TO STDOUT" |
            lt_psql "$(t_cdb "$new")" -c "\\copy lt.outbox (entity_type, entity_id, version, op,
                occurred_at, payload) FROM STDIN" || t_fail "copying the records of $c into $new"
    done
    t_wait_drained 90 "$new"
    wait_until "[ \"\$(t_sql $T_PDB \"SELECT equal FROM lt.digest_check WHERE commune_code = '$new'
        ORDER BY seq DESC LIMIT 1\")\" = t ] && [ \"\$(t_sql $T_PDB \"SELECT max(seq) FROM
        lt.digest_check WHERE commune_code = '$new'\")\" = \"\$(t_applied $new)\" ]" 60 \
        "the digest of $new compared equal as of its last sequence"
    t_log "ok: $new took over the records of $*; its digest compares equal"
}

# ------------------------------------------------------------- retention
# t_repair_expired CODE - records of CODE's topic were deleted before the
# sink read them: the sink must say so, the lost events must show as an open
# gap that makes report exit 3, and repair must close it from the commune.
# Needs [kafka] in reconcile.ini; a batch after the loss must be on its way.
t_repair_expired() {
    local c=$1 st=0
    wait_until "[ \"\$(t_sql $T_PDB \"SELECT count(*) FROM lt.seq_gap WHERE commune_code = '$c'
        AND resolved_at IS NULL\")\" -ge 1 ]" 60 "the lost events of $c recorded as a gap"
    grep -q "records deleted by the topic's retention before the province read them" \
        "$T_DIR/sink.log" || t_fail "the sink did not say records were deleted before it read them"
    "$RECONCILE" -c "$T_DIR/reconcile.ini" report --commune "$c" >"$T_DIR/report.txt" || st=$?
    t_assert_eq 3 "$st" "report exit status with the loss: $(sed -n 2p "$T_DIR/report.txt")"
    st=0
    "$RECONCILE" -c "$T_DIR/reconcile.ini" repair --commune "$c" --timeout 120 \
        >>"$T_DIR/repair.log" 2>&1 || st=$?
    t_assert_eq 0 "$st" "repair of the lost events: $(tail -n 1 "$T_DIR/repair.log")"
    t_wait_drained 90 "$c"
    t_assert_eq 0 "$(t_sql "$T_PDB" "SELECT count(*) FROM lt.seq_gap WHERE commune_code = '$c'
        AND resolved_at IS NULL")" "open gaps of $c after the repair"
}

# t_snapshot CODE TIMEOUT - `lienthong-agent snapshot` for CODE's running
# agent; wait until the agent has answered the request.
t_snapshot() {
    local c=$1 snap
    t_run agent_admin "$AGENT" -c "$T_DIR/agent_$c.ini" snapshot
    snap=$(sed -n 's/.*snapshot \([^ ]*\) requested.*/\1/p' "$T_DIR/agent_admin.log" | tail -n 1)
    [ -n "$snap" ] || t_fail "snapshot printed no request id: $(tail -n 2 "$T_DIR/agent_admin.log")"
    wait_until "grep -q 'resync request answered.*request_id=$snap' $T_DIR/agent_$c.log" "$2" \
        "the snapshot $snap sent"
}
