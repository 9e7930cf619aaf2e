# shellcheck shell=bash
# deploy/lib.sh - the one shell helper library of lienthong: deploy/*.sh,
# deploy/demo.sh, tests/run.sh, tests/integration/lib.sh and bench/ source
# it.  Source it; do not execute it:
#
#     . "$(dirname "$0")/../deploy/lib.sh"
#
# It sets no shell options of the caller (no set -e/-u), and every variable
# below keeps a value already present in the environment:
#
#   LT_ROOT           repository root (default: parent of this file's directory)
#   LT_STATE_DIR      runtime state: data dirs, logs, pid files
#                     (default: /tmp/lienthong-state)
#   LT_CACHE_DIR      downloaded artefacts, e.g. the Kafka jars
#                     (default: ${XDG_CACHE_HOME:-$HOME/.cache}/lienthong)
#   LT_KAFKA_VERSION  Kafka broker version fetched from Maven Central (3.9.1)
#   LT_KAFKA_LIBS     directory holding the broker jars
#                     (default: $LT_CACHE_DIR/kafka-$LT_KAFKA_VERSION/libs)
#   LT_KAFKA_PORT     first broker port (default: 19092).  One broker: broker
#                     on PORT, controller on PORT+1.  Three brokers: brokers on
#                     PORT, PORT+2, PORT+4; controllers on PORT+1, +3, +5
#   LT_KAFKA_BROKERS  1 or 3; unset means "what deploy/kafka.sh last started
#                     in this LT_STATE_DIR", else 1
#   LT_PG_PORT        PostgreSQL TCP port on 127.0.0.1 (default: 15432)
#   LT_PG_CONNINFO    libpq conninfo of the server without dbname (default:
#                     "host=127.0.0.1 port=$LT_PG_PORT user=postgres"); set it
#                     to use a server deploy/postgres.sh did not start
#   LT_QUIET          non-empty: lt_log prints nothing
#
# Functions, by theme:
#   logging      lt_log, lt_warn, lt_die
#   places       lt_state_dir_init, lt_port_busy, lt_free_port
#   kafka        lt_kafka_broker_count, lt_brokers, lt_topic
#   postgres     lt_pg_conninfo, lt_psql, lt_sql, lt_pg_createdb, lt_pg_fresh_db
#   processes    lt_spawn, lt_pid_alive, lt_stop_pid, lt_wait_for
#   config files lt_write_ini, lt_write_agent_ini, lt_write_sink_ini,
#                lt_write_reconcile_ini
#   status       lt_json, lt_status_json, lt_drained

if [ -z "${LT_ROOT:-}" ]; then
    LT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
