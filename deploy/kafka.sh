#!/usr/bin/env bash
# deploy/kafka.sh - run a local Apache Kafka (KRaft, no ZooKeeper) for
# lienthong's tests and demos: 1 combined broker+controller node, or 3.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    cat <<EOF
Usage: deploy/kafka.sh COMMAND [--brokers 1|3] [--node N] [--kill]

Local Apache Kafka $LT_KAFKA_VERSION in KRaft mode (every node is broker and
controller), from the jars that deploy/install-deps.sh puts in
$LT_KAFKA_LIBS.

Commands:
  start     format storage on first use, start the node(s), wait until the
            cluster reports all running brokers (timeout
            \$LT_KAFKA_START_TIMEOUT, default 90 s).  Already running: no-op.
  stop      SIGTERM, wait up to \$LT_KAFKA_STOP_TIMEOUT (default 30 s), then
            SIGKILL.  With --kill: SIGKILL at once (crash simulation).
  restart   stop, then start
  status    one line per node on stdout; exit 0 if all running, else 3
  wipe      stop, then delete $LT_STATE_DIR/kafka
  brokers   print the bootstrap list (same as lt_brokers in deploy/lib.sh)

Options:
  --brokers N  1 or 3 (default: \$LT_KAFKA_BROKERS, else what was last started
               in this state dir, else 1).  A state dir formatted for one
               count cannot be started with the other: wipe it first.
  --node N     act on node N only (1..3); e.g. 'stop --node 2 --kill' then
               'start --node 2' to test broker failure
  --kill       with stop/restart: SIGKILL instead of a clean shutdown
  -h, --help   this text

Ports (127.0.0.1 only): node N's broker listens on LT_KAFKA_PORT+2(N-1),
its controller on LT_KAFKA_PORT+2(N-1)+1.  With LT_KAFKA_PORT=$LT_KAFKA_PORT:
  1 broker:  broker $LT_KAFKA_PORT, controller $((LT_KAFKA_PORT + 1))
  3 brokers: brokers $LT_KAFKA_PORT,$((LT_KAFKA_PORT + 2)),$((LT_KAFKA_PORT + 4)); controllers $((LT_KAFKA_PORT + 1)),$((LT_KAFKA_PORT + 3)),$((LT_KAFKA_PORT + 5))

Files: $LT_STATE_DIR/kafka/node<N>/{server.properties,server.log,kafka.pid,data/}
       $LT_STATE_DIR/kafka/cluster.env (cluster id, broker count)

Environment: LT_STATE_DIR LT_CACHE_DIR LT_KAFKA_LIBS LT_KAFKA_PORT
  LT_KAFKA_BROKERS LT_KAFKA_START_TIMEOUT LT_KAFKA_STOP_TIMEOUT
  LT_KAFKA_HEAP (default "-Xms256m -Xmx512m")
  LT_KAFKA_JVM_OPTS (extra JVM options)
  LT_KAFKA_EXTRA_PROPS (extra server.properties lines, newline-separated;
    later lines override earlier ones)
  JAVA_HOME (else java from PATH)
EOF
}

KDIR="$LT_STATE_DIR/kafka"
CLUSTER_ENV="$KDIR/cluster.env"
KAFKA_JAR="kafka_2.13-$LT_KAFKA_VERSION.jar"
LOG4J_CONF="$LT_ROOT/deploy/kafka/log4j.properties"
: "${LT_KAFKA_START_TIMEOUT:=90}"
: "${LT_KAFKA_STOP_TIMEOUT:=30}"
: "${LT_KAFKA_HEAP:=-Xms256m -Xmx512m}"
: "${LT_KAFKA_JVM_OPTS:=}"
: "${LT_KAFKA_EXTRA_PROPS:=}"

# ---------------------------------------------------------------- arguments
cmd=""
opt_brokers=""
opt_node=""
opt_kill=0
while [ $# -gt 0 ]; do
    case $1 in
        -h | --help | help) usage; exit 0 ;;
        --brokers) [ $# -ge 2 ] || lt_die "kafka.sh: --brokers needs a value"; opt_brokers=$2; shift ;;
        --brokers=*) opt_brokers=${1#--brokers=} ;;
        --node) [ $# -ge 2 ] || lt_die "kafka.sh: --node needs a value"; opt_node=$2; shift ;;
        --node=*) opt_node=${1#--node=} ;;
        --kill) opt_kill=1 ;;
        start | stop | status | restart | wipe | brokers)
            [ -z "$cmd" ] || lt_die "kafka.sh: two commands given ('$cmd', '$1')"
            cmd=$1 ;;
        *) usage >&2; lt_die "kafka.sh: unknown argument '$1'" ;;
    esac
    shift
