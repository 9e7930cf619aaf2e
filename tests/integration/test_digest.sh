#!/usr/bin/env bash
# shellcheck disable=SC2119 # t_start_sink: its arguments are optional
# Digests: both levels keep a bucketed digest of the commune's state in the
# transaction that changes it; the agent sends its own in-band, the sink
# compares. `lienthong-reconcile report` (province database only) shows a
# commune equal, or diverged with the buckets, gaps and quarantine that
# explain it (and `lienthong-sink status` says DIVERGED); `verify --deep` catches rows edited outside the sink; `migrate`
# fills the digest of rows stored before digests existed.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

t_setup 38 1
c=${T_COMMUNES[0]}
R() { "$RECONCILE" -c "$T_DIR/reconcile.ini" "$@"; }
AGENT_OPTS=(-o agent.digest_every_events=100 -o agent.digest_every_s=2 -o agent.batch_max_events=50)
digest_seq() {
    t_sql "$T_PDB" "SELECT coalesce(max(seq), 0) FROM lt.digest_check WHERE commune_code = '$c'"
}
max_seq() { t_sql "$(t_cdb "$c")" "SELECT coalesce(max(seq), 0) FROM lt.outbox"; }
report_field() { # PY-EXPR on the commune's row of report --json (any exit status)
    { R report --json || true; } | python3 -c "import json,sys; r=json.load(sys.stdin)['communes'][0]; print($1)"
}

# ---- 1. in step: every compared digest is equal
t_start_sink
t_start_agent "$c" "${AGENT_OPTS[@]}"
t_wait_sink_ready 1
t_gen "$c" 1000
t_wait_drained 60 "$c"
wait_until "[ \$(digest_seq) = \$(max_seq) ]" 30 "the digest as of the last sequence compared"
t_assert_eq 0 "$(t_sql "$T_PDB" "SELECT count(*) FROM lt.digest_check WHERE NOT equal")" \
    "digest comparisons that differ while in step"
st=0; out=$(R report) || st=$?
t_assert_eq 0 "$st" "report exit status in step"
grep -q "^$c .*OK .*equal at seq $(max_seq)" <<<"$out" || t_fail "report: $out"
st=0; out=$(R verify --deep "$c") || st=$?
t_assert_eq 0 "$st" "verify --deep exit status in step"
grep -q "commune $c: EQUAL" <<<"$out" || t_fail "verify --deep: $out"

# ---- 2. events the province lacks: the next digest differs, report says why
t_stop sink
t_start_sink -o sink.allow_integrity_only=false
t_gen "$c" 40 -s "$((T_SEED % 100000 + 2))"
wait_until "[ \$(t_sql $T_PDB \"SELECT count(*) FROM lt.quarantine\") -ge 1 ]" 30 "a batch quarantined"
t_stop sink
t_start_sink
t_gen "$c" 160 -s "$((T_SEED % 100000 + 3))"
wait_until "t_unsent_is $c 0" 30 "all sent"
wait_until "[ \$(digest_seq) = \$(max_seq) ]" 30 "the digest after the gap compared"
t_assert_eq f "$(t_sql "$T_PDB" "SELECT equal FROM lt.digest_check WHERE commune_code = '$c'
    ORDER BY seq DESC LIMIT 1")" "digest equal after events went missing (t/f)"
st=0; R report >"$T_DIR/report.txt" || st=$?
t_assert_eq 3 "$st" "report exit status with a diverged commune"
grep -q "^$c .*DIVERGED,GAPS,QUARANTINE" "$T_DIR/report.txt" || t_fail "report: $(cat "$T_DIR/report.txt")"
missing=$(report_field "r['missing_events']")
t_assert_cmp "$missing" -ge 40 "events the report says are missing"
t_assert_cmp "$(report_field "len(r['digest']['diverged_buckets'])")" -ge 1 \
    "buckets the report names as diverged"
t_log "ok: report: $(grep "^$c" "$T_DIR/report.txt")"
sink_health() { { "$SINK" -c "$T_DIR/sink.ini" status --json 2>/dev/null || true; } |
    jq -r '.communes[0].health.state'; }
t_assert_eq DIVERGED "$(sink_health)" "the commune's health in lienthong-sink status"

# ---- 3. the missing events replayed: the next digest is equal again
R -o reconcile.allow_integrity_only=true quarantine replay --pending >>"$T_DIR/replay.log"
t_gen "$c" 100 -s "$((T_SEED % 100000 + 4))"
t_wait_drained 60 "$c"
wait_until "[ \$(digest_seq) = \$(max_seq) ]" 30 "the digest after the replay compared"
st=0; out=$(R report) || st=$?
t_assert_eq 0 "$st" "report exit status once converged"
grep -q "^$c .*OK .*equal at seq" <<<"$out" || t_fail "report: $out"

# ---- 4. a row edited at the province outside the sink: verify --deep
id=$(t_sql "$T_PDB" "SELECT entity_id FROM lt.entity WHERE commune_code = '$c' ORDER BY entity_id LIMIT 1")
t_sql "$T_PDB" "UPDATE lt.entity SET version = version + 1 WHERE entity_id = '$id'" >/dev/null
st=0; out=$(R verify --deep) || st=$?
t_assert_eq 1 "$st" "verify --deep exit status after a direct edit"
grep -q "commune $c: DIFFERENT: 1 bucket(s)" <<<"$out" || t_fail "verify --deep: $out"
t_sql "$T_PDB" "UPDATE lt.entity SET version = version - 1 WHERE entity_id = '$id'" >/dev/null
R verify --deep "$c" >/dev/null || t_fail "verify --deep after undoing the edit"

# ---- 5. rows from before digests: the sink refuses to start, migrate fills them
t_stop sink
t_sql "$T_PDB" "UPDATE lt.entity SET bucket = NULL, h0 = NULL, h1 = NULL, h2 = NULL, h3 = NULL;
    DELETE FROM lt.digest_bucket" >/dev/null
t_spawn sink_old job "$SINK" -c "$T_DIR/sink.ini" run
t_wait_exit sink_old 30
t_assert_eq 1 "${T_EXIT[sink_old]}" "sink exit status with rows lacking their digest"
grep -q 'level=error.*run lienthong-sink migrate' "$T_DIR/sink_old.log" || t_fail "no hint to migrate"
t_run sink_admin "$SINK" -c "$T_DIR/sink.ini" migrate
R verify --deep "$c" >/dev/null || t_fail "verify --deep after migrate"
t_start_sink
t_gen "$c" 100 -s "$((T_SEED % 100000 + 5))"
t_wait_drained 60 "$c"
wait_until "[ \$(digest_seq) = \$(max_seq) ]" 30 "a digest compared after migrate"
t_assert_eq t "$(t_sql "$T_PDB" "SELECT equal FROM lt.digest_check WHERE commune_code = '$c'
    ORDER BY seq DESC LIMIT 1")" "the digest compared after migrate is equal"
t_reconcile "$c"
t_stop "agent_$c"
t_stop sink
