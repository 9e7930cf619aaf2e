#!/usr/bin/env bash
# bench/setup.sh - the benchmark's databases, signing keys and communes on
# running services, and what the machine and the services are.
#
# One fresh database per commune (lienthong-agent init), an Ed25519 key pair
# each, and the province (lienthong-sink migrate + provision, which creates
# the topics).  On a broker that already holds topics of the province, their
# end offsets are written to $LT_BENCH_STATE/start-offsets: every province
# database of the run starts there.  Results: $LT_BENCH_OUT/setup.env.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_begin setup

M_CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
M_NPROC=$(nproc)
M_MEM_MB=$(awk '/^MemTotal:/ { printf "%.0f", $2 / 1024 }' /proc/meminfo)
M_KERNEL=$(uname -r)
M_LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
V_LT=$("$SINK" --version | awk '{ print $2 }')
V_GIT=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ]; then V_GIT="$V_GIT+dirty"; fi
V_RDKAFKA=$(pkg-config --modversion rdkafka 2>/dev/null || echo unknown)
V_CC=$(cc --version 2>/dev/null | head -n 1)
V_BUILD_TYPE=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$BIN/CMakeCache.txt" 2>/dev/null)
say "machine: $M_NPROC CPUs ($M_CPU), ${M_MEM_MB} MB RAM, Linux $M_KERNEL, load $M_LOAD_START"

# ---------------------------------------------------------------- services
IFS='|' read -r V_PG PG_FSYNC PG_MAX_WAL PG_COMMIT_TS <<<"$(q postgres "SELECT
    current_setting('server_version'), current_setting('fsync'),
    current_setting('max_wal_size'), current_setting('track_commit_timestamp')")" ||
    die "PostgreSQL does not answer at $(conninfo postgres)"
[ "$PG_COMMIT_TS" = on ] ||
    die "the server runs with track_commit_timestamp = off: (a) and (d) need it on (postgresql.conf, restart)"
q postgres "CREATE EXTENSION IF NOT EXISTS pg_stat_statements" >/dev/null 2>&1 || true
if pgss_ok; then PGSS=1; else
    PGSS=0
    say "warning: pg_stat_statements is not loaded (shared_preload_libraries): no pgss-*.txt reports"
fi
KAFKA_NBROKERS=$(kcat -b "$BROKERS" -L -m 10 2>/dev/null | sed -n 's/^ *\([0-9]*\) brokers:$/\1/p')
[ -n "$KAFKA_NBROKERS" ] || die "Kafka does not answer at $BROKERS"
if [ "${LT_BENCH_OWN_KAFKA:-0}" = 1 ]; then
    KAFKA_DESC="Kafka $LT_KAFKA_VERSION ($KAFKA_NBROKERS broker)"
else
    KAFKA_DESC="Kafka at $BROKERS ($KAFKA_NBROKERS broker(s))"
fi
say "versions: lienthong $V_LT (git $V_GIT, ${V_BUILD_TYPE:-?}), PostgreSQL $V_PG, $KAFKA_DESC, librdkafka $V_RDKAFKA"

# Topics of the province with records in them already (a broker of one's
# own is empty): every province database of this run starts at their end.
: >"$LT_BENCH_STATE/start-offsets"
pattern=$(lt_topic "$PROVINCE" '[0-9][0-9][0-9][0-9][0-9]')
while read -r topic; do
    # shellcheck disable=SC2053 # a glob on purpose
    [[ $topic == $pattern ]] || continue
    end=$(kcat -b "$BROKERS" -Q -t "$topic:0:-1" 2>/dev/null | sed -n 's/.* offset \([0-9]*\)$/\1/p')
    if [ "${end:-0}" -gt 0 ]; then
        printf '%s %s\n' "$topic" "$end" >>"$LT_BENCH_STATE/start-offsets"
        say "topic $topic holds $end records already: the sink starts at its end"
    fi
done < <(kcat -b "$BROKERS" -L -m 10 2>/dev/null | sed -n 's/^ *topic "\([^"]*\)".*/\1/p')

# ------------------------------------------------------------------ schema
say "setup: province $PROVINCE schema, communes ${COMMUNES[*]} $LT_BENCH_LAT_COMMUNE (Ed25519 keys)"
for c in "${COMMUNES[@]}" "$LT_BENCH_LAT_COMMUNE"; do
    lt_pg_fresh_db "$(commune_db "$c")" >/dev/null || die "cannot create database $(commune_db "$c")"
    rm -f "$KEYS/$c.pem" "$KEYS/$c.pub"
    "$AGENT" keygen "$KEYS/$c.pem" "$KEYS/$c.pub" >>"$LOGS/setup.log" 2>&1 || die "keygen $c failed"
    "$AGENT" -c "$(agent_ini "$c")" init >>"$LOGS/setup.log" 2>&1 || die "agent init $c failed"
done
new_province_db "$PROVINCE_DB"

bench_result M_CPU M_NPROC M_MEM_MB M_KERNEL M_LOAD_START V_LT V_GIT V_RDKAFKA V_CC V_BUILD_TYPE \
    V_PG PG_FSYNC PG_MAX_WAL PGSS KAFKA_DESC
