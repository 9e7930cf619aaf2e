#!/usr/bin/env bash
# bench/floor_insert.sh - figure (c), the floor: one INSERT ... ON CONFLICT
# per event, autocommit.
#
# lt-bench-floor (bench/lt_bench_floor.c, libpq only) reads the first
# LT_BENCH_FLOOR_EVENTS events of the first commune's outbox and applies each
# with one prepared statement (lt.event_log + lt.entity ON CONFLICT DO UPDATE
# WHERE version < EXCLUDED.version) in its own transaction, into a fresh
# schema, LT_BENCH_REPEAT times; best pass reported.  Results: floor_insert.env.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_begin floor_insert

FC=${COMMUNES[0]}
say "(c) floor: $LT_BENCH_FLOOR_EVENTS events of commune $FC, one INSERT ... ON CONFLICT per event, autocommit (best of $LT_BENCH_REPEAT)"
lt_pg_fresh_db lt_bench_floor >/dev/null || die "cannot create database lt_bench_floor"
"$SINK" -c "$(sink_ini floor lt_bench_floor)" migrate >>"$LOGS/setup.log" 2>&1 ||
    die "migrate lt_bench_floor failed"
C_SAMPLES=()
C_RATE=0
for ((pass = 1; pass <= LT_BENCH_REPEAT; pass++)); do
    q lt_bench_floor "TRUNCATE lt.event_log, lt.entity" >/dev/null
    checkpoint lt_bench_floor
    floor_out=$("$FLOOR" -s "$(conninfo "$(commune_db "$FC")")" -t "$(conninfo lt_bench_floor)" -c "$FC" \
        -n "$LT_BENCH_FLOOR_EVENTS" 2> >(while IFS= read -r line; do say "    $line"; done)) ||
        die "lt-bench-floor failed"
    events=$(sed -n 's/.*events=\([0-9]*\).*/\1/p' <<<"$floor_out")
    secs=$(sed -n 's/.*seconds=\([0-9.]*\).*/\1/p' <<<"$floor_out")
    rate=$(sed -n 's/.*rate=\([0-9.]*\).*/\1/p' <<<"$floor_out")
    C_SAMPLES+=("$rate")
    say "(c) pass $pass: $events events in $secs s = $rate events/s"
    if gt "$rate" "$C_RATE"; then
        C_RATE=$rate C_EVENTS=$events C_SECS=$secs
    fi
done
say "(c) best of ${#C_SAMPLES[@]}: $C_RATE events/s (passes: ${C_SAMPLES[*]})"
bench_result C_SAMPLES C_RATE C_EVENTS C_SECS
