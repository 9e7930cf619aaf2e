#!/usr/bin/env bash
# bench/peer_report.sh - the report of bench/run.sh --peer: the sink beside
# its peer and the COPY ceiling, from $LT_BENCH_OUT/peer_passes.tsv
# (bench/peer_apply.sh) and the *.env of the other pieces; printed, and
# written to peer.txt and peer.json.  Medians of the passes; every pass is
# listed.  TOTAL_S: the run's duration in seconds (bench/run.sh).
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

for piece in setup peer_setup peer_apply ceiling_copy check; do
    [ -f "$OUT/$piece.env" ] || die "no results of bench/$piece.sh in $OUT"
    # shellcheck disable=SC1090
    . "$OUT/$piece.env"
done
: "${TOTAL_S:=$(fmt0 "$(calc "$(now) - $LT_BENCH_T0")")}"
PASSES=$OUT/peer_passes.tsv

# per_pass LABEL AWK-EXPR - the value of EXPR for each pass of LABEL; fields:
# $3 events, $4 start-up s, $5 apply s, $6 process CPU s, $7 backends CPU s
# ('?' when not measured), $8 peak RSS MB, $9 process CPU s at the first row.
per_pass() {
    awk -F'\t' -v l="$1" "NR > 1 && \$1 == l { x = $2; print (x == \"?\") ? x : sprintf(\"%.1f\", x) }" "$PASSES"
}
med() { # med X... - median, or '?' if one is unknown
    if printf '%s\n' "$@" | grep -q '?'; then echo '?'; else fmt0 "$(median "$@")"; fi
}
# The figures of each system, by label: W (wall events/s), A (events/s
# after partition assignment), CPU, PROC, BACK (us per event), AFTER1 (CPU
# without what the process spent until its first row), RSS; *_P the passes.
declare -A W A CPU PROC BACK AFTER1 RSS W_P A_P CPU_P RSS_P
mapfile -t LABELS < <(awk -F'\t' 'NR > 1 && !seen[$1]++ { print $1 }' "$PASSES")
for l in "${LABELS[@]}"; do
    mapfile -t w < <(per_pass "$l" '$3 / ($4 + $5)')
    mapfile -t a < <(per_pass "$l" '$3 / $5')
    mapfile -t c < <(per_pass "$l" '($7 == "?") ? "?" : ($6 + $7) * 1e6 / $3')
    mapfile -t r < <(per_pass "$l" '$8')
    W[$l]=$(med "${w[@]}") A[$l]=$(med "${a[@]}") CPU[$l]=$(med "${c[@]}") RSS[$l]=$(med "${r[@]}")
    PROC[$l]=$(med $(per_pass "$l" '$6 * 1e6 / $3'))
    BACK[$l]=$(med $(per_pass "$l" '($7 == "?") ? "?" : $7 * 1e6 / $3'))
    AFTER1[$l]=$(med $(per_pass "$l" '($7 == "?") ? "?" : ($6 - $9 + $7) * 1e6 / $3'))
    W_P[$l]=$(for x in "${w[@]}"; do fmt0 "$x"; echo; done | paste -sd' ')
    A_P[$l]=$(for x in "${a[@]}"; do fmt0 "$x"; echo; done | paste -sd' ')
    CPU_P[$l]=$(for x in "${c[@]}"; do [ "$x" = '?' ] && echo '?' || { fmt0 "$x"; echo; }; done | paste -sd' ')
    RSS_P[$l]=$(paste -sd' ' <<<"$(printf '%s\n' "${r[@]}")")
done
PEERS=("${LABELS[@]:1}")
COPY=$(fmt0 "$(median "${B_SAMPLES[@]}")")
SINK_A=$(fmt0 "$(median $(awk -F'\t' 'NR > 1 && $1 == "sink" { print $10 }' "$PASSES"))")
SINK_A_P=$(awk -F'\t' 'NR > 1 && $1 == "sink" { print $10 }' "$PASSES" | paste -sd' ')
DIFFERENT=$(awk -F'\t' 'NR > 1 && $11 == "DIFFERENT"' "$PASSES" | wc -l)
ratio() { if [ "$1" = '?' ] || [ "$2" = '?' ]; then echo '?'; else fmt2 "$(calc "$1 / $2")"; fi; }

