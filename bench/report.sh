#!/usr/bin/env bash
# bench/report.sh - the benchmark's report from the results the pieces
# recorded in $LT_BENCH_OUT/*.env: printed, and written to summary.txt and
# results.json.  TOTAL_S: the run's duration in seconds (bench/run.sh).
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

P_RATE=""
for piece in setup agent_rss sink_apply sink_profile ceiling_copy floor_insert latency outage check; do
    [ -f "$OUT/$piece.env" ] || die "no results of bench/$piece.sh in $OUT"
    # shellcheck disable=SC1090
    . "$OUT/$piece.env"
done
: "${TOTAL_S:=$(fmt0 "$(calc "$(now) - $LT_BENCH_T0")")}"

RATIO=$(calc "$A_RATE / $B_RATE")
TARGET_MET=$(awk -v r="$RATIO" 'BEGIN { print (r >= 0.3) ? "yes" : "no" }')
{
    echo
    echo "lienthong benchmark  ($(date -u +%Y-%m-%dT%H:%M:%SZ), total $TOTAL_S s)"
    echo "  machine : $M_NPROC CPUs ($M_CPU), $M_MEM_MB MB RAM, Linux $M_KERNEL"
    echo "            load average at start $M_LOAD_START, at end $M_LOAD_END"
    echo "  versions: lienthong $V_LT (git $V_GIT, ${V_BUILD_TYPE:-?}), PostgreSQL $V_PG (fsync $PG_FSYNC, max_wal_size $PG_MAX_WAL),"
    echo "            $KAFKA_DESC, librdkafka $V_RDKAFKA"
    echo "  data    : $TOTAL events in $NCOMMUNES communes (${COMMUNES[*]}), $B_ENTITIES entities, Ed25519-signed batches"
    echo
    printf '  (a) sink sustained apply rate : %8s events/s   (best of %s passes: %s)\n' "$(fmt0 "$A_RATE")" "${#A_SAMPLES[@]}" "${A_SAMPLES[*]}"
    if [ "$A_ROUNDS" -ge 2 ]; then
        echo  "        events of rounds 2..$A_ROUNDS ($((TOTAL - A_N_FIRST))) / time from the commit of round 1 to the commit"
        echo  "        of round $A_ROUNDS ($(fmt1 "$A_SPAN") s); commit times from track_commit_timestamp; startup and round 1"
        echo  "        excluded. Rounds held $A_N_MIN..$A_N_MAX events (round_max_messages signed batches of up to 500)."
    else
        echo  "        only one round: events / time from partition assignment to its commit ($(fmt1 "$A_SPAN") s);"
        echo  "        raise LT_BENCH_EVENTS for a steady-state figure."
    fi
    echo  "        Pass $A_PASS from partition assignment to last commit: $(fmt0 "$A_FROM_ASSIGN") events/s over $(fmt1 "$A_APPLY_SPAN") s;"
    echo  "        wall clock incl. process start ($(fmt1 "$A_STARTUP") s): $(fmt0 "$A_WALL_RATE") events/s over $(fmt1 "$A_WALL") s."
    echo  "        CPU while applying: sink $A_SINK_CPU s, its PostgreSQL backend $A_BACKEND_CPU s; sink peak RSS $A_SINK_RSS MB."
    [ -z "$P_RATE" ] || echo "        Extra pass under perf: $(fmt0 "$P_RATE") events/s (profiles in bench/out/perf-*.txt)."
    printf '  (b) ceiling, plain COPY       : %8s events/s   (best of %s passes: %s)\n' "$(fmt0 "$B_RATE")" "${#B_SAMPLES[@]}" "${B_SAMPLES[*]}"
    echo  "        psql \\copy (client side) of the $TOTAL lt.event_log rows ($(fmt2 "$(calc "$B_EL_MS / 1000")") s) and the $B_ENTITIES"
    echo  "        lt.entity rows ($(fmt2 "$(calc "$B_EN_MS / 1000")") s) and the $B_TYPED rows of lt.civil_record, lt.dossier"
    echo  "        and lt.dossier_history ($(fmt2 "$(calc "$B_TY_MS / 1000")") s) into a fresh schema; events / sum of the COPY times."
    printf '  (c) floor, row-at-a-time      : %8s events/s   (best of %s passes: %s)\n' "$(fmt0 "$C_RATE")" "${#C_SAMPLES[@]}" "${C_SAMPLES[*]}"
    echo  "        $C_EVENTS events, one prepared INSERT lt.event_log + INSERT lt.entity ON CONFLICT DO UPDATE"
    echo  "        WHERE version < EXCLUDED.version statement per event, autocommit (1 round trip, 1 commit each)."
    printf '  (d) end-to-end latency        : p50 %s ms, p99 %s ms\n' "$D_P50" "$D_P99"
    echo  "        province commit time (pg_xact_commit_timestamp of the lt.event_log row) minus the outbox"
    echo  "        row's recorded_at (clock_timestamp() at insert, 1-row transactions; same server clock);"
    echo  "        $D_N events at $D_RATE events/s, the first $W s excluded; max $D_MAX ms, mean $D_AVG ms."
    echo  "        Agent share (outbox recorded_at -> sent_at): p50 $DA_P50 ms, p99 $DA_P99 ms."
    echo  "        Province time = applied_at (sink transaction start) instead: p50 $D2_P50 ms, p99 $D2_P99 ms."
    echo  "        All $D_NALL events incl. warm-up: p99 $D_ALL_P99 ms, max $D_ALL_MAX ms."
    printf '  (e) agent peak RSS            : %8s MB\n' "$AGENT_RSS_MB"
    echo  "        VmHWM of lienthong-agent while draining the pre-fill, the largest of the $NCOMMUNES agents"
    echo  "        (${AGENT_RSS_LIST[*]} MB); they drained $(fmt0 "$AGENT_DRAIN_RATE") events/s on average."
    printf '  (f) outage backlog            : %8s s      (%s events applied after the agent started)\n' "$(fmt1 "$F_APPLIED_S")" "$F_N"
    echo  "        $F_N events waiting in a commune's outbox, the sink caught up: from the agent's start"
    echo  "        to the province commit of the last ($(fmt0 "$F_RATE") events/s); the agent had sent them all"
    echo  "        after $(fmt1 "$F_SENT_S") s. Peak RSS meanwhile: agent $F_AGENT_RSS MB, sink $F_SINK_RSS MB."
    echo
    printf '  ratio (a)/(b) = %s   (first target >= 0.3: %s)\n' "$(fmt2 "$RATIO")" "$TARGET_MET"
    echo  "  reconcile: $([ "$RECONCILE_OK" = 1 ] && echo "all communes EQUAL" || echo "MISMATCH, see bench/out/reconcile.log"); quarantined: $QUAR"
    echo
} | tee "$OUT/summary.txt"

