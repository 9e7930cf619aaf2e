#!/usr/bin/env bash
# bench/run.sh - lienthong throughput, latency and memory benchmark.
#
# Starts its own Kafka and PostgreSQL (deploy/kafka.sh, deploy/postgres.sh)
# in a fresh state directory on ports of its own - or uses services already
# running (--brokers, --postgres) - and runs one script per measurement:
#
#   bench/setup.sh         databases, keys, communes; machine and versions
#   bench/agent_rss.sh     pre-fill; (e) agent peak RSS while draining it
#   bench/sink_apply.sh    (a) sink sustained apply rate (events/s); with
#                          --profile, (a') the same under perf
#   bench/ceiling_copy.sh  (b) ceiling: plain COPY of the same rows
#   bench/floor_insert.sh  (c) floor: one INSERT ... ON CONFLICT per event
#   bench/latency.sh       (d) end-to-end latency p50/p99
#   bench/check.sh         every commune EQUAL, nothing quarantined
#   bench/report.sh        the report: printed, bench/out/summary.txt and
#                          bench/out/results.json
#
# With --peer, the sink beside its peer (Kafka Connect + the Debezium JDBC
# sink) on the same events, broker and PostgreSQL, instead of (a) to (e):
#
#   bench/setup.sh, bench/agent_rss.sh   as above (the pre-fill)
#   bench/peer_setup.sh    the peer's jars (Maven), topics and records
#   bench/peer_apply.sh    rounds of: a sink pass, a pass of each peer
#                          configuration
#   bench/ceiling_copy.sh  (b), bench/check.sh
#   bench/peer_report.sh   the report: printed, bench/out/peer.txt and
#                          bench/out/peer.json
#
# See bench/README.md.  bench/run.sh --help lists the settings.
set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(dirname "$BENCH_DIR")