{
    echo
    echo "lienthong-sink beside its peer, the Debezium JDBC sink  ($(date -u +%Y-%m-%dT%H:%M:%SZ), total $TOTAL_S s)"
    echo "  machine : $M_NPROC CPUs ($M_CPU), $M_MEM_MB MB RAM, Linux $M_KERNEL"
    echo "            load average at start $M_LOAD_START, at end $M_LOAD_END"
    echo "  versions: lienthong $V_LT (git $V_GIT, ${V_BUILD_TYPE:-?}), librdkafka $V_RDKAFKA, PostgreSQL $V_PG (fsync $PG_FSYNC),"
    echo "            $KAFKA_DESC; peer: Kafka Connect $PEER_CONNECT standalone, Debezium JDBC sink $PEER_DEBEZIUM,"
    echo "            $PEER_JAVA"
    echo "  data    : $TOTAL events, $NCOMMUNES communes x $PER_COMMUNE (${COMMUNES[*]}), $B_ENTITIES entities, the same to both:"
    echo "            Ed25519-signed protobuf batches (agent) for the sink, one JSON-with-schema record per event for"
    echo "            the peer; rounds: $LT_BENCH_REPEAT, each $(IFS=,; echo "sink,${PEERS[*]}" | sed 's/,/, /g') back to back"
    echo
    printf '  %-14s %26s   %30s   %9s\n' "" "events/s, median of passes" "CPU us per event, median" "peak RSS"
    printf '  %-14s %9s %16s   %8s %9s %11s   %9s\n' system wall "after assignment" total process "PG backends" "MB"
    for l in "${LABELS[@]}"; do
        printf '  %-14s %9s %16s   %8s %9s %11s   %9s\n' "$l" "${W[$l]}" "${A[$l]}" "${CPU[$l]}" "${PROC[$l]}" "${BACK[$l]}" "${RSS[$l]}"
    done
    printf '  %-14s %9s %16s   %s\n' "COPY ceiling" "$COPY" "" "(psql \\copy of the sink's rows into its five tables)"
    echo
    echo "  wall = events / (last commit - process start); after assignment = events / (last commit - first"
    echo "  partition assignment); CPU = CPU time of the process (whole JVM for the peer) and of every PostgreSQL"
    echo "  backend serving it (/proc/<pid>/stat), over the events, process start included."
    for l in "${LABELS[@]}"; do
        printf '  %-12s wall %s | after assignment %s | CPU us/event %s | RSS MB %s\n' "$l:" "${W_P[$l]}" "${A_P[$l]}" "${CPU_P[$l]}" "${RSS_P[$l]}"
    done
    printf '  %-12s %s events/s (passes %s)\n' "COPY:" "$COPY" "${B_SAMPLES[*]}"
    echo "  sink figure (a), events of rounds 2..n over their commit span: median $SINK_A (passes $SINK_A_P)"
    for l in "${PEERS[@]}"; do
        echo "  $l without the JVM's CPU until its first row (start-up, class loading, JIT): ${AFTER1[$l]} us/event"
    done
    echo
    echo "  ratios of the medians (targets of issue 10: sink >= 2.5 x the tuned peer's events/s, peer's CPU"
    echo "  per event >= 3 x the sink's, sink >= 0.6 x COPY):"
    for l in "${PEERS[@]}"; do
        printf '    sink/%s events/s: wall %s, after assignment %s; %s/sink CPU per event: %s\n' "$l" \
            "$(ratio "${W[sink]}" "${W[$l]}")" "$(ratio "${A[sink]}" "${A[$l]}")" "$l" "$(ratio "${CPU[$l]}" "${CPU[sink]}")"
    done
    printf '    sink/COPY ceiling: wall %s, after assignment %s, figure (a) %s\n' \
        "$(ratio "${W[sink]}" "$COPY")" "$(ratio "${A[sink]}" "$COPY")" "$(ratio "$SINK_A" "$COPY")"
    echo
    echo "  peer final state: $([ "$DIFFERENT" = 0 ] && echo "every pass equal to the communes' outboxes" || echo "$DIFFERENT pass(es) DIFFERENT")"
    echo "  sink: $([ "$RECONCILE_OK" = 1 ] && echo "reconcile verify: all communes EQUAL" || echo "reconcile MISMATCH, see $OUT/reconcile.log"); quarantined: $QUAR"
    echo
} | tee "$OUT/peer.txt"

