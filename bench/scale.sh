#!/usr/bin/env bash
# bench/scale.sh - scale-out: the pre-fill applied by 1, 2 and 4 sinks
# (LT_BENCH_SCALE_SINKS) in one consumer group, into a fresh province
# database each pass, LT_BENCH_REPEAT passes per count.
#
# Every sink of a pass has the same sink.group_id and its own connections;
# the group's assignor (roundrobin, the sink's default) deals the commune
# topics out.  A pass runs from the start of the first sink to the commit of
# the last event (track_commit_timestamp), so joining the group counts.
# Figures per count (median of the passes): events/s, CPU us per event (all
# sinks and their PostgreSQL backends), the largest sink's peak RSS, and the
# topics each sink held at the end.  Results: scale.env.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
: "${LT_BENCH_SCALE_SINKS:=1 2 4}"

bench_begin scale

# assigned_topics LOG - the topics the sink of LOG held after its last
# rebalance (its "partitions assigned count=N" line).
assigned_topics() {
    awk '/msg="partitions assigned"/ { sub(/.*count=/, ""); last = $1 } END { print last + 0 }' "$1"
}

# scale_pass N PASS - N sinks apply the pre-fill into a fresh database; sets
# X_RATE, X_CPU_US, X_RSS_MB, X_SPREAD.
scale_pass() {
    local n=$1 pass=$2 db=lt_bench_scale i t0 ini first pids=() logs=() cpu=0 rss=0 spread=""
    new_province_db "$db"
    checkpoint "$db"
    t0=$(now)
    for ((i = 1; i <= n; i++)); do
        ini=$(sink_ini "scale$i" "$db" sink.stats_interval_s=5 "sink.group_id=lt-bench-scale-$n-$pass")
        [ "$i" = 1 ] && first=$ini
        logs+=("$LOGS/sink-scale$n-$pass-$i.log")
        bench_spawn "${logs[-1]}" "$SINK" -c "$ini" "${SINK_EXTRA[@]}" run
        pids+=("$LT_SPAWNED")
    done
    BACKEND_CPU=()
    sample_all() { # all_applied, sampling the backends on the way (a sink may reconnect)
        # shellcheck disable=SC2046 # one pid a word
        backends_sample $(sink_backend_pids "$db")
        all_applied "$first"
    }
    bench_poll "sinks" "${pids[0]}" 900 0.5 sample_all
    for ((i = 0; i < n; i++)); do
        cpu=$(calc "$cpu + $(cpu_s "${pids[$i]}")")
        local r
        r=$(calc "$(vm_hwm_kb "${pids[$i]}") / 1024")
        gt "$r" "$rss" && rss=$r
    done
    # shellcheck disable=SC2046
    backends_sample $(sink_backend_pids "$db")
    local backend
    backend=$(backends_cpu)
    bench_stop_all
    for ((i = 0; i < n; i++)); do spread+="${spread:+/}$(assigned_topics "${logs[$i]}")"; done
    # lt.event_log has one row per (commune, seq): all of them, once each
    local last events
    IFS='|' read -r events last <<<"$(q "$db" "SELECT count(*),
        extract(epoch FROM max(pg_xact_commit_timestamp(xmin))) FROM lt.event_log")"
    [ "$events" = "$TOTAL" ] || die "lt.event_log holds $events events, expected $TOTAL"
    X_RATE=$(calc "$TOTAL / ($last - $t0)")
    [ "$backend" = '?' ] && backend=0
    X_CPU_US=$(calc "($cpu + $backend) * 1e6 / $TOTAL")
    X_RSS_MB=$(fmt1 "$rss")
    X_SPREAD=$spread
    q postgres "DROP DATABASE $db WITH (FORCE)" >/dev/null
}

SCALE_COUNTS=()
for n in $LT_BENCH_SCALE_SINKS; do
    rates=() cpus=() rsss=() spreads=()
    for ((p = 1; p <= LT_BENCH_REPEAT; p++)); do
        say "scale: $n sink(s), pass $p/$LT_BENCH_REPEAT: $TOTAL events from $NCOMMUNES commune topics"
        scale_pass "$n" "$p"
        say "    $(fmt0 "$X_RATE") events/s, $(fmt0 "$X_CPU_US") us CPU per event, peak RSS $X_RSS_MB MB, topics per sink $X_SPREAD"
        rates+=("$X_RATE") cpus+=("$X_CPU_US") rsss+=("$X_RSS_MB") spreads+=("$X_SPREAD")
    done
    declare -g "SCALE_RATE_$n=$(median "${rates[@]}")" "SCALE_CPU_$n=$(median "${cpus[@]}")" \
        "SCALE_RSS_$n=$(median "${rsss[@]}")" "SCALE_SPREAD_$n=${spreads[*]}" \
        "SCALE_PASSES_$n=${rates[*]}"
    bench_result "SCALE_RATE_$n" "SCALE_CPU_$n" "SCALE_RSS_$n" "SCALE_SPREAD_$n" "SCALE_PASSES_$n"
    SCALE_COUNTS+=("$n")
done
SCALE_CORES=$(nproc)
bench_result SCALE_COUNTS SCALE_CORES