usage() {
    cat <<'EOF'
Usage: bench/run.sh [--peer | --consistency | --scale] [--brokers HOST:PORT[,...]] [--postgres CONNINFO] [--help]

Runs the lienthong benchmark end to end (about 7-9 minutes on 2 cores) and
prints six figures: (a) sink apply rate, (b) COPY ceiling, (c) per-event
floor, (d) end-to-end latency p50/p99, (e) agent peak RSS, (f) a commune's
100,000-event outage backlog sent and applied.

  --peer              instead: the sink beside its peer, Kafka Connect
                      standalone with the Debezium JDBC sink (jars fetched
                      with Maven once), on the same events, broker and
                      PostgreSQL, back to back: events/s (median of
                      LT_BENCH_REPEAT passes), CPU us per event (process +
                      PostgreSQL backends), peak RSS, ratios, and (b).
                      LT_BENCH_EVENTS defaults to 200000 then.  About
                      17 minutes on 2 cores.

  --consistency       instead: what proving consistency costs (bench/
                      consistency.sh): report over 100 communes, one record
                      removed among 1,000,000 detected and repaired,
                      verify --deep over them, and the digest's share of the
                      sink's apply rate.  About 15 minutes on 2 cores.

  --scale             instead: the pre-fill applied by 1, 2 and 4 sinks in
                      one consumer group (LT_BENCH_SCALE_SINKS), median of
                      LT_BENCH_REPEAT passes each: events/s, CPU us per
                      event, peak RSS, topics per sink, speed-up over one
                      sink.  About 6 minutes on 2 cores at 200,000 events.

Services: by default Kafka and PostgreSQL of its own, started in a fresh
state directory and stopped at the end.  Else:
  --brokers LIST      a Kafka already running (bootstrap list); also
                      LT_BENCH_BROKERS.  Topics of province 01 that hold
                      records already are read from their end.
  --postgres CONNINFO a PostgreSQL already running: libpq conninfo without
                      dbname, of a role that may create databases, e.g.
                      "host=db1 port=5432 user=postgres"; also
                      LT_BENCH_POSTGRES.  The server needs
                      track_commit_timestamp = on; pg_stat_statements in
                      shared_preload_libraries for the pgss-*.txt reports.
                      The benchmark's databases are named lt_bench_*: it
                      drops and recreates those, and drops them at the end.

Environment (all optional):
  LT_BENCH_BUILD          build directory (default: <repo>/build); configured
                          and built with cmake/ninja unless LT_BENCH_NO_BUILD=1
  LT_BENCH_OUT            output directory (default: bench/out)
  LT_BENCH_KAFKA_PORT     its own Kafka broker port (default 49092; controller +1)
  LT_BENCH_PG_PORT        its own PostgreSQL port (default 45432)
  LT_BENCH_COMMUNES       pre-filled communes of province 01
                          (default "00004 00008 00025 00070")
  LT_BENCH_EVENTS         pre-filled events in total (default 600000)
  LT_BENCH_FLOOR_EVENTS   events applied one by one for (c) (default 20000)
  LT_BENCH_LAT_COMMUNE    commune used for (d) (default 00091)
  LT_BENCH_LAT_RATE       events/s written during (d) (default 300)
  LT_BENCH_LAT_SECONDS    duration of (d) (default 60)
  LT_BENCH_LAT_WARMUP     seconds at the start of (d) left out of the
                          percentiles (default 5)
  LT_BENCH_PROFILE        1: re-run (a) on a fresh database under perf and
                          save profiles; 0: skip; auto (default): 1 if perf
                          can attach to processes
  LT_BENCH_PG_CONF        extra postgresql.conf lines (newline-separated;
                          its own PostgreSQL only)
  LT_BENCH_KEEP           1: keep the state directory (databases, Kafka
                          data, logs) and leave nothing running
  LT_BENCH_REPEAT         passes of (a), (b) and (c); the best is reported
                          (default 3)
  LT_BENCH_OUTAGE_EVENTS  events waiting in the outbox for (f) (default 100000)
  LT_BENCH_SCALE_SINKS    --scale: the sink counts (default "1 2 4")
  LT_BENCH_SINK_OPTS      extra "-o key=value" words for lienthong-sink run,
                          e.g. "-o sink.round_max_messages=50"
  LT_BENCH_PEER_CONFIGS   --peer: peer configurations, space-separated
                          LABEL:TASKS:BATCH:MAXPOLL:REDUCTION:URLPARAMS
                          (tasks.max, batch.size, max.poll.records,
                          use.reduction.buffer, JDBC URL parameters); default
                          "peer-1task:1:500:500:false:
                           peer-tuned:4:5000:5000:true:&reWriteBatchedInserts=true"
  LT_BENCH_PEER_LIBS      --peer: where the peer's jars are (fetched there if
                          missing; default under ~/.cache/lienthong)
  LT_BENCH_CONNECT_PORT   --peer: the Connect worker's REST port on 127.0.0.1
                          (default 48083)
EOF
}
PEER=0 CONSISTENCY=0 SCALE=0
while [ $# -gt 0 ]; do
    case $1 in
        -h | --help) usage; exit 0 ;;
        --peer) PEER=1; shift ;;
        --consistency) CONSISTENCY=1; shift ;;
        --scale) SCALE=1; shift ;;
        --brokers) [ $# -ge 2 ] || { usage >&2; exit 2; }; LT_BENCH_BROKERS=$2; shift 2 ;;
        --brokers=*) LT_BENCH_BROKERS=${1#*=}; shift ;;
        --postgres) [ $# -ge 2 ] || { usage >&2; exit 2; }; LT_BENCH_POSTGRES=$2; shift 2 ;;
        --postgres=*) LT_BENCH_POSTGRES=${1#*=}; shift ;;
        *) usage >&2; exit 2 ;;
    esac
done

