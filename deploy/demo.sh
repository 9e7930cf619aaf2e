#!/usr/bin/env bash
# deploy/demo.sh - lienthong's main job, end to end, on this machine.
#
# Installs what is missing, builds, starts Kafka (KRaft) and PostgreSQL on
# loopback, provisions three real communes of Hà Nội with their own signing
# keys, writes realistic commune activity into their outboxes while the
# agents and the province sink run, then proves the province holds exactly
# what the communes hold. Exit status 0 only if every commune matches.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: deploy/demo.sh [--events N] [--keep] [--help]

  --events N   outbox events each commune writes (default 5000)
  --keep       leave Kafka, PostgreSQL, the sink and the agents running
               afterwards, to look around (the status page's address and the
               commands to stop everything are printed at the end)

Environment: LT_STATE_DIR (default /tmp/lienthong-demo), LT_KAFKA_PORT (19092),
LT_PG_PORT (15432), LT_HTTP_PORT (19465, the sink's status page and metrics),
LT_BUILD_DIR (build). Each run starts from empty services.
EOF
}

EVENTS=5000
KEEP=0
while [ $# -gt 0 ]; do
    case $1 in
        --events) EVENTS=${2:?--events needs a number}; shift 2 ;;
        --keep) KEEP=1; shift ;;
        -h | --help) usage; exit 0 ;;
        *) echo "demo.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
    esac
done
case $EVENTS in '' | *[!0-9]*) echo "demo.sh: --events must be a number, got '$EVENTS'" >&2; exit 2 ;; esac