done
[ -n "$cmd" ] || { usage >&2; lt_die "kafka.sh: no command given"; }
case $opt_brokers in
    "" | 1 | 3) ;;
    *) lt_die "kafka.sh: --brokers must be 1 or 3, got '$opt_brokers'" ;;
esac
case ${LT_KAFKA_BROKERS:-} in
    "" | 1 | 3) ;;
    *) lt_die "kafka.sh: LT_KAFKA_BROKERS must be 1 or 3, got '$LT_KAFKA_BROKERS'" ;;
esac
case $LT_KAFKA_PORT in
    '' | *[!0-9]*) lt_die "kafka.sh: LT_KAFKA_PORT must be a number, got '$LT_KAFKA_PORT'" ;;
esac

recorded_brokers() {
    [ -r "$CLUSTER_ENV" ] && sed -n 's/^brokers=//p' "$CLUSTER_ENV"
    return 0
}

# Broker count: for start, the request wins (and must match the state dir);
# for stop/status, what the state dir was formatted for.
recorded=$(recorded_brokers)
if [ "$cmd" = start ] || [ "$cmd" = restart ]; then
    nbrokers=${opt_brokers:-${LT_KAFKA_BROKERS:-${recorded:-1}}}
else
    nbrokers=${opt_brokers:-${recorded:-${LT_KAFKA_BROKERS:-1}}}
fi

if [ -n "$opt_node" ]; then
    case $opt_node in
        [1-3]) ;;
        *) lt_die "kafka.sh: --node must be 1, 2 or 3, got '$opt_node'" ;;
    esac
    [ "$opt_node" -le "$nbrokers" ] ||
        lt_die "kafka.sh: --node $opt_node but the cluster has $nbrokers broker(s)"
    nodes=("$opt_node")
else
    nodes=()
    for ((i = 1; i <= nbrokers; i++)); do nodes+=("$i"); done
fi

# ------------------------------------------------------------------ helpers
node_dir() { printf '%s/node%s\n' "$KDIR" "$1"; }
broker_port() { echo $((LT_KAFKA_PORT + 2 * ($1 - 1))); }
controller_port() { echo $((LT_KAFKA_PORT + 2 * ($1 - 1) + 1)); }
bootstrap_of() { # NODE... -> host:port,...
    local n list=""
    for n in "$@"; do list+="${list:+,}127.0.0.1:$(broker_port "$n")"; done
    printf '%s\n' "$list"
}

# node_pid N - print the pid of node N's broker if it is running.
node_pid() {
    local nd pidfile pid
    nd=$(node_dir "$1")
    pidfile="$nd/kafka.pid"
    [ -s "$pidfile" ] || return 1
    pid=$(<"$pidfile")
    case $pid in '' | *[!0-9]*) return 1 ;; esac
    [ -r "/proc/$pid/cmdline" ] || return 1
    # Guard against pid reuse: it must be our broker for this node.
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null |
        grep -qF -- "kafka.Kafka $nd/server.properties" || return 1
    printf '%s\n' "$pid"
}

java_bin() {
    local j
    if [ -n "${JAVA_HOME:-}" ] && [ -x "$JAVA_HOME/bin/java" ]; then
        j="$JAVA_HOME/bin/java"
    else
        j=$(command -v java) || lt_die "java not found: run deploy/install-deps.sh (openjdk-17-jre-headless)"
    fi
    printf '%s\n' "$j"
}

need_tools() {
    [ -f "$LT_KAFKA_LIBS/$KAFKA_JAR" ] ||
        lt_die "Kafka jars missing (no $LT_KAFKA_LIBS/$KAFKA_JAR): run deploy/install-deps.sh first"
    [ -f "$LOG4J_CONF" ] || lt_die "missing $LOG4J_CONF"
    command -v kcat >/dev/null 2>&1 || lt_die "kcat not found: run deploy/install-deps.sh"
    JAVA=$(java_bin)
}

# Serialise concurrent invocations on one state dir.  fd 9 is closed for
# the brokers we start, so they never hold the lock.
take_lock() {
    lt_state_dir_init
    mkdir -p "$KDIR" || lt_die "cannot create $KDIR"
    exec 9>"$KDIR/.lock"
    if command -v flock >/dev/null 2>&1; then
        flock -w 120 9 || lt_die "another deploy/kafka.sh holds $KDIR/.lock for over 120 s"
    fi
}