# ------------------------------------------------------------------ settings
[ "$PEER$SCALE" = 00 ] || : "${LT_BENCH_EVENTS:=200000}" # the workload of issue 10
: "${LT_BENCH_KAFKA_PORT:=49092}"
: "${LT_BENCH_PG_PORT:=45432}"
OWN_KAFKA=0 OWN_PG=0
[ -n "${LT_BENCH_BROKERS:-}" ] || OWN_KAFKA=1
[ -n "${LT_BENCH_POSTGRES:-}" ] || OWN_PG=1
# Our own state dir and ports: never the developer's running stack.
LT_STATE_DIR=$(mktemp -d /tmp/lt-bench.XXXXXX)
chmod 0755 "$LT_STATE_DIR"
export LT_STATE_DIR LT_KAFKA_BROKERS=1
export LT_KAFKA_PORT=$LT_BENCH_KAFKA_PORT LT_PG_PORT=$LT_BENCH_PG_PORT
# pg_stat_statements: where the sink's time goes; track_commit_timestamp: the
# province commit time of every applied row; max_wal_size: no WAL-triggered
# checkpoint inside a timed phase (each phase starts with a CHECKPOINT).
export LT_PG_EXTRA_CONF="shared_preload_libraries = 'pg_stat_statements'
track_commit_timestamp = on
max_wal_size = 8GB${LT_BENCH_PG_CONF:+
$LT_BENCH_PG_CONF}"
[ "$OWN_KAFKA" = 0 ] || LT_BENCH_BROKERS=127.0.0.1:$LT_KAFKA_PORT
[ "$OWN_PG" = 0 ] || LT_BENCH_POSTGRES="host=127.0.0.1 port=$LT_PG_PORT user=postgres"
export LT_BENCH_BROKERS LT_BENCH_POSTGRES LT_BENCH_OWN_KAFKA=$OWN_KAFKA
export LT_BENCH_T0=$(date +%s.%N)
# shellcheck source=bench/lib.sh
. "$BENCH_DIR/lib.sh"
[ "$NCOMMUNES" -ge 1 ] || { echo "bench: LT_BENCH_COMMUNES is empty" >&2; exit 2; }
export LT_BENCH_BUILD LT_BENCH_OUT LT_BENCH_COMMUNES LT_BENCH_EVENTS LT_BENCH_FLOOR_EVENTS \
    LT_BENCH_LAT_COMMUNE LT_BENCH_LAT_RATE LT_BENCH_LAT_SECONDS LT_BENCH_LAT_WARMUP \
    LT_BENCH_PROFILE LT_BENCH_KEEP LT_BENCH_SINK_OPTS LT_BENCH_REPEAT LT_BENCH_STATE \
    LT_BENCH_PEER_CONFIGS LT_BENCH_PEER_LIBS LT_BENCH_CONNECT_PORT LT_BENCH_OUTAGE_EVENTS \
    LT_BENCH_SCALE_SINKS
