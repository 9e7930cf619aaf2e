#!/usr/bin/env bash
# tests/run.sh - the one command that builds lienthong and runs its test
# suite (unit tests and the integration tests against a real Kafka broker
# and a real PostgreSQL server).
#
#     tests/run.sh                  # everything
#     tests/run.sh -L integration   # extra arguments go to ctest
#     tests/run.sh -R sink_crash    # one test
#
# What it does, from any working directory:
#   1. deploy/install-deps.sh (idempotent; installs only what is missing)
#   2. cmake -G Ninja + build into $LT_BUILD_DIR (default: <repo>/build)
#   3. a private state dir (mktemp -d) and private ports, so it never touches
#      a running demo: Kafka on $LT_TEST_KAFKA_PORT (default: the first free
#      of 29092, 29102, ...; controller on port+1), PostgreSQL on
#      $LT_TEST_PG_PORT (default: the first free of 25432, 25442, ...)
#   4. starts one Kafka broker and PostgreSQL with deploy/kafka.sh and
#      deploy/postgres.sh, runs ctest --output-on-failure [ARGS...]
#   5. always stops both on exit; the state dir (logs of every daemon of
#      every test) is removed after a successful run, kept after a failure
#      or with LT_KEEP_STATE=1.
# Exit status: ctest's (or 1 if setting up failed, 130 on interrupt).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
# shellcheck source=deploy/lib.sh source-path=SCRIPTDIR/..
. "$ROOT/deploy/lib.sh"

case ${1:-} in
    -h | --help)
        sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
        exit 0
        ;;
esac

say() { printf '==> %s\n' "$*" >&2; }

BUILD_DIR=${LT_BUILD_DIR:-$ROOT/build}
case $BUILD_DIR in /*) ;; *) BUILD_DIR="$PWD/$BUILD_DIR" ;; esac
say "lienthong test suite: repo $ROOT, build dir $BUILD_DIR"

# ------------------------------------------------------------- 1. deps, build
say "checking dependencies (deploy/install-deps.sh)"
"$ROOT/deploy/install-deps.sh"

say "configuring and building"
if [ -f "$BUILD_DIR/CMakeCache.txt" ]; then
    cmake -S "$ROOT" -B "$BUILD_DIR" >/dev/null # keep the generator it has
else
    cmake -S "$ROOT" -B "$BUILD_DIR" -G Ninja >/dev/null
fi
cmake --build "$BUILD_DIR" -j "$(nproc 2>/dev/null || echo 2)"

# ------------------------------------------------------------ 2. services
# Defaults: the first free of 29092, 29102, ... (broker and controller port)
# and of 25432, 25442, ... - so two runs at once do not collide, and below
# the ephemeral port range (32768-60999): a client socket of the tests can
# never hold a server port that is about to be bound.
KAFKA_PORT=${LT_TEST_KAFKA_PORT:-$(lt_free_port 29092 10 2)}
PG_PORT=${LT_TEST_PG_PORT:-$(lt_free_port 25432 10)}

# A private state dir: never the demo's LT_STATE_DIR, even if one is exported.
STATE_DIR=$(mktemp -d "${TMPDIR:-/tmp}/lienthong-test.XXXXXX")
chmod 0755 "$STATE_DIR" # the postgres OS user must traverse it
export LT_STATE_DIR="$STATE_DIR"
export LT_KAFKA_PORT="$KAFKA_PORT" LT_PG_PORT="$PG_PORT" LT_KAFKA_BROKERS=1
export LT_TEST_BIN_DIR="$BUILD_DIR"
export LT_TEST_BROKERS="127.0.0.1:$KAFKA_PORT"
export LT_ROOT="$ROOT"
unset LT_CRASH_POINT # a stray one would crash the daemons under test

rc=1
# shellcheck disable=SC2317 # invoked by the trap
cleanup() {
    trap - EXIT INT TERM
    # Daemons a killed test (ctest timeout) could not stop itself: each test
    # records the pid of what it starts in $STATE_DIR/tests/<test>/*.pid.
    local f pid
    for f in "$STATE_DIR"/tests/*/*.pid; do
        [ -f "$f" ] || continue
        pid=$(<"$f")
        case $pid in '' | *[!0-9]*) continue ;; esac
        if grep -qF "$BUILD_DIR/" "/proc/$pid/cmdline" 2>/dev/null; then
            say "killing leftover test process $pid ($(basename "$f" .pid))"
            kill -KILL "$pid" 2>/dev/null || true
        fi
    done
    say "stopping kafka and postgres"
    "$ROOT/deploy/kafka.sh" stop >/dev/null 2>&1 || "$ROOT/deploy/kafka.sh" stop --kill || true
    "$ROOT/deploy/postgres.sh" stop >/dev/null 2>&1 || true
    if [ "$rc" != 0 ] || [ "${LT_KEEP_STATE:-0}" = 1 ]; then
        say "state kept in $STATE_DIR"
        say "  test logs:  $STATE_DIR/tests/<test>/  (agent_*.log, sink.log, gen_*.log, *.ini)"
        say "  kafka log:  $STATE_DIR/kafka/node1/server.log"
        say "  postgres:   $STATE_DIR/pg/postgres.log"
    else
        rm -rf "$STATE_DIR"
    fi
    if [ "$rc" = 0 ]; then say "PASSED"; else say "FAILED (exit $rc)"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'rc=130; exit 130' INT TERM

say "state dir $STATE_DIR; kafka 127.0.0.1:$KAFKA_PORT; postgres 127.0.0.1:$PG_PORT"
say "starting kafka (1 broker)"
"$ROOT/deploy/kafka.sh" start --brokers 1
say "starting postgres"
"$ROOT/deploy/postgres.sh" start

# ------------------------------------------------------------------ 3. tests
say "ctest --test-dir $BUILD_DIR --output-on-failure $*"
set +e
ctest --test-dir "$BUILD_DIR" --output-on-failure "$@"
rc=$?
set -e
exit "$rc"