# write_props N - (re)generate node N's server.properties.
write_props() {
    local n=$1 nd voters="" i rf isr minisr
    nd=$(node_dir "$n")
    for ((i = 1; i <= nbrokers; i++)); do
        voters+="${voters:+,}$i@127.0.0.1:$(controller_port "$i")"
    done
    if [ "$nbrokers" = 3 ]; then rf=3 isr=2 minisr=2; else rf=1 isr=1 minisr=1; fi
    mkdir -p "$nd/data" || lt_die "cannot create $nd/data"
    {
        echo "# generated by deploy/kafka.sh on every start; edits are lost"
        echo "process.roles=broker,controller"
        echo "node.id=$n"
        echo "controller.quorum.voters=$voters"
        echo "listeners=PLAINTEXT://127.0.0.1:$(broker_port "$n"),CONTROLLER://127.0.0.1:$(controller_port "$n")"
        echo "advertised.listeners=PLAINTEXT://127.0.0.1:$(broker_port "$n")"
        echo "inter.broker.listener.name=PLAINTEXT"
        echo "controller.listener.names=CONTROLLER"
        echo "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"
        echo "log.dirs=$nd/data"
        echo "auto.create.topics.enable=false"
        echo "num.partitions=1"
        echo "default.replication.factor=$rf"
        echo "min.insync.replicas=$minisr"
        echo "offsets.topic.replication.factor=$rf"
        echo "transaction.state.log.replication.factor=$rf"
        echo "transaction.state.log.min.isr=$isr"
        echo "group.initial.rebalance.delay.ms=0"
        echo "num.network.threads=2"
        echo "num.io.threads=4"
        echo "num.recovery.threads.per.data.dir=1"
        echo "log.retention.hours=168"
        echo "log.segment.bytes=1073741824"
        echo "log.retention.check.interval.ms=300000"
        if [ -n "$LT_KAFKA_EXTRA_PROPS" ]; then
            echo "# LT_KAFKA_EXTRA_PROPS"
            printf '%s\n' "$LT_KAFKA_EXTRA_PROPS"
        fi
    } >"$nd/server.properties.tmp"
    mv -f "$nd/server.properties.tmp" "$nd/server.properties"
}

# run_tool LOGFILE CLASS ARGS... - run a Kafka command-line class.
run_tool() {
    local log=$1
    shift
    "$JAVA" -Xmx256m -Dlog4j.configuration="file:$LOG4J_CONF" \
        -cp "$LT_KAFKA_LIBS/*" "$@" 2>>"$log"
}

cluster_id() {
    local id=""
    [ -r "$CLUSTER_ENV" ] && id=$(sed -n 's/^cluster_id=//p' "$CLUSTER_ENV")
    if [ -z "$id" ]; then
        id=$(run_tool "$KDIR/tools.log" kafka.tools.StorageTool random-uuid) ||
            lt_die "kafka.tools.StorageTool random-uuid failed (see $KDIR/tools.log)"
        [ -n "$id" ] || lt_die "kafka.tools.StorageTool random-uuid printed nothing"
        printf 'cluster_id=%s\nbrokers=%s\n' "$id" "$nbrokers" >"$CLUSTER_ENV.tmp"
        mv -f "$CLUSTER_ENV.tmp" "$CLUSTER_ENV"
    fi
    printf '%s\n' "$id"
}

format_node() {
    local n=$1 nd id out
    nd=$(node_dir "$n")
    [ -f "$nd/data/meta.properties" ] && return 0
    id=$(cluster_id)
    if ! out=$(run_tool "$KDIR/tools.log" kafka.tools.StorageTool format \
        -t "$id" -c "$nd/server.properties" --ignore-formatted); then
        printf '%s\n' "$out" >&2
        tail -n 30 "$KDIR/tools.log" >&2 2>/dev/null || true
        lt_die "formatting Kafka storage of node $n failed ($nd/data)"
    fi
}