fi
: "${LT_STATE_DIR:=/tmp/lienthong-state}"
: "${LT_CACHE_DIR:=${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/lienthong}"
: "${LT_KAFKA_VERSION:=3.9.1}"
: "${LT_KAFKA_LIBS:=$LT_CACHE_DIR/kafka-$LT_KAFKA_VERSION/libs}"
: "${LT_KAFKA_PORT:=19092}"
: "${LT_PG_PORT:=15432}"
# The scripts cd around and hand paths to daemons: make them absolute.
case $LT_STATE_DIR in /*) ;; *) LT_STATE_DIR="$PWD/$LT_STATE_DIR" ;; esac
case $LT_CACHE_DIR in /*) ;; *) LT_CACHE_DIR="$PWD/$LT_CACHE_DIR" ;; esac
case $LT_KAFKA_LIBS in /*) ;; *) LT_KAFKA_LIBS="$PWD/$LT_KAFKA_LIBS" ;; esac
export LT_ROOT LT_STATE_DIR LT_CACHE_DIR LT_KAFKA_VERSION LT_KAFKA_LIBS \
    LT_KAFKA_PORT LT_PG_PORT

# ------------------------------------------------------------------ logging
# lt_log MESSAGE... - progress line on stderr ("lienthong: MESSAGE").
lt_log() {
    [ -n "${LT_QUIET:-}" ] || printf 'lienthong: %s\n' "$*" >&2
}

# lt_warn MESSAGE... - warning on stderr, printed even when LT_QUIET is set.
lt_warn() {
    printf 'lienthong: warning: %s\n' "$*" >&2
}

# lt_die MESSAGE... - error on stderr, then exit 1 (exit code from
# LT_DIE_CODE if set).
lt_die() {
    printf 'lienthong: error: %s\n' "$*" >&2
    exit "${LT_DIE_CODE:-1}"
}

# ------------------------------------------------------------------- places
# lt_state_dir_init - create $LT_STATE_DIR (mode 0755, so that the
# postgres OS user can traverse it) if it does not exist.
lt_state_dir_init() {
    [ -d "$LT_STATE_DIR" ] && return 0
    mkdir -p "$(dirname "$LT_STATE_DIR")" || lt_die "cannot create $(dirname "$LT_STATE_DIR")"
    # a concurrent run may create it first
    if ! mkdir -m 0755 "$LT_STATE_DIR" 2>/dev/null && [ ! -d "$LT_STATE_DIR" ]; then
        lt_die "cannot create state dir $LT_STATE_DIR"
    fi
}

# lt_port_busy PORT - true if something listens on TCP PORT (false when ss
# is missing: the server that binds it says so then).
lt_port_busy() {
    command -v ss >/dev/null 2>&1 || return 1
    [ -n "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
}

# lt_free_port FIRST STEP [WIDTH] - print the first of FIRST, FIRST+STEP,
# FIRST+2*STEP, ... whose WIDTH (default 1) consecutive ports are all free.
lt_free_port() {
    local port=$1 step=$2 width=${3:-1} i busy
    while [ "$port" -le $((65535 - width)) ]; do
        busy=0
        for ((i = 0; i < width; i++)); do
            if lt_port_busy $((port + i)); then busy=1; break; fi
        done
        [ "$busy" = 0 ] && { printf '%s\n' "$port"; return 0; }
        port=$((port + step))
    done
    return 1
}

# -------------------------------------------------------------------- kafka
# lt_kafka_broker_count [N] - broker count to use: N if given, else
# $LT_KAFKA_BROKERS, else the count recorded by the last `deploy/kafka.sh
# start` in $LT_STATE_DIR, else 1.
lt_kafka_broker_count() {
    local n=${1:-${LT_KAFKA_BROKERS:-}}
    if [ -z "$n" ] && [ -r "$LT_STATE_DIR/kafka/cluster.env" ]; then
        n=$(sed -n 's/^brokers=//p' "$LT_STATE_DIR/kafka/cluster.env")
    fi
    n=${n:-1}
    case $n in
        1 | 3) printf '%s\n' "$n" ;;
        *)
            printf 'lienthong: error: broker count must be 1 or 3, got "%s"\n' "$n" >&2
            return 1
            ;;
    esac
}

# lt_brokers [N] - bootstrap list, e.g. "127.0.0.1:19092" or
# "127.0.0.1:19092,127.0.0.1:19094,127.0.0.1:19096".
lt_brokers() {
    local n i list=""
    n=$(lt_kafka_broker_count "${1:-}") || return 1
    for ((i = 0; i < n; i++)); do
        list+="${list:+,}127.0.0.1:$((LT_KAFKA_PORT + 2 * i))"
    done
    printf '%s\n' "$list"
}

# lt_topic PROVINCE COMMUNE - the events topic of a commune, the shell's one
# copy of the format (C: lt_topic_name).  A glob as COMMUNE gives a pattern:
# lt_topic 01 '[0-9][0-9][0-9][0-9][0-9]'.
lt_topic() {
    printf 'lt.%s.%s.events\n' "$1" "$2"
}

# ----------------------------------------------------------------- postgres
# lt_pg_conninfo DBNAME - libpq connection string for database DBNAME of the
# lienthong server ($LT_PG_CONNINFO, else 127.0.0.1:$LT_PG_PORT as postgres).
lt_pg_conninfo() {
    printf '%s dbname=%s\n' "${LT_PG_CONNINFO:-host=127.0.0.1 port=$LT_PG_PORT user=postgres}" \
        "${1:?lt_pg_conninfo: DBNAME required}"
}

# lt_psql DBNAME [PSQL-ARGS...] - psql against the lienthong server
# (no psqlrc, stop on first error, quiet, 10 s to connect).
lt_psql() {
    local db=${1:?lt_psql: DBNAME required}
    shift
    PGCONNECT_TIMEOUT=${PGCONNECT_TIMEOUT:-10} psql -X -q -v ON_ERROR_STOP=1 \
        -d "$(lt_pg_conninfo "$db")" "$@"
}

# lt_sql DBNAME SQL - one statement; unaligned tuples, "a|b" per row.
lt_sql() {
    lt_psql "$1" -At -c "$2"
}

# lt_pg_createdb NAME... - create each database that does not exist yet.
lt_pg_createdb() {
    local name
    for name in "$@"; do
        printf '%s\n' "SELECT format('CREATE DATABASE %I', :'name') WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'name') \\gexec" |
            lt_psql postgres -v name="$name" >/dev/null || return 1
    done
}

# lt_pg_fresh_db NAME - drop database NAME (closing its connections) and
# create it empty.
lt_pg_fresh_db() {
    lt_psql postgres -c 'SET client_min_messages = warning' \
        -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" -c "CREATE DATABASE \"$1\""
}

# ---------------------------------------------------------------- processes
# lt_spawn LOG CMD... - run CMD in the background of the calling shell (so
# that `wait` works), stdin /dev/null, stdout and stderr appended to LOG.
# Its pid: $! or LT_SPAWNED.
lt_spawn() {
    local log=$1
    shift
    "$@" </dev/null >>"$log" 2>&1 &
    LT_SPAWNED=$!
}

# lt_pid_alive PID - true while PID exists and is not a zombie.
lt_pid_alive() {
    local st
    st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
    [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# lt_stop_pid PID [TIMEOUT] - SIGTERM, wait up to TIMEOUT (default 30) s,
# then SIGKILL.  Returns 1 if it took SIGKILL, else 0.  A child of this
# shell is reaped: its exit status in LT_STOPPED_STATUS (empty otherwise).
lt_stop_pid() {
    local pid=$1 deadline=$((SECONDS + ${2:-30})) rc=0
    LT_STOPPED_STATUS=
    if lt_pid_alive "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true
        while lt_pid_alive "$pid" && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.1; done
        if lt_pid_alive "$pid"; then
            kill -KILL "$pid" 2>/dev/null || true
            rc=1
        fi
    fi
    if wait "$pid" 2>/dev/null; then LT_STOPPED_STATUS=0; else LT_STOPPED_STATUS=$?; fi
    # not our child: wait says 127 at once
    [ "$LT_STOPPED_STATUS" = 127 ] && LT_STOPPED_STATUS=
    return "$rc"
}

# lt_wait_for TIMEOUT INTERVAL CMD... - run CMD every INTERVAL seconds until
# it succeeds (0) or TIMEOUT seconds have passed (1).
lt_wait_for() {
    local deadline=$((SECONDS + $1)) interval=$2
    shift 2
    until "$@"; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep "$interval"
    done
}

# ------------------------------------------------------------- config files
# lt_write_ini FILE SECTION.KEY=VALUE... - write an ini file; sections in
# the order they first appear, keys in the order given.
lt_write_ini() {
    local file=$1 kv section key sections=() s
    declare -A body=()
    shift
    for kv in "$@"; do
        key=${kv%%=*}
        section=${key%%.*}
        [ "$section" != "$key" ] && [ -n "$section" ] ||
            { lt_warn "lt_write_ini: '$kv' is not section.key=value"; return 1; }
        [ -n "${body[$section]+x}" ] || sections+=("$section")
        body[$section]+="${key#*.} = ${kv#*=}"$'\n'
    done
    {
        for s in "${sections[@]}"; do
            [ "$s" = "${sections[0]}" ] || printf '\n'
            printf '[%s]\n%s' "$s" "${body[$s]}"
        done
    } >"$file"
}

# lt_write_agent_ini FILE COMMUNE PROVINCE CONNINFO BROKERS [SECTION.KEY=VALUE...]
lt_write_agent_ini() {
    local file=$1 commune=$2 province=$3 conninfo=$4 brokers=$5
    shift 5
    lt_write_ini "$file" "agent.commune=$commune" "agent.province=$province" \
        "agent.postgres=$conninfo" "$@" "kafka.bootstrap.servers=$brokers"
}

# lt_write_sink_ini FILE PROVINCE CONNINFO BROKERS [SECTION.KEY=VALUE...]
lt_write_sink_ini() {
    local file=$1 province=$2 conninfo=$3 brokers=$4
    shift 4
    lt_write_ini "$file" "sink.province=$province" "sink.postgres=$conninfo" "$@" \
        "kafka.bootstrap.servers=$brokers"
}

# lt_write_reconcile_ini FILE CONNINFO [SECTION.KEY=VALUE...]
lt_write_reconcile_ini() {
    local file=$1 conninfo=$2
    shift 2
    lt_write_ini "$file" "reconcile.postgres=$conninfo" "$@"
}

# ------------------------------------------------------------------- status
# lt_json FILTER [JQ-ARGS...] - apply a jq filter to the JSON document on
# stdin (e.g. what `lienthong-agent status --json` prints), raw output; fails
# on a document that does not parse.  An array prints as "a|b|c":
#     lienthong-agent -c agent.ini status --json | lt_json '[.acked_seq, .unsent]'
#     ... | lt_json '.communes[] | select(.commune == $c) | .last_seq' --arg c 00004
lt_json() {
    local filter=$1
    shift
    jq -r "$filter"' | if type == "array" then map(tostring) | join("|") else . end' "$@"
}

# lt_status_json CMD... - run a `status --json` command and print its JSON
# whatever its exit status says (a sink status that found a problem still
# reports); fail only when it printed nothing (its database did not answer).
lt_status_json() {
    local out
    out=$("$@" 2>/dev/null) || true
    [ -n "$out" ] && printf '%s\n' "$out"
}

# lt_drained AGENT_STATUS SINK_STATUS - given the JSON of `lienthong-agent
# status --json` and of `lienthong-sink status --json`: true when every
# outbox row of the agent's commune is numbered and acknowledged by Kafka
# (refused rows aside) and the province applied exactly its numbered events:
# its last_seq and its count of applied events both equal the commune's last
# sequence.
lt_drained() {
    local commune province last
    commune=$(lt_json '[.commune, .next_seq - 1, .unsent]' <<<"$1") || return 1
    last=${commune#*|}
    [ "${last#*|}" = 0 ] || return 1
    last=${last%|*}
    province=$(lt_json '[.communes[] | select(.commune == $c) | .last_seq, .events_applied]' \
        --arg c "${commune%%|*}" <<<"$2") || return 1
    [ "$province" = "$last|$last" ]
}

# -------------------------------------------------------------- sample data
# lt_death_records_sql CODE N YEAR CODE_LIST - an INSERT of N outbox rows of
# commune CODE, one death registration each (registered in June of YEAR,
# the death in April), valid under the rules: what a commune's books hold,
# fast to write in bulk. CODE_LIST is the code-list version of the place
# ("2025-07-01"; "2025-06-30" with a pre-reform CODE and a YEAR before 2025-07).
lt_death_records_sql() {
    local c=$1 n=$2 year=$3 list=$4
    cat <<SQL
INSERT INTO lt.outbox (entity_type, entity_id, version, op, occurred_at, payload)
SELECT 'civil_record', 'KT-$c-' || i, 1, 'upsert', timestamptz '$year-01-01' + i * interval '1 s',
    jsonb_build_object('kind', 'CIVIL_RECORD_KIND_DEATH',
      'registration', jsonb_build_object('authority', '$c', 'bookNumber', '01/$year',
        'entryNumber', i::text,
        'registeredOn', jsonb_build_object('year', $year, 'month', 6, 'day', 1 + i % 28),
        'officer', 'Trần Thị Bình', 'kind', 'REGISTRATION_KIND_LATE'),
      'death', jsonb_build_object(
        'deceased', jsonb_build_object('name', jsonb_build_object('family', 'Đỗ',
          'middle', 'Văn', 'given', 'Tư', 'full', 'Đỗ Văn Tư'),
          'dateOfBirth', jsonb_build_object('year', 1940), 'sex', 'SEX_MALE',
          'nationality', 'VN'),
        'dateOfDeath', jsonb_build_object('year', $year, 'month', 4),
        'place', jsonb_build_object('code', '$c', 'codeListVersion', '$list',
          'level', 'ADMIN_UNIT_LEVEL_COMMUNE')))
FROM generate_series(1, $n) i
SQL
}