mkdir -p "$OUT"
rm -f "$OUT"/results.json "$OUT"/summary.txt "$OUT"/*.log "$OUT"/*.env "$OUT"/perf-*.txt \
    "$OUT"/pgss-*.txt "$OUT"/peer.txt "$OUT"/peer.json "$OUT"/peer_passes.tsv

SERVICES=0
cleanup() {
    local rc=$? db
    trap - EXIT INT TERM
    if [ "$SERVICES" = 1 ] && [ "$OWN_KAFKA$OWN_PG" != 00 ]; then
        say "stopping the benchmark's own Kafka and PostgreSQL"
        [ "$OWN_KAFKA" = 0 ] || LT_QUIET=1 "$ROOT/deploy/kafka.sh" stop >/dev/null 2>&1 || true
        [ "$OWN_PG" = 0 ] || LT_QUIET=1 "$ROOT/deploy/postgres.sh" stop >/dev/null 2>&1 || true
    fi
    if [ "$PEER$SERVICES$OWN_KAFKA" = 110 ] && [ "$LT_BENCH_KEEP" != 1 ]; then
        "$BENCH_DIR/peer_setup.sh" --delete-topics >/dev/null 2>&1 || true
    fi
    if [ "$OWN_PG" = 0 ] && [ "$LT_BENCH_KEEP" != 1 ]; then
        for db in $(q postgres "SELECT datname FROM pg_database WHERE datname LIKE 'lt\\_bench\\_%'" 2>/dev/null); do
            q postgres "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
        done
    fi
    if [ "$LT_BENCH_KEEP" = 1 ]; then
        say "state kept in $LT_STATE_DIR"
    else
        rm -rf "$LT_STATE_DIR"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- services
say "lienthong benchmark: state $LT_STATE_DIR, Kafka $LT_BENCH_BROKERS, PostgreSQL $LT_BENCH_POSTGRES"
for port in $([ "$OWN_KAFKA" = 0 ] || echo "$LT_KAFKA_PORT $((LT_KAFKA_PORT + 1))") \
    $([ "$OWN_PG" = 0 ] || echo "$LT_PG_PORT") $([ "$PEER" = 0 ] || echo "$LT_BENCH_CONNECT_PORT"); do
    lt_port_busy "$port" && die "port $port is in use: set LT_BENCH_KAFKA_PORT / LT_BENCH_PG_PORT / LT_BENCH_CONNECT_PORT"
done

if [ "${LT_BENCH_NO_BUILD:-0}" != 1 ]; then
    say "building in $BIN"
    [ -f "$BIN/CMakeCache.txt" ] || cmake -S "$ROOT" -B "$BIN" -G Ninja >"$OUT/build.log" 2>&1 ||
        die "cmake configure failed, see $OUT/build.log"
    cmake --build "$BIN" --target lienthong-agent lienthong-sink lienthong-gen \
        lienthong-reconcile lt-bench-floor lt-bench-digest >>"$OUT/build.log" 2>&1 ||
        die "build failed, see $OUT/build.log"
fi
for b in "$AGENT" "$SINK" "$GEN" "$RECONCILE" "$FLOOR"; do
    [ -x "$b" ] || die "$b is missing (build first, or unset LT_BENCH_NO_BUILD)"
done

SERVICES=1
if [ "$OWN_KAFKA" = 1 ]; then
    say "starting Kafka $LT_KAFKA_VERSION"
    LT_QUIET=1 "$ROOT/deploy/kafka.sh" start >"$OUT/kafka-start.log" 2>&1 ||
        { cat "$OUT/kafka-start.log" >&2; die "Kafka did not start"; }
fi
if [ "$OWN_PG" = 1 ]; then
    say "starting PostgreSQL"
    LT_QUIET=1 "$ROOT/deploy/postgres.sh" start >"$OUT/postgres-start.log" 2>&1 ||
        { cat "$OUT/postgres-start.log" >&2; die "PostgreSQL did not start"; }
fi

# ------------------------------------------------------------ measurements
if [ "$CONSISTENCY" = 1 ]; then
    "$BENCH_DIR/consistency.sh"
    exit 0
fi
"$BENCH_DIR/setup.sh"
"$BENCH_DIR/agent_rss.sh"
if [ "$SCALE" = 1 ]; then
    "$BENCH_DIR/scale.sh"
    "$BENCH_DIR/scale_report.sh"
    exit 0
fi
if [ "$PEER" = 1 ]; then
    "$BENCH_DIR/peer_setup.sh"
    "$BENCH_DIR/peer_apply.sh"
    "$BENCH_DIR/ceiling_copy.sh"
    "$BENCH_DIR/check.sh"
    TOTAL_S=$(fmt0 "$(calc "$(now) - $LT_BENCH_T0")") "$BENCH_DIR/peer_report.sh"
    exit 0
fi
"$BENCH_DIR/sink_apply.sh"
"$BENCH_DIR/sink_apply.sh" --profile
"$BENCH_DIR/ceiling_copy.sh"
"$BENCH_DIR/floor_insert.sh"
"$BENCH_DIR/latency.sh"
"$BENCH_DIR/outage.sh"
"$BENCH_DIR/check.sh"
TOTAL_S=$(fmt0 "$(calc "$(now) - $LT_BENCH_T0")") "$BENCH_DIR/report.sh"
