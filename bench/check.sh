#!/usr/bin/env bash
# bench/check.sh - the benchmark must not have measured a broken run:
# lienthong-reconcile verify for every commune, and the quarantine as
# `lienthong-sink status --json` counts it.  Copies the logs to
# $LT_BENCH_OUT.  Results: check.env.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_begin check

say "check: lienthong-reconcile verify for every commune"
RECONCILE_OK=1
for c in "${COMMUNES[@]}" "$LT_BENCH_LAT_COMMUNE"; do
    if ! "$RECONCILE" -o "reconcile.postgres=$(conninfo "$PROVINCE_DB")" verify "$c" \
        "$(conninfo "$(commune_db "$c")")" >>"$LOGS/reconcile.log" 2>&1; then
        RECONCILE_OK=0
        say "  commune $c: NOT EQUAL (see $OUT/reconcile.log)"
    fi
done
[ "$RECONCILE_OK" = 1 ] && say "  all communes EQUAL"
QUAR=$(lt_status_json "$SINK" -c "$(sink_ini check "$PROVINCE_DB")" status --json |
    lt_json '[.communes[].quarantined] | add // 0') || die "lienthong-sink status failed"
[ "$QUAR" = 0 ] || say "  warning: $QUAR quarantined messages"
M_LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
cp "$LOGS"/*.log "$OUT"/ 2>/dev/null || true
bench_result RECONCILE_OK QUAR M_LOAD_END
