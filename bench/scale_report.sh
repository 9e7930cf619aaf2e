#!/usr/bin/env bash
# bench/scale_report.sh - the report of bench/run.sh --scale from setup.env,
# agent_rss.env and scale.env: printed, and written to scale.txt and
# scale.json.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
for piece in setup agent_rss scale; do
    [ -f "$OUT/$piece.env" ] || die "no results of bench/$piece.sh in $OUT"
    # shellcheck disable=SC1090
    . "$OUT/$piece.env"
done
rate_of() { local v="SCALE_RATE_$1"; echo "${!v}"; }
one=$(rate_of "${SCALE_COUNTS[0]}")
{
    echo
    echo "lienthong scale-out  ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
    echo "  machine : $M_NPROC CPUs ($M_CPU), load average at start $M_LOAD_START"
    echo "  versions: lienthong $V_LT (git $V_GIT), PostgreSQL $V_PG, $KAFKA_DESC"
    echo "  data    : $TOTAL events in $NCOMMUNES commune topics (one partition each), $LT_BENCH_REPEAT passes per count"
    echo "            sinks, Kafka and PostgreSQL all on the same $SCALE_CORES cores"
    echo
    printf '  %-6s %12s %10s %14s %12s  %s\n' sinks "events/s" "x 1 sink" "CPU us/event" "peak RSS MB" "topics per sink (passes)"
    for n in "${SCALE_COUNTS[@]}"; do
        c="SCALE_CPU_$n" r="SCALE_RSS_$n" sp="SCALE_SPREAD_$n" ps="SCALE_PASSES_$n"
        printf '  %-6s %12s %10s %14s %12s  %s\n' "$n" "$(fmt0 "$(rate_of "$n")")" \
            "$(fmt2 "$(calc "$(rate_of "$n") / $one")")" "$(fmt0 "${!c}")" "${!r}" "${!sp}"
        echo "         passes: $(for x in ${!ps}; do printf '%s ' "$(fmt0 "$x")"; done)events/s"
    done
    echo
} | tee "$OUT/scale.txt"
{
    echo "{"
    echo "  \"cores\": $SCALE_CORES, \"events\": $TOTAL, \"communes\": $NCOMMUNES, \"passes\": $LT_BENCH_REPEAT,"
    echo "  \"git\": \"$V_GIT\", \"sinks\": ["
    sep=""
    for n in "${SCALE_COUNTS[@]}"; do
        c="SCALE_CPU_$n" r="SCALE_RSS_$n" sp="SCALE_SPREAD_$n" ps="SCALE_PASSES_$n"
        printf '%s    {"sinks": %s, "events_per_s": %s, "speedup": %s, "cpu_us_per_event": %s, "peak_rss_mb": %s, "topics_per_sink": "%s", "passes_events_per_s": [%s]}' \
            "$sep" "$n" "$(fmt0 "$(rate_of "$n")")" "$(fmt2 "$(calc "$(rate_of "$n") / $one")")" \
            "$(fmt0 "${!c}")" "${!r}" "${!sp}" "$(for x in ${!ps}; do printf '%s,' "$(fmt0 "$x")"; done | sed 's/,$//')"
        sep=$',\n'
    done
    printf '\n  ]\n}\n'
} >"$OUT/scale.json"
jq empty "$OUT/scale.json" || die "scale.json does not parse"
say "results written to $OUT/scale.txt and $OUT/scale.json"
