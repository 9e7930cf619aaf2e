#!/usr/bin/env bash
# shellcheck disable=SC2119 # t_start_sink: its arguments are optional
# A merger from the real 2025 mapping (data/admin-units/merges-2025-07-01.json),
# province 08: Xã Minh Ngọc (00994) was formed from itself, Xã Thượng Tân
# (01009) and part of Xã Yên Định (00988), whose other part went to Xã Ngọc
# Đường (00700). The two old communes are provisioned under their pre-reform
# codes and send records registered before the reform; `merge --into 00994`
# without --from finds them in the mapping, with which one was partial.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NEW=00994 PART=00988 FULL=01009 OTHER=00700
t_setup_codes 08 "$NEW" "$PART" "$FULL"
R() { "$RECONCILE" -c "$T_DIR/reconcile.ini" "$@"; }
entities() { t_sql "$T_PDB" "SELECT count(*) FROM lt.entity WHERE commune_code = '$1'"; }
t_assert_eq "Xã Yên Định (before 2025-07-01)" \
    "$(t_sql "$T_PDB" "SELECT name FROM lt.commune WHERE commune_code = '$PART'")" \
    "the pre-reform commune $PART as provisioned"

# old_records CODE N - N death registrations of June 2025 at the old
# commune CODE, under its pre-reform code.
old_records() { t_sql "$(t_cdb "$1")" "$(lt_death_records_sql "$1" "$2" 2025 2025-06-30)" >/dev/null; }

t_start_sink
for c in "$NEW" "$PART" "$FULL"; do
    t_start_agent "$c" -o agent.digest_every_events=50 -o agent.digest_every_s=2
done
t_wait_sink_ready 3
t_gen "$NEW" 300
old_records "$PART" 120
old_records "$FULL" 80
t_wait_drained 90 "$NEW" "$PART" "$FULL"
t_assert_eq "120|80" "$(entities "$PART")|$(entities "$FULL")" "records of $PART|$FULL at the province"
en=$(entities "$NEW")

st=0
out=$(R merge --into "$NEW" 2>&1) || st=$?
printf '%s\n' "$out" >>"$T_DIR/merge.log"
t_assert_eq 0 "$st" "merge --into $NEW from the mapping: $out"
grep -q "^$NEW Xã Minh Ngọc: continues as the new commune" <<<"$out" ||
    t_fail "merge did not say $NEW continues: $out"
t_assert_eq "$((en + 200))|0|0" "$(entities "$NEW")|$(entities "$PART")|$(entities "$FULL")" \
    "records of $NEW|$PART|$FULL after the merger"
t_assert_eq "$PART $NEW t|$FULL $NEW f" "$(t_sql "$T_PDB" "SELECT old_code || ' ' || new_code || ' ' ||
    CASE WHEN partial THEN 't' ELSE 'f' END FROM lt.commune_merge ORDER BY old_code" | paste -sd '|')" \
    "mergers recorded (old, new, partial) from the mapping"
t_assert_eq 120 "$(t_sql "$T_PDB" "SELECT count(*) FROM lt.civil_record
    WHERE commune_code = '$NEW' AND origin_code = '$PART' AND authority = '$PART'")" \
    "records of $PART, now $NEW's, keeping their origin and registering unit"

# The other new commune that took part of 00988 finds it merged already.
st=0
out=$(R merge --into "$OTHER" 2>&1) || st=$?
t_assert_eq 1 "$st" "merge --into $OTHER (its only registered predecessor is merged)"
grep -q "$PART Xã Yên Định: merged into $NEW already, skipped" <<<"$out" ||
    t_fail "merge --into $OTHER did not name the earlier merger: $out"
t_log "ok: merge --into $OTHER: $(head -n 1 <<<"$out")"

# The new commune's system takes the records over; its digest then agrees.
t_take_over "$NEW" "$PART" "$FULL"
t_assert_eq "$((en + 200))" "$(entities "$NEW")" "records of $NEW once the old ones travelled again"
t_reconcile "$NEW"
t_assert_log_clean sink