: "${LT_STATE_DIR:=/tmp/lienthong-demo}"
export LT_STATE_DIR
# shellcheck source=deploy/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
BUILD=${LT_BUILD_DIR:-$LT_ROOT/build}
case $BUILD in /*) ;; *) BUILD="$LT_ROOT/$BUILD" ;; esac
PROVINCE=01
COMMUNES=(00004 00008 00070) # Phường Ba Đình, Phường Ngọc Hà, Phường Hoàn Kiếm
DEMO="$LT_STATE_DIR/demo"
PIDS=()
HTTP_PORT=${LT_HTTP_PORT:-19465}
PAGE="http://127.0.0.1:$HTTP_PORT/"

step() { printf '\n== %s\n' "$*"; }

cleanup() {
    local rc=$? pid
    if [ "$KEEP" = 1 ] && [ "$rc" = 0 ]; then
        return
    fi
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do lt_stop_pid "$pid" 10 || true; done
    "$LT_ROOT/deploy/kafka.sh" stop >/dev/null 2>&1 || true
    "$LT_ROOT/deploy/postgres.sh" stop >/dev/null 2>&1 || true
    [ "$rc" = 0 ] || echo "demo.sh: failed; logs are in $DEMO" >&2
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "Installing what is missing (Debian packages, Kafka $LT_KAFKA_VERSION jars from Maven Central)"
"$LT_ROOT/deploy/install-deps.sh"

step "Building"
cmake -S "$LT_ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$BUILD" lienthong-agent lienthong-sink lienthong-reconcile lienthong-gen >/dev/null
AGENT="$BUILD/producer/lienthong-agent"
SINK="$BUILD/consumer/lienthong-sink"
RECONCILE="$BUILD/reconcile/lienthong-reconcile"
GEN="$BUILD/producer/lienthong-gen"

step "Starting Kafka and PostgreSQL on 127.0.0.1 (fresh state in $LT_STATE_DIR)"
"$LT_ROOT/deploy/kafka.sh" wipe >/dev/null 2>&1 || true
"$LT_ROOT/deploy/postgres.sh" wipe >/dev/null 2>&1 || true
"$LT_ROOT/deploy/kafka.sh" start
"$LT_ROOT/deploy/postgres.sh" start
BROKERS=$(lt_brokers)
rm -rf "$DEMO" && mkdir -p "$DEMO/keys"

step "Province $PROVINCE: schema and three communes, each with its own Ed25519 key"
"$LT_ROOT/deploy/postgres.sh" createdb "lt_province_$PROVINCE" >/dev/null
lt_write_sink_ini "$DEMO/sink.ini" "$PROVINCE" "$(lt_pg_conninfo "lt_province_$PROVINCE")" \
    "$BROKERS" sink.stats_interval_s=10 "sink.http_listen=127.0.0.1:$HTTP_PORT"
"$SINK" -c "$DEMO/sink.ini" migrate
for code in "${COMMUNES[@]}"; do
    "$LT_ROOT/deploy/postgres.sh" createdb "lt_commune_$code" >/dev/null
    "$AGENT" keygen "$DEMO/keys/$code.key.pem" "$DEMO/keys/$code.pub.pem" >/dev/null
    lt_write_agent_ini "$DEMO/agent-$code.ini" "$code" "$PROVINCE" \
        "$(lt_pg_conninfo "lt_commune_$code")" "$BROKERS" \
        "agent.signing_key=$DEMO/keys/$code.key.pem" agent.stats_interval_s=10
    "$AGENT" -c "$DEMO/agent-$code.ini" init >/dev/null
    "$SINK" -c "$DEMO/sink.ini" provision "$code" "$DEMO/keys/$code.pub.pem"
done

step "Running: the sink, one agent per commune, and $EVENTS events of commune activity each"
lt_spawn "$DEMO/sink.log" "$SINK" -c "$DEMO/sink.ini" run
PIDS+=("$LT_SPAWNED")
for code in "${COMMUNES[@]}"; do
    lt_spawn "$DEMO/agent-$code.log" "$AGENT" -c "$DEMO/agent-$code.ini" run
    PIDS+=("$LT_SPAWNED")
done
GEN_PIDS=()
for code in "${COMMUNES[@]}"; do
    "$GEN" -d "$(lt_pg_conninfo "lt_commune_$code")" -c "$code" -n "$EVENTS" -w 4 \
        -s "${code#000}" >"$DEMO/gen-$code.txt" &
    GEN_PIDS+=($!)
done
for pid in "${GEN_PIDS[@]}"; do wait "$pid"; done
for code in "${COMMUNES[@]}"; do sed 's/^/   /' "$DEMO/gen-$code.txt"; done

# Done when every commune's numbered events are all applied at the province,
# as `status --json` of the agents and of the sink tell.
agent_status() { lt_status_json "$AGENT" -c "$DEMO/agent-$1.ini" status --json; }
sink_status() { lt_status_json "$SINK" -c "$DEMO/sink.ini" status --json; }
drained() { lt_drained "$(agent_status "$1")" "$(sink_status)"; }
printf '   waiting for the province to catch up'
deadline=$((SECONDS + 180))
for code in "${COMMUNES[@]}"; do
    until drained "$code"; do
        if [ $SECONDS -ge $deadline ]; then
            echo; echo "demo.sh: commune $code did not drain in 180 s; see $DEMO/*.log" >&2
            exit 1
        fi
        printf '.'
        sleep 1
    done
done
echo " done"

step "Status at the province (lienthong-sink status)"
"$SINK" -c "$DEMO/sink.ini" status
echo
echo "   status page: $PAGE  (also $PAGE""status.json, $PAGE""metrics)"
if command -v curl >/dev/null; then
    curl -sf "$PAGE""metrics" | grep -E '^lienthong_sink_(events_applied|messages_quarantined)_total' \
        | sed 's/^/   /' || true
fi

step "Proof: every entity (version + content hash) and every sequence, both levels"
RC=0
province_status=$(sink_status)
printf '%-8s %9s %9s %9s  %-9s %s\n' commune written applied entities state name
for code in "${COMMUNES[@]}"; do
    IFS='|' read -r applied name < <(lt_json '.communes[] | select(.commune == $c)
        | [.events_applied, .name]' --arg c "$code" <<<"$province_status")
    written=$(agent_status "$code" | lt_json '.next_seq - 1 + .unnumbered + .refused')
    entities=$(lt_sql "lt_province_$PROVINCE" "SELECT count(*) FROM lt.entity WHERE commune_code = '$code'")
    if "$RECONCILE" -o "reconcile.postgres=$(lt_pg_conninfo "lt_province_$PROVINCE")" \
        verify "$code" "$(lt_pg_conninfo "lt_commune_$code")" >"$DEMO/verify-$code.txt"; then
        state=EQUAL
    else
        state=DIFFERENT
        RC=1
    fi
    printf '%-8s %9s %9s %9s  %-9s %s\n' "$code" "$written" "$applied" "$entities" "$state" "$name"
done
echo
echo "   typed tables at the province:"
lt_psql "lt_province_$PROVINCE" -c "SELECT kind, count(*) AS records,
    count(*) FILTER (WHERE registered_late) AS registered_late
    FROM lt.civil_record GROUP BY kind ORDER BY records DESC" | sed 's/^/   /'
lt_psql "lt_province_$PROVINCE" -c "SELECT status, count(*) AS dossiers FROM lt.dossier
    GROUP BY status ORDER BY dossiers DESC" | sed 's/^/   /'
lt_psql "lt_province_$PROVINCE" -c "SELECT * FROM lt.overdue_dossiers_per_commune
    ORDER BY commune_code" | sed 's/^/   /'
signed=$(lt_sql "lt_province_$PROVINCE" "SELECT count(*) FROM lt.batch_log WHERE key_id LIKE 'ed25519:%'")
quarantined=$(lt_json '[.communes[].quarantined] | add // 0' <<<"$province_status")
echo "   batches verified with Ed25519: $signed; quarantined messages: $quarantined"

if [ $RC = 0 ]; then
    echo; echo "Result: the province holds exactly what the ${#COMMUNES[@]} communes hold."
else
    echo; echo "Result: MISMATCH — details in $DEMO/verify-*.txt" >&2
fi

if [ "$KEEP" = 1 ] && [ $RC = 0 ]; then
    cat <<EOF

Services left running (--keep). Look around:
  psql "$(lt_pg_conninfo lt_province_$PROVINCE)" -c 'SELECT entity_type, entity_id, version, deleted, payload FROM lt.entity LIMIT 5'
  kcat -b $BROKERS -L
  kcat -b $BROKERS -C -t $(lt_topic "$PROVINCE" "${COMMUNES[0]}") -c 1 -f 'key=%k offset=%o bytes=%S headers=%h\n'
  $SINK -c $DEMO/sink.ini status
  $AGENT -c $DEMO/agent-${COMMUNES[0]}.ini status
  open $PAGE in a browser (status page; /metrics for Prometheus)
Stop them with:
  kill ${PIDS[*]}
  LT_STATE_DIR=$LT_STATE_DIR deploy/kafka.sh stop; LT_STATE_DIR=$LT_STATE_DIR deploy/postgres.sh stop
EOF
fi
exit $RC
