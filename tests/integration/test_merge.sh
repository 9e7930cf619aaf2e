#!/usr/bin/env bash
# shellcheck disable=SC2119 # t_start_sink: its arguments are optional
# An administrative merger: two communes (one of them only partly) merge
# into a third. `lienthong-reconcile merge` refuses what would lose or
# confuse data, then moves the old communes' records to the new one in one
# transaction: nothing lost, nothing twice, each record keeping its origin,
# the new commune's digest covering them. The new commune's system takes the
# old records over (same ids and versions: nothing changes at the province)
# and its digest then compares equal. A batch the retired commune's agent
# still sends is quarantined naming the merger.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

t_setup 48 3
a=${T_COMMUNES[0]} b=${T_COMMUNES[1]} n=${T_COMMUNES[2]}
R() { "$RECONCILE" -c "$T_DIR/reconcile.ini" "$@"; }
AGENT_OPTS=(-o agent.digest_every_events=100 -o agent.digest_every_s=2)
entities() { t_sql "$T_PDB" "SELECT count(*) FROM lt.entity WHERE commune_code = '$1'"; }
# merge_refused EXPECTED-TEXT ARGS... - merge exits 1 and says EXPECTED-TEXT.
merge_refused() {
    local want=$1 out st=0
    shift
    out=$(R merge "$@" 2>&1) || st=$?
    printf '%s\n' "$out" >>"$T_DIR/merge.log"
    t_assert_eq 1 "$st" "merge $* exit status"
    grep -qF -- "$want" <<<"$out" || t_fail "merge $*: expected \"$want\" in: $out"
    t_log "ok: merge $* refused: $(grep -F -- "$want" <<<"$out" | head -n 1)"
}

t_start_sink
for c in "$a" "$b" "$n"; do
    t_start_agent "$c" "${AGENT_OPTS[@]}"
done
t_wait_sink_ready 3
for c in "$a" "$b" "$n"; do
    t_gen "$c" 400
done
t_wait_drained 90 "$a" "$b" "$n"
ea=$(entities "$a") eb=$(entities "$b") en=$(entities "$n")
t_log "records before the merger: $a $ea, $b $eb, $n $en"

# ---- 1. what is refused, with nothing changed
merge_refused "named twice" --into "$n" --from "$a,$a"
merge_refused "it is the commune merged into" --into "$n" --from "$n"
merge_refused "is not registered: provision it first" --into 99999 --from "$a"
merge_refused "--partial $n is not one of --from" --into "$n" --from "$a" --partial "$n"
t_sql "$T_PDB" "INSERT INTO lt.seq_gap (commune_code, from_seq, to_seq)
    VALUES ('$a', 100000, 100009)" >/dev/null
merge_refused "open sequence gap" --into "$n" --from "$a,$b"
t_sql "$T_PDB" "DELETE FROM lt.seq_gap WHERE commune_code = '$a' AND from_seq = 100000" >/dev/null
out=$(R merge --into "$n" --from "$a,$b" --partial "$b" --dry-run) ||
    t_fail "merge --dry-run failed: $out"
grep -q "dry run: nothing changed" <<<"$out" || t_fail "merge --dry-run said: $out"
t_assert_eq "$ea" "$(entities "$a")" "records of $a after the refusals and the dry run"

# ---- 2. the merger
out=$(R merge --into "$n" --from "$a,$b" --partial "$b" 2>&1) || t_fail "merge failed: $out"
printf '%s\n' "$out" >>"$T_DIR/merge.log"
t_log "merge: $(tail -n 1 <<<"$out")"
t_assert_eq "0|0|$((ea + eb + en))" "$(t_sql "$T_PDB" "SELECT
    (SELECT count(*) FROM lt.entity WHERE commune_code = '$a'),
    (SELECT count(*) FROM lt.entity WHERE commune_code = '$b'),
    (SELECT count(*) FROM lt.entity WHERE commune_code = '$n')")" \
    "records of $a|$b|$n after the merger"
t_assert_eq "$ea|$eb|0" "$(t_sql "$T_PDB" "SELECT
    count(*) FILTER (WHERE origin_code = '$a'), count(*) FILTER (WHERE origin_code = '$b'),
    count(*) FILTER (WHERE origin_code = '$n') FROM lt.entity WHERE commune_code = '$n'")" \
    "records of $n from $a|from $b|marked as its own"
t_assert_eq 0 "$(t_sql "$T_PDB" "SELECT (SELECT count(*) FROM lt.civil_record
    WHERE commune_code IN ('$a', '$b')) + (SELECT count(*) FROM lt.dossier
    WHERE commune_code IN ('$a', '$b'))")" "typed rows left under $a and $b"
t_assert_eq "$n|$n|f|t" "$(t_sql "$T_PDB" "SELECT
    (SELECT merged_into FROM lt.commune WHERE commune_code = '$a'),
    (SELECT merged_into FROM lt.commune WHERE commune_code = '$b'),
    (SELECT partial FROM lt.commune_merge WHERE old_code = '$a'),
    (SELECT partial FROM lt.commune_merge WHERE old_code = '$b')")" \
    "$a and $b merged into|partial $a|partial $b"
st=0
out=$(R verify --deep "$n" "$a" "$b") || st=$?
t_assert_eq 0 "$st" "verify --deep after the merger (the maintained digest of $n covers the moved records): $out"
merge_refused "merged into $n already" --into "$n" --from "$a"
st=0
R report --json >"$T_DIR/report.json" || st=$?
t_assert_eq "MERGED|$n" "$(jq -r --arg c "$a" '.communes[] | select(.commune == $c) |
    "\(.state)|\(.merged_into)"' "$T_DIR/report.json")" "report on $a"
st=0
"$SINK" -c "$T_DIR/sink.ini" status --json >"$T_DIR/status.json" || st=$?
t_assert_eq "$n" "$(jq -r '[.communes[].commune] | join(" ")' "$T_DIR/status.json")" \
    "communes sink status watches after the merger"

# ---- 3. the new commune's system takes the old records over: the same ids
# and versions travel again, the province keeps one copy, and the digest of
# the new commune's agent compares equal with the province's.
t_take_over "$n" "$a" "$b"
t_assert_eq "$((ea + eb + en))" "$(entities "$n")" "records of $n once the old ones travelled again"
t_reconcile "$n"

# ---- 4. the retired commune's agent still sends: quarantined, naming the merger
t_sql "$(t_cdb "$a")" "INSERT INTO lt.outbox (entity_type, entity_id, version, op, occurred_at)
    SELECT entity_type, entity_id, version + 1, 'delete', now() FROM lt.entity_state
    WHERE NOT deleted ORDER BY entity_id LIMIT 1" >/dev/null
wait_until "[ \"\$(t_sql $T_PDB \"SELECT count(*) FROM lt.quarantine
    WHERE commune_code = '$a' AND reason_code = 'commune_merged'\")\" -ge 1 ]" 60 \
    "the retired commune's new batch quarantined"
reason=$(t_sql "$T_PDB" "SELECT reason FROM lt.quarantine WHERE commune_code = '$a' LIMIT 1")
grep -q "merged into $n" <<<"$reason" || t_fail "quarantine reason does not name the merger: $reason"
t_log "ok: quarantined: $reason"
t_assert_eq "$((ea + eb + en))" "$(entities "$n")" "records of $n after the retired agent's batch"
st=0
R report --commune "$a" >/dev/null || st=$?
t_assert_eq 3 "$st" "report exit status while the retired agent still sends"
t_assert_log_clean sink
