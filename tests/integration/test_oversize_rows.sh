#!/usr/bin/env bash
# Size limits agree end to end: provision sets the topic's max.message.bytes
# (4 MiB by default), the agent cuts batches below it, a 2 MB row goes
# through, and a row that can never fit in a Kafka message is refused at
# claim ("too_large", naming its outbox id and size) without blocking the
# rows behind it or being produced again and again.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

t_setup 33 1
c=${T_COMMUNES[0]}
CDB=$(t_cdb "$c")
t_start_sink
t_start_agent "$c"
t_wait_sink_ready 1
t_gen "$c" 30
t_wait_drained 60 "$c"

# big_row SUFFIX MD5S - a copy of a generated dossier whose first history
# note holds MD5S random md5 strings (32 bytes each, barely compressible).
big_row() {
    printf "INSERT INTO lt.outbox (entity_type, entity_id, version, op, occurred_at, payload)
SELECT entity_type, entity_id || '-%s', 1, op, occurred_at,
       jsonb_set(payload, '{history,0,note}',
                 to_jsonb((SELECT string_agg(md5(g::text || random()::text), '')
                           FROM generate_series(1, %s) g)))
FROM lt.outbox WHERE entity_type = 'dossier' AND payload ? 'history' ORDER BY id LIMIT 1;\n" "$1" "$2"
}
small_rows() {
    printf "INSERT INTO lt.outbox (entity_type, entity_id, version, op, occurred_at, payload)
SELECT entity_type, entity_id || '-%s' || g, 1, op, occurred_at, payload
FROM lt.outbox, generate_series(1, 3) g WHERE id = (SELECT min(id) FROM lt.outbox WHERE op = 'upsert');\n" "$1"
}
high_before=$(t_high_watermark "$(t_topic "$c")")
t_sql "$CDB" "BEGIN; $(small_rows a) $(big_row two-mb 65000) $(small_rows b) $(big_row huge 170000) $(small_rows c) COMMIT;" >/dev/null
t_wait_drained 90 "$c"

huge_id=$(t_sql "$CDB" "SELECT id FROM lt.outbox WHERE entity_id LIKE '%-huge'")
reason=$(t_sql "$CDB" "SELECT reject_reason FROM lt.outbox WHERE id = $huge_id")
[[ $reason =~ ^too_large:\ outbox\ id\ $huge_id:\ the\ event\ is\ [0-9]+\ bytes ]] ||
    t_fail "the 5.4 MB row is not refused as too_large with its id and size: [$reason]"
t_log "ok: refused at claim: $reason"
t_assert_eq "" "$(t_sql "$CDB" "SELECT seq FROM lt.outbox WHERE id = $huge_id")" \
    "sequence of the refused row (never numbered, so never a gap)"
t_assert_eq 1 "$(t_sql "$CDB" "SELECT count(*) FROM lt.outbox WHERE entity_id LIKE '%-two-mb'
    AND sent_at IS NOT NULL")" "the 2 MB row sent"
t_assert_eq 40 "$(t_applied "$c")" "events applied (30 + 9 small + the 2 MB one)"
high_after=$(t_high_watermark "$(t_topic "$c")")
t_assert_cmp $((high_after - high_before)) -le 6 "Kafka messages for the new rows (no resend loop)"
grep -q 'msg="outbox rows refused' "$T_DIR/agent_$c.log" || t_fail "the agent does not warn of the refused row"
t_assert_no_quarantine "$c"
t_reconcile "$c"
t_stop "agent_$c"
t_stop sink
t_assert_log_clean sink
t_assert_log_clean "agent_$c"
