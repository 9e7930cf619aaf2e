# shellcheck shell=bash
# deploy/lib.sh - shared defaults and helpers for lienthong's deploy scripts,
# tests and demos.  Source it; do not execute it:
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
#   LT_QUIET          non-empty: lt_log prints nothing
#
# Functions: lt_log, lt_warn, lt_die, lt_state_dir_init, lt_brokers, lt_kafka_broker_count,
# lt_pg_conninfo, lt_psql.

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

# lt_pg_conninfo DBNAME - libpq connection string for the lienthong server.
lt_pg_conninfo() {
    printf 'host=127.0.0.1 port=%s user=postgres dbname=%s\n' \
        "$LT_PG_PORT" "${1:?lt_pg_conninfo: DBNAME required}"
}

# lt_psql DBNAME [PSQL-ARGS...] - psql against the lienthong server
# (no psqlrc, stop on first error, quiet).
lt_psql() {
    local db=${1:?lt_psql: DBNAME required}
    shift
    PGCONNECT_TIMEOUT=${PGCONNECT_TIMEOUT:-10} psql -X -q -v ON_ERROR_STOP=1 \
        -h 127.0.0.1 -p "$LT_PG_PORT" -U postgres -d "$db" "$@"
}
