#!/usr/bin/env bash
# shellcheck disable=SC2119 # t_start_sink: its arguments are optional
# sd_notify, as systemd sees it from a Type=notify unit with WatchdogSec=:
# each daemon sends READY=1 (with a STATUS= line) only once it is up - the
# agent with its database and Kafka producer, the sink once subscribed -,
# WATCHDOG=1 from its main loop at least every quarter of WATCHDOG_USEC, and
# STOPPING=1 when SIGTERM arrives; then it exits 0. A small listener plays
# systemd's notification socket.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

t_setup 86 1
c=${T_COMMUNES[0]}
WATCHDOG_MS=2000

# t_listen NAME - a notification socket $T_DIR/NAME.sock; every datagram
# becomes a line "<monotonic seconds> <fields separated by |>" in
# $T_DIR/NAME.notify.
t_listen() {
    rm -f "$T_DIR/$1.sock"
    t_spawn "notify_$1" daemon python3 -c '
import signal, socket, sys, time
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        data = s.recv(65536).decode("utf-8", "replace")
        out.write("%.3f %s\n" % (time.monotonic(), data.replace("\n", "|")))
' "$T_DIR/$1.sock" "$T_DIR/$1.notify"
    wait_until "[ -S $T_DIR/$1.sock ]" 10 "notification socket $1"
}

# t_check_notify NAME READY_STATUS LOG_LINE - READY=1 came with a STATUS=
# matching READY_STATUS and not before LOG_LINE was logged; then at least
# 4 watchdog pings, none further apart than half the watchdog interval.
t_check_notify() {
    local name=$1 status=$2 logline=$3 log="$T_DIR/$1.log" notify="$T_DIR/$1.notify"
    wait_until "grep -q 'READY=1' $notify" 60 "$name: READY=1"
    grep -q "READY=1|STATUS=$status" "$notify" ||
        t_fail "$name: READY=1 without the STATUS= expected ($status): $(cat "$notify")"
    grep -q "$logline" "$log" || t_fail "$name: READY=1 before its log says: $logline"
    grep -q "msg=\"systemd watchdog on\" interval_ms=$WATCHDOG_MS" "$log" ||
        t_fail "$name: no 'systemd watchdog on' line with interval_ms=$WATCHDOG_MS in $log"
    sleep 3
    local pings gap
    pings=$(grep -c ' WATCHDOG=1$' "$notify" || true)
    t_assert_cmp "$pings" -ge 4 "$name: watchdog pings in 3 s (every $((WATCHDOG_MS / 4)) ms wanted)"
    gap=$(awk '/ WATCHDOG=1$/ { if (last) { g = $1 - last; if (g > max) max = g } last = $1 }
               END { printf "%d", max * 1000 }' "$notify")
    t_assert_cmp "$gap" -le $((WATCHDOG_MS / 2)) "$name: longest gap between watchdog pings (ms)"
    t_log "ok: $name: READY=1 with STATUS=$status, $pings watchdog pings, longest gap $gap ms"
}

# t_check_stopping NAME - STOPPING=1 after SIGTERM, and the daemon exited 0.
t_check_stopping() {
    grep -q 'STOPPING=1|STATUS=' "$T_DIR/$1.notify" ||
        t_fail "$1: no STOPPING=1 on SIGTERM: $(tail -n 3 "$T_DIR/$1.notify")"
    local after
    after=$(sed -n '/STOPPING=1/,$p' "$T_DIR/$1.notify" | grep -c 'READY=1' || true)
    t_assert_eq 0 "$after" "$1: READY=1 after STOPPING=1"
    t_log "ok: $1: STOPPING=1 on SIGTERM, exit 0"
}

t_listen sink
t_listen "agent_$c"
t_start_sink NOTIFY_SOCKET="$T_DIR/sink.sock" WATCHDOG_USEC=$((WATCHDOG_MS * 1000))
t_check_notify sink "province 86: subscribed, 1 communes" 'msg="subscribed"'
t_start_agent "$c" NOTIFY_SOCKET="$T_DIR/agent_$c.sock" WATCHDOG_USEC=$((WATCHDOG_MS * 1000))
t_check_notify "agent_$c" "commune $c: sending to $(t_topic "$c") from seq [0-9]" 'msg="agent started"'

# Work flows as usual under the notification socket, the pings with it.
t_wait_sink_ready 1
t_gen "$c" 500
t_wait_drained 60 "$c"
t_assert_exactly_once "$c" 500
t_check_procs

t_stop "agent_$c"
t_check_stopping "agent_$c"
t_stop sink
t_check_stopping sink
t_stop "notify_agent_$c"
t_stop notify_sink

# Without NOTIFY_SOCKET (not started by systemd) a watchdog is never armed,
# even with WATCHDOG_USEC in the environment.
t_start_sink WATCHDOG_USEC=$((WATCHDOG_MS * 1000))
since_start() { awk '/^==== /{ buf = "" } { buf = buf $0 "\n" } END { printf "%s", buf }' "$T_DIR/sink.log"; }
wait_until "since_start | grep -q 'msg=\"sink started\"'" 60 "sink started without NOTIFY_SOCKET"
sleep 1
! since_start | grep -q 'systemd watchdog' || t_fail "a sink outside systemd armed a watchdog"
t_stop sink
t_log "ok: sd_notify readiness, watchdog and stopping for both daemons; a no-op outside systemd"
