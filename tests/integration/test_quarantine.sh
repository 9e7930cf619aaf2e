#!/usr/bin/env bash
# shellcheck disable=SC2119 # t_start_sink: its arguments are optional
# Messages that are not a commune's signed batches - garbage bytes, a batch
# under the wrong key - are quarantined with their raw bytes and a reason,
# the stream goes on past them, and a verbatim copy of an applied batch is
# skipped as a duplicate.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

EVENTS=2000
t_setup 15 1
c=${T_COMMUNES[0]}
topic=$(t_topic "$c")
WRONG_KEY=99999

# produce KEY FILE... - each FILE as one message on the commune's topic.
produce() {
    local key=$1 out
    shift
    out=$(kcat -P -b "$BROKERS" -t "$topic" -p 0 -k "$key" "$@" 2>&1) ||
        t_fail "kcat -P $topic: $out"
}
sha() { sha256sum "$1" | cut -c1-64; }

# Garbage: a protobuf tag with wire type 7 (which does not exist), then
# random bytes - never a SignedBatch.
python3 - "$T_DIR" "$T_SEED" <<'EOF'
import random, sys
d, seed = sys.argv[1], int(sys.argv[2])
rng = random.Random(seed)
for name in ("garbage1", "garbage2", "garbage_wrong_key"):
    with open(f"{d}/{name}.bin", "wb") as f:
        f.write(bytes([0x07]) + bytes(rng.randrange(256) for _ in range(255)))
EOF

# ---- 1. before the agent: garbage, and garbage under a wrong key
produce "$c" "$T_DIR/garbage1.bin"
produce "$WRONG_KEY" "$T_DIR/garbage_wrong_key.bin"
t_assert_eq 2 "$(t_high_watermark "$topic")" "messages in $topic before the agent"

t_start_sink
t_start_agent "$c"
t_gen_bg "$c" "$EVENTS" -w 4 -r 500
wait_until "t_applied_ge $c 500" 60 "500 events applied past the first bad messages"

# ---- 2. mid-stream: garbage, a real batch under a wrong key, and the same
# batch again under the right key (a verbatim duplicate)
out=$(kcat -C -b "$BROKERS" -t "$topic" -p 0 -o 2 -c 1 -e -f '%k' 2>&1) || t_fail "kcat -C: $out"
t_assert_eq "$c" "$out" "key of the agent's first message (offset 2)"
kcat -C -b "$BROKERS" -t "$topic" -p 0 -o 2 -c 1 -e -f '%s' >"$T_DIR/batch_copy.bin" 2>"$T_DIR/kcat.err" ||
    t_fail "kcat -C: $(cat "$T_DIR/kcat.err")"
t_assert_cmp "$(stat -c %s "$T_DIR/batch_copy.bin")" -gt 100 "size of the copied batch"
produce "$c" "$T_DIR/garbage2.bin"
produce "$WRONG_KEY" "$T_DIR/batch_copy.bin"
produce "$c" "$T_DIR/batch_copy.bin"
t_log "produced garbage, a batch under key $WRONG_KEY and the same batch again mid-stream"

t_wait_gen "$c" 120
t_wait_drained 120 "$c"
hwm=$(t_high_watermark "$topic")
read_to() { # OFFSET: the stored next offset of the topic
    [ "$(t_sql "$T_PDB" "SELECT next_offset FROM lt.kafka_offset WHERE topic = '$topic'")" = "$1" ]
}
wait_until "read_to $hwm" 60 "sink read $topic to its end ($hwm)"

# ---- 3. what was quarantined
rows=$(t_sql "$T_PDB" "SELECT reason_code, encode(sha256(raw), 'hex') FROM lt.quarantine
    WHERE topic = '$topic' ORDER BY kafka_offset")
expected="malformed|$(sha "$T_DIR/garbage1.bin")
key_mismatch|$(sha "$T_DIR/garbage_wrong_key.bin")
malformed|$(sha "$T_DIR/garbage2.bin")
key_mismatch|$(sha "$T_DIR/batch_copy.bin")"
t_assert_eq "$expected" "$rows" "quarantined messages (reason_code|sha256 of raw), in offset order"
t_assert_eq "4|4|4|0|0" "$(t_sql "$T_PDB" "SELECT count(*),
    count(*) FILTER (WHERE commune_code = '$c'),
    count(*) FILTER (WHERE partition = 0 AND kafka_offset < $hwm),
    count(*) FILTER (WHERE length(btrim(reason)) = 0 OR reason IS NULL),
    count(*) FILTER (WHERE octet_length(raw) = 0 OR replayed_at IS NOT NULL)
    FROM lt.quarantine")" "quarantine rows|of $c|offsets in range|empty reasons|empty raw or replayed"
t_assert_eq "0|1" "$(t_sql "$T_PDB" "SELECT min(kafka_offset), count(*) FILTER (WHERE kafka_offset = 1)
    FROM lt.quarantine")" "quarantined offsets 0 and 1 (first offset|count at 1)"
t_log "reasons:"
t_sql "$T_PDB" "SELECT kafka_offset || ' ' || reason_code || ': ' || reason FROM lt.quarantine
    ORDER BY kafka_offset" | sed 's/^/    /'

# ---- 4. the stream went on past them, exactly once
t_assert_exactly_once "$c" "$EVENTS"
t_reconcile "$c"
progress=$(t_sql "$T_PDB" "SELECT batches_applied, duplicates_skipped FROM lt.commune_progress
    WHERE commune_code = '$c'")
t_log "province: batches_applied|duplicates_skipped = $progress"
t_assert_eq 1 "${progress#*|}" "duplicates skipped (the verbatim copy)"
t_assert_eq "$hwm" "$((${progress%|*} + ${progress#*|} + 4))" \
    "messages in $topic = batches applied + duplicates + quarantined"
grep -q 'messages quarantined' "$T_DIR/sink.log" || t_fail "the sink did not log the quarantine"

t_stop "agent_$c"
t_stop sink
t_assert_log_clean "agent_$c"
t_assert_log_clean sink