json_str() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }
json_num() { case $1 in '' | '?') printf null ;; *) printf '%s' "$1" ;; esac; }
P_RATE_JSON=null
[ -n "$P_RATE" ] && P_RATE_JSON=$(fmt0 "$P_RATE")
cat >"$OUT/results.json" <<JSON
{
  "generated_at": $(json_str "$(date -u +%Y-%m-%dT%H:%M:%SZ)"),
  "machine": {"nproc": $M_NPROC, "cpu": $(json_str "$M_CPU"), "memory_mb": $M_MEM_MB,
              "kernel": $(json_str "$M_KERNEL"), "loadavg_start": $(json_str "$M_LOAD_START"),
              "loadavg_end": $(json_str "$M_LOAD_END")},
  "versions": {"lienthong": $(json_str "$V_LT"), "git": $(json_str "$V_GIT"),
               "build_type": $(json_str "${V_BUILD_TYPE:-}"), "postgresql": $(json_str "$V_PG"),
               "kafka": $(json_str "$KAFKA_DESC"), "librdkafka": $(json_str "$V_RDKAFKA"),
               "cc": $(json_str "$V_CC")},
  "events": $TOTAL,
  "communes": $(json_str "${COMMUNES[*]}"),
  "entities": $B_ENTITIES,
  "a_sink_events_per_s": $(fmt0 "$A_RATE"),
  "a_detail": {"definition": $(json_str "$A_DEF"), "passes_events_per_s": [$(IFS=,; echo "${A_SAMPLES[*]}")],
               "best_pass": $A_PASS, "rounds": $A_ROUNDS, "first_round_events": $A_N_FIRST,
               "round_events_min": $A_N_MIN, "round_events_max": $A_N_MAX, "span_s": $(fmt2 "$A_SPAN"),
               "from_assignment_events_per_s": $(fmt0 "$A_FROM_ASSIGN"),
               "wall_clock_events_per_s": $(fmt0 "$A_WALL_RATE"), "startup_s": $(fmt2 "$A_STARTUP"),
               "sink_cpu_s": $A_SINK_CPU, "backend_cpu_s": $(json_num "$A_BACKEND_CPU"),
               "sink_peak_rss_mb": $A_SINK_RSS, "under_perf_events_per_s": $P_RATE_JSON},
  "b_copy_events_per_s": $(fmt0 "$B_RATE"),
  "b_detail": {"definition": "events / (psql \\\\copy of lt.event_log, lt.entity, lt.civil_record, lt.dossier, lt.dossier_history), client side",
               "passes_events_per_s": [$(IFS=,; echo "${B_SAMPLES[*]}")],
               "event_log_s": $(fmt2 "$(calc "$B_EL_MS / 1000")"), "entity_s": $(fmt2 "$(calc "$B_EN_MS / 1000")"),
               "typed_tables_s": $(fmt2 "$(calc "$B_TY_MS / 1000")"), "typed_rows": $B_TYPED,
               "entity_rows": $B_ENTITIES},
  "c_row_at_a_time_events_per_s": $(fmt0 "$C_RATE"),
  "c_detail": {"events": $C_EVENTS, "seconds": $C_SECS, "passes_events_per_s": [$(IFS=,; echo "${C_SAMPLES[*]}")],
               "definition": "one prepared INSERT event_log + INSERT entity ON CONFLICT DO UPDATE WHERE version < EXCLUDED.version per event, autocommit"},
  "d_latency_ms": {"p50": $D_P50, "p99": $D_P99, "max": $D_MAX, "mean": $D_AVG,
                   "events": $D_N, "warmup_excluded_s": $W, "rate_events_per_s": $D_RATE,
                   "definition": "pg_xact_commit_timestamp(province lt.event_log row) - outbox recorded_at (1-row transactions)",
                   "agent_sent_p50": $DA_P50, "agent_sent_p99": $DA_P99,
                   "applied_at_p50": $D2_P50, "applied_at_p99": $D2_P99,
                   "all_events_p99": $D_ALL_P99, "all_events_max": $D_ALL_MAX},
  "e_agent_peak_rss_mb": $AGENT_RSS_MB,
  "e_detail": {"per_commune_mb": $(json_str "${AGENT_RSS_LIST[*]}"), "agent_drain_events_per_s": $AGENT_DRAIN_RATE},
  "f_outage_applied_s": $(fmt2 "$F_APPLIED_S"),
  "f_detail": {"events": $F_N, "agent_sent_s": $(fmt2 "$F_SENT_S"), "events_per_s": $(fmt0 "$F_RATE"),
               "agent_peak_rss_mb": $F_AGENT_RSS, "sink_peak_rss_mb": $F_SINK_RSS,
               "definition": "agent start -> province commit of the last of the events waiting in its outbox"},
  "ratio_a_over_b": $(fmt2 "$RATIO"),
  "target_ratio": 0.3,
  "reconcile_equal": $([ "$RECONCILE_OK" = 1 ] && echo true || echo false),
  "quarantined": $QUAR
}
JSON
jq empty "$OUT/results.json" || die "results.json does not parse"
say "results written to $OUT/results.json (logs, profiles and pg_stat_statements reports beside it)"
