#!/usr/bin/env bash
# bench/sink_apply.sh [--profile] - figure (a): the sink's sustained apply
# rate, from the pre-filled topics into a fresh province database.
#
# LT_BENCH_REPEAT passes, each into a new database (the first is the
# province database the later pieces use), reading the same topics from the
# beginning; the fastest pass is reported.  One sink round is one
# transaction, so every row it inserted has the same xmin and commit time
# (track_commit_timestamp): the rate is the events of rounds 2..n over the
# time from the commit of round 1 to that of round n.  The sink's progress
# comes from `lienthong-sink status --json`.  A pass is run_sink_phase of
# bench/lib.sh, which bench/peer_apply.sh runs as well.  Results:
# sink_apply.env.
#
# --profile: (a') one more pass with perf attached to the sink and to its
# PostgreSQL backend, not counted in (a); profiles in perf-*.txt.
# LT_BENCH_PROFILE=0 skips it, auto runs it when perf can attach.
# Results: sink_profile.env.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
PROFILE=0
case ${1:-} in
    --profile) PROFILE=1 ;;
    "") ;;
    *) echo "usage: bench/sink_apply.sh [--profile]" >&2; exit 2 ;;
esac

PGSS=0
pgss_ok && PGSS=1

# ------------------------------------------------------------------ (a')
if [ "$PROFILE" = 1 ]; then
    bench_begin sink_profile
    P_RATE=""
    if [ "$LT_BENCH_PROFILE" = auto ]; then
        LT_BENCH_PROFILE=0
        if command -v perf >/dev/null 2>&1 &&
            perf record -q -o "$LT_BENCH_STATE/perf-probe.data" -- true >/dev/null 2>&1; then
            LT_BENCH_PROFILE=1
        fi
    fi
    if [ "$LT_BENCH_PROFILE" = 1 ]; then
        say "(a') profile pass: the same apply into a fresh database under perf (not counted in (a))"
        new_province_db lt_bench_profile
        run_sink_phase lt_bench_profile profile 1
        P_RATE=$S_STEADY
        pgss_report lt_bench_profile "$OUT/pgss-profile.txt"
        perf_top() { # perf_top DATA FIELDS N
            perf report -i "$1" --stdio --no-children -g none -F "$2" 2>/dev/null |
                grep -v '^#' | grep -v '^$' | sed 's/ \+$//' | head -n "$3" || true
        }
        perf_top "$LT_BENCH_STATE/perf-sink.data" overhead,dso,sym 40 >"$OUT/perf-sink.txt"
        perf_top "$LT_BENCH_STATE/perf-sink.data" overhead,dso 12 >"$OUT/perf-sink-dso.txt"
        if [ -f "$LT_BENCH_STATE/perf-backend.data" ]; then
            perf_top "$LT_BENCH_STATE/perf-backend.data" overhead,sym 40 >"$OUT/perf-backend.txt"
        fi
        say "(a') done: $(fmt0 "$P_RATE") events/s under perf; sink CPU ${S_SINK_CPU}s, backend CPU ${S_BACKEND_CPU}s"
        say "    sink CPU by library (perf):"
        while IFS= read -r line; do say "      $line"; done < <(head -n 6 "$OUT/perf-sink-dso.txt")
        say "    sink hottest symbols:"
        while IFS= read -r line; do say "      $line"; done < <(head -n 10 "$OUT/perf-sink.txt")
        if [ -f "$OUT/perf-backend.txt" ]; then
            say "    backend hottest symbols:"
            while IFS= read -r line; do say "      $line"; done < <(head -n 10 "$OUT/perf-backend.txt")
        fi
        q postgres "DROP DATABASE lt_bench_profile" >/dev/null
    fi
    bench_result P_RATE
    exit 0
fi

# ------------------------------------------------------------------- (a)
bench_begin sink_apply
# Best of LT_BENCH_REPEAT passes: other load on the machine only ever slows
# a pass down, so the fastest pass is the most reproducible figure.
A_SAMPLES=()
A_RATE=0
for ((pass = 1; pass <= LT_BENCH_REPEAT; pass++)); do
    sink_pass "$pass" a
    A_SAMPLES+=("$(fmt0 "$S_STEADY")")
    say "(a) pass $pass: $(fmt0 "$S_STEADY") events/s steady ($S_ROUNDS rounds of $S_N_MIN..$S_N_MAX events); sink CPU ${S_SINK_CPU}s, its PostgreSQL backend CPU ${S_BACKEND_CPU}s over $(fmt1 "$S_APPLY_SPAN") s of applying"
    if [ "$PGSS" = 1 ]; then
        say "    top statements (ms | calls | us/event | statement), pg_stat_statements:"
        while IFS= read -r line; do say "      $line"; done < <(head -n 5 "$OUT/pgss-sink-a$pass.txt")
    fi
    if gt "$S_STEADY" "$A_RATE"; then
        A_RATE=$S_STEADY A_ROUNDS=$S_ROUNDS A_N_FIRST=$S_N_FIRST A_SPAN=$S_STEADY_SPAN
        A_FROM_ASSIGN=$S_FROM_ASSIGN A_WALL_RATE=$S_WALL_RATE A_WALL=$S_WALL A_STARTUP=$S_STARTUP
        A_APPLY_SPAN=$S_APPLY_SPAN A_SINK_CPU=$S_SINK_CPU A_BACKEND_CPU=$S_BACKEND_CPU
        A_SINK_RSS=$S_SINK_RSS_MB A_N_MIN=$S_N_MIN A_N_MAX=$S_N_MAX A_DEF=$S_DEF A_PASS=$pass
        cp "$OUT/pgss-sink-a$pass.txt" "$OUT/pgss-sink.txt"
    fi
done
say "(a) best of ${#A_SAMPLES[@]}: $(fmt0 "$A_RATE") events/s (passes: ${A_SAMPLES[*]})"
bench_result A_SAMPLES A_RATE A_ROUNDS A_N_FIRST A_SPAN A_FROM_ASSIGN A_WALL_RATE A_WALL A_STARTUP \
    A_APPLY_SPAN A_SINK_CPU A_BACKEND_CPU A_SINK_RSS A_N_MIN A_N_MAX A_DEF A_PASS
