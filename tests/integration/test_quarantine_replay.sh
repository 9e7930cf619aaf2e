#!/usr/bin/env bash
# lienthong-reconcile quarantine list|show|replay: batches refused under one
# rule (the province accepted only Ed25519-signed batches) are quarantined,
# later batches still apply and leave a sequence gap; after the rule changes,
# replay applies the quarantined events exactly once, closes the gap, and a
# second replay finds nothing to do. Garbage stays quarantined.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

t_setup 20 1
c=${T_COMMUNES[0]}
topic=$(t_topic "$c")
Q() { "$RECONCILE" -c "$T_DIR/reconcile.ini" "$@"; }

# ---- 1. the province refuses integrity-only batches: they are quarantined
# The outbox is written first, so the agent cuts exactly ten 100-event batches.
t_gen "$c" 1000 -w 2
t_start_sink -o sink.allow_integrity_only=false
t_start_agent "$c" -o agent.batch_max_events=100
wait_until "[ \$(t_sql $T_PDB \"SELECT count(*) FROM lt.quarantine\") -ge 10 ]" 60 \
    "10 batches quarantined"
t_stop sink
t_assert_eq 0 "$(t_applied "$c")" "events applied while refused"
t_assert_eq "10|wrong_signer" "$(t_sql "$T_PDB" "SELECT count(*), min(reason_code)
    FROM lt.quarantine")" "quarantined count|reason"

out=$(Q quarantine list --commune "$c") || t_fail "quarantine list failed"
grep -q "10 message(s)" <<<"$out" || t_fail "quarantine list: $out"
grep -q "wrong_signer .*signed by key \"sha256:\" but commune $c has no registered key" <<<"$out" ||
    t_fail "quarantine list does not explain: $out"
id1=$(t_sql "$T_PDB" "SELECT min(id) FROM lt.quarantine")
out=$(Q quarantine show "$id1") || t_fail "quarantine show failed"
grep -q "batch:       commune $c, seq 1..100, 100 events" <<<"$out" ||
    t_fail "quarantine show does not decode the batch: $out"
t_log "ok: list and show explain the quarantined batches"

# ---- 2. the rule is relaxed; later batches apply and the jump is a gap
t_start_sink
t_gen "$c" 500 -w 2 -s "$((T_SEED % 100000 + 2))" # other entities than the first run
wait_until "[ \$(t_applied $c) -ge 500 ]" 60 "500 later events applied"
t_assert_eq "1|1000" "$(t_sql "$T_PDB" "SELECT from_seq, to_seq FROM lt.seq_gap
    WHERE commune_code = '$c' AND resolved_at IS NULL")" "open gap from|to"

# garbage on the topic is quarantined too and must stay so
head -c 200 /dev/urandom >"$T_DIR/garbage.bin"
kcat -P -b "$BROKERS" -t "$topic" -p 0 -k "$c" "$T_DIR/garbage.bin" 2>/dev/null ||
    t_fail "kcat -P"
wait_until "[ \$(t_sql $T_PDB \"SELECT count(*) FROM lt.quarantine\") -ge 11 ]" 30 \
    "garbage quarantined"

# ---- 3. replay applies the refused events exactly once and closes the gap
st=0
out=$(Q -o reconcile.allow_integrity_only=true quarantine replay --pending) || st=$?
printf '%s\n' "$out" >>"$T_DIR/replay.log"
t_assert_eq 1 "$st" "replay exit status (the garbage is still invalid)"
t_assert_eq 10 "$(grep -c ': replayed;' <<<"$out")" "batches replayed"
grep -q "still invalid (malformed" <<<"$out" || t_fail "garbage replay: $out"
t_assert_exactly_once_with_gaps() {
    t_assert_eq "1500|1500|1|1500" "$(t_sql "$T_PDB" "SELECT count(*), count(DISTINCT seq),
        min(seq), max(seq) FROM lt.event_log WHERE commune_code = '$c'")" \
        "event_log count|distinct|min|max"
}
t_assert_exactly_once_with_gaps
t_assert_eq 0 "$(t_sql "$T_PDB" "SELECT count(*) FROM lt.seq_gap WHERE resolved_at IS NULL")" \
    "open gaps after replay"
t_assert_eq 1 "$(t_sql "$T_PDB" "SELECT count(*) FROM lt.quarantine WHERE replayed_at IS NULL")" \
    "messages still quarantined"
t_assert_eq 1500 "$(t_sql "$T_PDB" "SELECT events_applied FROM lt.commune_progress
    WHERE commune_code = '$c'")" "commune_progress.events_applied"
t_reconcile "$c"

# ---- 4. replaying again changes nothing
out=$(Q -o reconcile.allow_integrity_only=true quarantine replay "$id1") || true
grep -q "no quarantined message $id1 awaiting replay" <<<"$out" || t_fail "second replay: $out"
t_assert_exactly_once_with_gaps
t_log "ok: replay applied 1000 refused events once; the gap is closed"
