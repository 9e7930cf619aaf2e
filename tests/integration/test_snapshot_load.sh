#!/usr/bin/env bash
# shellcheck disable=SC2119 # t_start_sink: its arguments are optional
# A commune whose system already holds 100,000 records joins a province that
# never saw them (its sink starts at the end of the commune's topic):
# `lienthong-agent snapshot` loads them all while live traffic goes on. The
# snapshot's states close the gap the live events open, the digest compares
# equal, and the two-database verify agrees.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RECORDS=${LT_TEST_SNAPSHOT_RECORDS:-100000}
t_setup 68 1
c=${T_COMMUNES[0]}
CDB=$(t_cdb "$c")
TOPIC=$(t_topic "$c")
AGENT_OPTS=(-o agent.digest_every_events=1000 -o agent.digest_every_s=2
            -o agent.resync_max_events_per_s=50000)

# ---- the commune's history, sent before the province existed for it
t_sql "$CDB" "$(lt_death_records_sql "$c" "$RECORDS" 2026 2025-07-01)" >/dev/null
t_start_agent "$c" "${AGENT_OPTS[@]}"
wait_until "t_unsent_is $c 0" 300 "the agent sent its $RECORDS records"
high=$(t_high_watermark "$TOPIC")
t_sql "$T_PDB" "INSERT INTO lt.kafka_offset (topic, partition, next_offset)
    VALUES ('$TOPIC', 0, $high) ON CONFLICT (topic, partition) DO UPDATE SET next_offset = $high" \
    >/dev/null
t_log "the province starts at the end of $TOPIC ($high): it never saw the $RECORDS records"

# ---- snapshot under live traffic
t_start_sink
t_wait_sink_ready 1
t_gen_bg "$c" 2000 -w 2 -r 200
# The first live event opens the gap the snapshot then fills. (A snapshot
# state that overtakes it cannot fill a gap not yet open: its sequence stays
# in the gap until `repair` sends it again - see docs/CONSISTENCY.md.)
wait_until "[ \"\$(t_sql $T_PDB \"SELECT coalesce(max(last_seq), 0) FROM lt.commune_progress
    WHERE commune_code = '$c'\")\" -gt $RECORDS ]" 60 "the first live events applied"
t0=$SECONDS
t_snapshot "$c" 300
t_wait_gen "$c" 120
t_wait_drained 300 "$c"
states=$(t_sql "$CDB" "SELECT count(*) FROM lt.entity_state")
wait_until "[ \"\$(t_sql $T_PDB \"SELECT count(*) FROM lt.entity WHERE commune_code = '$c'\")\" = $states ]" \
    120 "the province holding all $states records"
t_log "snapshot of $RECORDS records loaded under live traffic in $((SECONDS - t0)) s"
t_assert_eq 0 "$(t_sql "$T_PDB" "SELECT count(*) FROM lt.seq_gap WHERE commune_code = '$c'
    AND resolved_at IS NULL")" "open gaps once the snapshot's states filled them"
max_seq=$(t_sql "$CDB" "SELECT max(seq) FROM lt.outbox")
wait_until "[ \"\$(t_sql $T_PDB \"SELECT equal FROM lt.digest_check WHERE commune_code = '$c'
    AND seq = $max_seq\")\" = t ]" 60 "the digest equal as of the last sequence ($max_seq)"
t_reconcile "$c"
t_assert_no_quarantine "$c"
