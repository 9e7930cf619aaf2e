#!/usr/bin/env bash
# shellcheck disable=SC2119 # t_start_sink: its arguments are optional
# Three communes write 10,000 events each (4 writers, transactions committing
# out of id order) while their agents and the province sink run; everything
# arrives at the province exactly once and in order.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

EVENTS=10000
t_setup 04 3

t_start_sink
for c in "${T_COMMUNES[@]}"; do
    t_start_agent "$c"
done
t_wait_sink_ready 3
# At most 2500 events/s each: the writing lasts at least 4 s even on a fast
# machine, so the overlap asserted below does not depend on its speed.
for c in "${T_COMMUNES[@]}"; do
    t_gen_bg "$c" "$EVENTS" -w 4 -r 2500
done
t_log "generating $EVENTS events in each of ${T_COMMUNES[*]} while agents and sink run"

# The province applies while the communes still write: some events arrive
# before the last generator is done.
some_applied() {
    [ "$(t_sql "$T_PDB" "SELECT count(*) FROM lt.event_log")" -gt 0 ]
}
gens_running() {
    local c n=0
    for c in "${T_COMMUNES[@]}"; do t_running "gen_$c" && n=$((n + 1)); done
    echo "$n"
}
wait_until some_applied 120 "first events applied at the province"
running=$(gens_running)
t_assert_cmp "$running" -gt 0 "generators still running when the first events were applied"

for c in "${T_COMMUNES[@]}"; do
    t_wait_gen "$c" 300
done
t_wait_drained 300 "${T_COMMUNES[@]}"

for c in "${T_COMMUNES[@]}"; do
    t_assert_eq "$EVENTS|$EVENTS|0|$EVENTS" "$(t_outbox "$c")" \
        "commune $c outbox numbered|max_seq|unsent|rows"
    t_assert_exactly_once "$c" "$EVENTS"
    t_assert_no_quarantine "$c"
    t_reconcile "$c"
done
t_assert_eq 0 "$(t_sql "$T_PDB" "SELECT count(*) FROM lt.quarantine")" "rows in lt.quarantine"
t_assert_eq 0 "$(t_sql "$T_PDB" "SELECT count(*) FROM lt.seq_gap")" "rows in lt.seq_gap"
# Entities: the province holds exactly the commune's newest versions
# (reconcile compared them); also a plain count per commune.
for c in "${T_COMMUNES[@]}"; do
    t_assert_eq "$(t_sql "$(t_cdb "$c")" "SELECT count(*) FROM lt.entity_state")" \
        "$(t_sql "$T_PDB" "SELECT count(*) FROM lt.entity WHERE commune_code = '$c'")" \
        "commune $c entity count (commune = province)"
done

t_stop sink
for c in "${T_COMMUNES[@]}"; do
    t_stop "agent_$c"
    t_assert_log_clean "agent_$c"
done
t_assert_log_clean sink