json_num() { case $1 in '' | '?') printf null ;; *) printf '%s' "$1" ;; esac; }
json_list() { local x out=""; for x in $1; do out+="${out:+, }$(json_num "$x")"; done; printf '[%s]' "$out"; }
{
    printf '{\n  "generated_at": "%s", "events": %s, "communes": "%s", "rounds": %s, "nproc": %s,\n' \
        "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$TOTAL" "${COMMUNES[*]}" "$LT_BENCH_REPEAT" "$M_NPROC"
    printf '  "load_start": "%s", "load_end": "%s", "peer": "Kafka Connect %s + Debezium JDBC sink %s",\n' \
        "$M_LOAD_START" "$M_LOAD_END" "$PEER_CONNECT" "$PEER_DEBEZIUM"
    printf '  "systems": {\n'
    for l in "${LABELS[@]}"; do
        printf '    "%s": {"wall_events_per_s": %s, "after_assignment_events_per_s": %s, "cpu_us_per_event": %s,\n' \
            "$l" "$(json_num "${W[$l]}")" "$(json_num "${A[$l]}")" "$(json_num "${CPU[$l]}")"
        printf '      "process_cpu_us_per_event": %s, "backends_cpu_us_per_event": %s, "peak_rss_mb": %s,\n' \
            "$(json_num "${PROC[$l]}")" "$(json_num "${BACK[$l]}")" "$(json_num "${RSS[$l]}")"
        printf '      "passes": {"wall_events_per_s": %s, "after_assignment_events_per_s": %s, "cpu_us_per_event": %s, "peak_rss_mb": %s}},\n' \
            "$(json_list "${W_P[$l]}")" "$(json_list "${A_P[$l]}")" "$(json_list "${CPU_P[$l]}")" "$(json_list "${RSS_P[$l]}")"
    done
    printf '    "copy_ceiling": {"events_per_s": %s, "passes": %s}},\n' "$COPY" "$(json_list "${B_SAMPLES[*]}")"
    printf '  "sink_figure_a_events_per_s": %s,\n' "$SINK_A"
    printf '  "ratios": {"sink_over_copy_wall": %s' "$(json_num "$(ratio "${W[sink]}" "$COPY")")"
    for l in "${PEERS[@]}"; do
        printf ', "sink_over_%s_wall": %s, "sink_over_%s_after_assignment": %s, "%s_over_sink_cpu": %s' \
            "$l" "$(json_num "$(ratio "${W[sink]}" "${W[$l]}")")" "$l" "$(json_num "$(ratio "${A[sink]}" "${A[$l]}")")" \
            "$l" "$(json_num "$(ratio "${CPU[$l]}" "${CPU[sink]}")")"
    done
    printf '},\n  "peer_passes_different": %s, "sink_reconcile_equal": %s, "quarantined": %s\n}\n' \
        "$DIFFERENT" "$([ "$RECONCILE_OK" = 1 ] && echo true || echo false)" "$QUAR"
} >"$OUT/peer.json"
jq empty "$OUT/peer.json" || die "peer.json does not parse"
say "results written to $OUT/peer.txt and $OUT/peer.json (passes in peer_passes.tsv, logs beside them)"