launch_node() {
    local n=$1 nd log pidfile i p
    nd=$(node_dir "$n")
    log="$nd/server.log"
    pidfile="$nd/kafka.pid"
    for p in "$(broker_port "$n")" "$(controller_port "$n")"; do
        if lt_port_busy "$p"; then
            lt_die "port 127.0.0.1:$p (kafka node $n) is already in use by another process; set LT_KAFKA_PORT"
        fi
    done
    rm -f "$pidfile"
    printf '==== lienthong: starting node %s at %s ====\n' "$n" "$(date '+%F %T')" >>"$log"
    # The child writes its own pid, then becomes the JVM (same pid), so the
    # pid file is right whether or not setsid had to fork.
    # shellcheck disable=SC2016,SC2086 # $$ is for the child; heap/opts split on purpose
    (cd "$nd" && exec setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" \
        "$JAVA" $LT_KAFKA_HEAP -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
        -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
        -Dlog4j.configuration="file:$LOG4J_CONF" -Dkafka.logs.dir="$nd" \
        $LT_KAFKA_JVM_OPTS \
        -cp "$LT_KAFKA_LIBS/*" kafka.Kafka "$nd/server.properties") \
        </dev/null >>"$log" 2>&1 9>&- &
    for ((i = 0; i < 50; i++)); do
        [ -s "$pidfile" ] && return 0
        sleep 0.1
    done
    lt_die "kafka node $n did not start (no pid file $pidfile); see $log"
}

# wait_ready NODE... - until metadata lists every node in NODE...
wait_ready() {
    local start=$SECONDS deadline=$((SECONDS + LT_KAFKA_START_TIMEOUT)) out n m ok bs
    bs=$(bootstrap_of "$@")
    while :; do
        for n in "$@"; do
            if ! node_pid "$n" >/dev/null; then
                lt_warn "kafka node $n exited during start-up; last lines of $(node_dir "$n")/server.log:"
                tail -n 30 "$(node_dir "$n")/server.log" >&2 || true
                WAIT_ERROR="kafka node $n failed to start (see $(node_dir "$n")/server.log)"
                return 1
            fi
        done
        # Ask every node itself: a broker serves client requests only once
        # it has caught up with the metadata log and been unfenced (its
        # registration alone can outlive a killed broker by
        # broker.session.timeout.ms).  Each must list all of NODE....
        ok=1
        for n in "$@"; do
            if out=$(kcat -b "127.0.0.1:$(broker_port "$n")" -L -m 3 2>/dev/null) &&
                grep -qE "^Metadata .*from broker $n: " <<<"$out"; then
                for m in "$@"; do
                    grep -qE "^ +broker $m at " <<<"$out" || ok=0
                done
            else
                ok=0
            fi
            [ "$ok" = 1 ] || break
        done
        if [ "$ok" = 1 ]; then
            READY_SECS=$((SECONDS - start))
            return 0
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            for n in "$@"; do
                lt_warn "last lines of $(node_dir "$n")/server.log:"
                tail -n 30 "$(node_dir "$n")/server.log" >&2 || true
            done
            [ "$nbrokers" = 3 ] && lt_warn "a 3-node KRaft quorum needs at least 2 controllers up"
            WAIT_ERROR="kafka did not report broker(s) $* at $bs within ${LT_KAFKA_START_TIMEOUT}s"
            return 1
        fi
        sleep 0.5
    done
}

# --------------------------------------------------------------- commands
do_start() {
    need_tools
    take_lock
    if [ -n "$recorded" ] && [ "$recorded" != "$nbrokers" ]; then
        lt_die "$KDIR was set up for $recorded broker(s), not $nbrokers: run 'deploy/kafka.sh wipe' first or use another LT_STATE_DIR"
    fi
    local n to_start=() running=()
    for ((n = 1; n <= nbrokers; n++)); do
        node_pid "$n" >/dev/null && running+=("$n")
    done
    for n in "${nodes[@]}"; do
        node_pid "$n" >/dev/null || to_start+=("$n")
    done
    if [ "${#to_start[@]}" = 0 ]; then
        wait_ready "${running[@]}" || lt_die "$WAIT_ERROR"
        lt_log "kafka already running ($nbrokers broker(s)) at $(bootstrap_of "${running[@]}")"
        return 0
    fi
    if [ "${#to_start[@]}" = "$nbrokers" ]; then
        lt_log "starting kafka on $(bootstrap_of "${to_start[@]}") ..."
    else
        lt_log "starting kafka node(s) ${to_start[*]} on $(bootstrap_of "${to_start[@]}") ..."
    fi
    cluster_id >/dev/null
    for n in "${to_start[@]}"; do
        write_props "$n"
        format_node "$n"
    done
    for n in "${to_start[@]}"; do
        launch_node "$n"
        running+=("$n")
    done
    mapfile -t running < <(printf '%s\n' "${running[@]}" | sort -un)
    READY_SECS=0 WAIT_ERROR=""
    if ! wait_ready "${running[@]}"; then
        lt_warn "stopping the kafka node(s) this command started: ${to_start[*]}"
        stop_nodes "${to_start[@]}" || true
        lt_die "$WAIT_ERROR"
    fi
    lt_log "kafka ready: $(lt_brokers "$nbrokers") ($nbrokers broker(s), ${READY_SECS}s)"
}

