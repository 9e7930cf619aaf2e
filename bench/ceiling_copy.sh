#!/usr/bin/env bash
# bench/ceiling_copy.sh - figure (b), the ceiling: plain COPY of the rows
# the sink applied in (a) into the same tables of a fresh schema.
#
# Every table the sink writes (lt.event_log, lt.entity and the typed tables
# lt.civil_record, lt.dossier, lt.dossier_history) is exported from the
# province database with psql \copy, then loaded client side into an empty
# schema made by lienthong-sink migrate, LT_BENCH_REPEAT times; the rate is
# events over the sum of the COPY times psql's \timing reports, best pass
# reported.  Results: ceiling_copy.env.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_begin ceiling_copy

say "(b) ceiling: export the applied rows, then psql \\copy them into a fresh schema (best of $LT_BENCH_REPEAT)"
COPY_DIR=$LT_BENCH_STATE/copy
mkdir -p "$COPY_DIR"
# Every table the sink writes: the log, the current state, the typed tables.
B_TABLES=(event_log entity civil_record dossier dossier_history)
for t in "${B_TABLES[@]}"; do
    q "$PROVINCE_DB" "\\copy lt.$t TO '$COPY_DIR/$t.copy'" >/dev/null
done
B_ENTITIES=$(q "$PROVINCE_DB" "SELECT count(*) FROM lt.entity")
B_TYPED=$(q "$PROVINCE_DB" "SELECT (SELECT count(*) FROM lt.civil_record) + (SELECT count(*) FROM lt.dossier)
    + (SELECT count(*) FROM lt.dossier_history)")
B_SIZE_MB=$(fmt0 "$(calc "$(du -cb "$COPY_DIR"/*.copy | tail -n 1 | cut -f1) / 1048576")")
lt_pg_fresh_db lt_bench_ceiling >/dev/null || die "cannot create database lt_bench_ceiling"
"$SINK" -c "$(sink_ini ceiling lt_bench_ceiling)" migrate >>"$LOGS/setup.log" 2>&1 ||
    die "migrate lt_bench_ceiling failed"
B_SAMPLES=()
B_RATE=0
copy_args=()
for t in "${B_TABLES[@]}"; do copy_args+=(-c "\\copy lt.$t FROM '$COPY_DIR/$t.copy'"); done
for ((pass = 1; pass <= LT_BENCH_REPEAT; pass++)); do
    q lt_bench_ceiling "TRUNCATE lt.event_log, lt.entity, lt.civil_record, lt.dossier, lt.dossier_history" >/dev/null
    checkpoint lt_bench_ceiling
    times=$(lt_psql lt_bench_ceiling -c '\timing on' "${copy_args[@]}" |
        sed -n 's/^Time: \([0-9.]*\) ms.*/\1/p')
    el_ms=$(sed -n 1p <<<"$times")
    en_ms=$(sed -n 2p <<<"$times")
    typed_ms=$(sed -n '3,$p' <<<"$times" | awk '{ s += $1 } END { print s + 0 }')
    if [ -z "$el_ms" ] || [ -z "$en_ms" ]; then die "could not time the COPYs"; fi
    rate=$(calc "$TOTAL / (($el_ms + $en_ms + $typed_ms) / 1000)")
    B_SAMPLES+=("$(fmt0 "$rate")")
    say "(b) pass $pass: $TOTAL event_log rows in $(fmt2 "$(calc "$el_ms / 1000")") s + $B_ENTITIES entity rows in $(fmt2 "$(calc "$en_ms / 1000")") s + $B_TYPED typed rows in $(fmt2 "$(calc "$typed_ms / 1000")") s = $(fmt0 "$rate") events/s (${B_SIZE_MB} MB of COPY text)"
    if gt "$rate" "$B_RATE"; then
        B_RATE=$rate B_EL_MS=$el_ms B_EN_MS=$en_ms B_TY_MS=$typed_ms
    fi
done
say "(b) best of ${#B_SAMPLES[@]}: $(fmt0 "$B_RATE") events/s (passes: ${B_SAMPLES[*]})"
rm -f "$COPY_DIR"/*.copy
bench_result B_SAMPLES B_RATE B_EL_MS B_EN_MS B_TY_MS B_ENTITIES B_TYPED