# stop_nodes NODE... - stop those that run; SIGKILL if --kill or too slow.
stop_nodes() {
    local n pid pids=() names=() i deadline
    for n in "$@"; do
        if pid=$(node_pid "$n"); then
            pids+=("$pid")
            names+=("$n")
        else
            rm -f "$(node_dir "$n")/kafka.pid"
        fi
    done
    if [ "${#pids[@]}" = 0 ]; then
        lt_log "kafka already stopped (node(s) $*)"
        return 0
    fi
    if [ "$opt_kill" = 1 ]; then
        lt_log "killing kafka node(s) ${names[*]} (SIGKILL) ..."
        kill -KILL "${pids[@]}" 2>/dev/null || true
        deadline=$((SECONDS + 10))
    else
        lt_log "stopping kafka node(s) ${names[*]} ..."
        kill -TERM "${pids[@]}" 2>/dev/null || true
        deadline=$((SECONDS + LT_KAFKA_STOP_TIMEOUT))
    fi
    while :; do
        local alive=()
        for i in "${!pids[@]}"; do
            lt_pid_alive "${pids[$i]}" && alive+=("${pids[$i]}")
        done
        [ "${#alive[@]}" = 0 ] && break
        if [ "$SECONDS" -ge "$deadline" ]; then
            if [ "$opt_kill" = 1 ]; then
                lt_die "kafka pid(s) ${alive[*]} survived SIGKILL"
            fi
            lt_warn "kafka pid(s) ${alive[*]} still running after ${LT_KAFKA_STOP_TIMEOUT}s; sending SIGKILL"
            kill -KILL "${alive[@]}" 2>/dev/null || true
            opt_kill=1
            deadline=$((SECONDS + 10))
        fi
        sleep 0.2
    done
    local how=SIGTERM
    [ "$opt_kill" = 1 ] && how=SIGKILL
    for n in "${names[@]}"; do
        rm -f "$(node_dir "$n")/kafka.pid"
        printf '==== lienthong: node %s stopped (%s) at %s ====\n' "$n" "$how" "$(date '+%F %T')" \
            >>"$(node_dir "$n")/server.log"
    done
    lt_log "kafka stopped (node(s) ${names[*]})"
}

# all_node_numbers - every node that has a directory, plus the configured.
all_node_numbers() {
    local n
    for ((n = 1; n <= 3; n++)); do
        if [ -d "$(node_dir "$n")" ] || [ "$n" -le "$nbrokers" ]; then echo "$n"; fi
    done
}

do_stop() {
    [ -d "$KDIR" ] || { lt_log "kafka already stopped (no $KDIR)"; return 0; }
    take_lock
    if [ -n "$opt_node" ]; then
        stop_nodes "${nodes[@]}"
    else
        local all
        mapfile -t all < <(all_node_numbers)
        stop_nodes "${all[@]}"
    fi
}

do_status() {
    local n pid rc=0
    for n in "${nodes[@]}"; do
        if pid=$(node_pid "$n"); then
            printf 'kafka node%s: running (pid %s, broker 127.0.0.1:%s, controller 127.0.0.1:%s)\n' \
                "$n" "$pid" "$(broker_port "$n")" "$(controller_port "$n")"
        else
            printf 'kafka node%s: stopped\n' "$n"
            rc=3
        fi
    done
    return "$rc"
}

do_wipe() {
    if [ -d "$KDIR" ]; then
        do_stop
        rm -rf "$KDIR" || lt_die "cannot delete $KDIR"
        lt_log "deleted $KDIR"
    fi
}

case $cmd in
    start) do_start ;;
    stop) do_stop ;;
    restart) do_stop; recorded=$(recorded_brokers); do_start ;;
    status) do_status || exit 3 ;;
    wipe) do_wipe ;;
    brokers) lt_brokers "$opt_brokers" ;;
esac
