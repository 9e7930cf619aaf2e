#!/usr/bin/env bash
# bench/peer_setup.sh [--delete-topics] - what the peer needs, after the
# pre-fill (bench/agent_rss.sh): its jars, its topics and its records.
#
# The peer is Kafka Connect (standalone) running the Debezium JDBC sink
# connector (bench/peer/).  This piece
#   1. fetches its jars once with Maven (bench/peer/pom.xml, settings.xml)
#      into LT_BENCH_PEER_LIBS (under $LT_CACHE_DIR, as the broker's jars);
#   2. creates one topic per commune, lt-bench-peer.01.<commune>, 1 partition
#      (bench/peer/PeerTopics.java; deleted first if the broker has it);
#   3. produces into it, with kcat (zstd, as the agent), the events the sink
#      gets: the commune's outbox rows in sequence order, the order the agent
#      sent them in, one JSON-with-schema record each (bench/peer/records.py);
#   4. writes what tells that the peer applied everything (peer-done.sql:
#      per commune, the last upsert is there and the entities deleted after
#      it are gone) and the expected final state of each commune
#      (peer-expected), both in $LT_BENCH_STATE.
# --delete-topics: only delete those topics (bench/run.sh, at the end, on a
# broker it did not start).  Results: peer_setup.env.
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

peer_topics() { # peer_topics create|delete
    local c topics=()
    for c in "${COMMUNES[@]}"; do topics+=("$(peer_topic "$c")"); done
    java -cp "$LT_BENCH_PEER_LIBS/*" "$PEER_DIR/PeerTopics.java" "$BROKERS" "$1" "${topics[@]}"
}
if [ "${1:-}" = --delete-topics ]; then
    peer_topics delete >/dev/null
    exit 0
fi
[ $# = 0 ] || { echo "usage: bench/peer_setup.sh [--delete-topics]" >&2; exit 2; }
bench_begin peer_setup

# ------------------------------------------------------------------- jars
PEER_JAVA=$(java -version 2>&1 | head -n 1)
java_major=$(sed -n 's/.*version "\(1\.\)\{0,1\}\([0-9]*\).*/\2/p' <<<"$PEER_JAVA")
[ "${java_major:-0}" -ge 17 ] || die "Kafka Connect 4.x needs Java 17 or later, found: $PEER_JAVA"
fetch_jars() { # fetch_jars - mvn copy-dependencies, published atomically
    local tmp parent
    command -v mvn >/dev/null 2>&1 || die "mvn not found (deploy/install-deps.sh installs maven)"
    parent=$(dirname "$LT_BENCH_PEER_LIBS")
    mkdir -p "$parent"
    tmp=$(mktemp -d "$parent/.libs.tmp.XXXXXX")
    say "peer: fetching Kafka Connect + Debezium JDBC sink jars with Maven into $LT_BENCH_PEER_LIBS"
    if ! mvn -B -q -Dstyle.color=never -s "$PEER_DIR/settings.xml" -f "$PEER_DIR/pom.xml" \
        dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" >"$LOGS/mvn.log" 2>&1; then
        rm -rf "$tmp"
        die "mvn failed, see $LOGS/mvn.log"
    fi
    mv -T "$tmp" "$LT_BENCH_PEER_LIBS" 2>/dev/null || rm -rf "$tmp" # a concurrent run was first
}
ls "$LT_BENCH_PEER_LIBS"/debezium-connector-jdbc-*.jar >/dev/null 2>&1 || fetch_jars
PEER_CONNECT=$(basename "$LT_BENCH_PEER_LIBS"/connect-runtime-*.jar .jar | sed 's/^connect-runtime-//')
PEER_DEBEZIUM=$(basename "$LT_BENCH_PEER_LIBS"/debezium-connector-jdbc-*.jar .jar | sed 's/^debezium-connector-jdbc-//')
say "peer: Kafka Connect $PEER_CONNECT, Debezium JDBC sink $PEER_DEBEZIUM, $PEER_JAVA"

# --------------------------------------------------------- topics, records
peer_topics create >>"$LOGS/peer-setup.log" 2>&1 || die "cannot create the peer's topics (see $LOGS/peer-setup.log)"
ROWS="SELECT entity_type, entity_id, version, op, occurred_at, recorded_at, seq, payload
      FROM lt.outbox WHERE seq IS NOT NULL ORDER BY seq"
t0=$(now)
for c in "${COMMUNES[@]}"; do
    topic=$(peer_topic "$c")
    PGTZ=UTC lt_psql "$(commune_db "$c")" -c "COPY ($ROWS) TO STDOUT" |
        python3 "$PEER_DIR/records.py" "$c" |
        kcat -P -b "$BROKERS" -t "$topic" -K $'\t' -Z -z zstd -X linger.ms=20 -X batch.num.messages=10000 ||
        die "producing the records of $c into $topic failed"
    end=$(kcat -b "$BROKERS" -Q -t "$topic:0:-1" 2>/dev/null | sed -n 's/.* offset \([0-9]*\)$/\1/p')
    [ "${end:-0}" = "$PER_COMMUNE" ] || die "$topic holds ${end:-no} records, expected $PER_COMMUNE"
done
PEER_PRODUCE_S=$(fmt1 "$(calc "$(now) - $t0")")
say "peer: $TOTAL JSON-with-schema records produced into $(peer_topic '<commune>') in $PEER_PRODUCE_S s"

# ------------------------------------------------ when done, what is right
: >"$LT_BENCH_STATE/peer-expected"
done_sql=()
for c in "${COMMUNES[@]}"; do
    db=$(commune_db "$c")
    done_sql+=("$(q "$db" "WITH lu AS (SELECT seq, entity_type, entity_id, version FROM lt.outbox
                                     WHERE seq IS NOT NULL AND op = 'upsert' ORDER BY seq DESC LIMIT 1)
        SELECT format('EXISTS (SELECT 1 FROM peer_entity WHERE (commune_code, entity_type, entity_id, version) = (%L, %L, %L, %s))',
                      '$c', entity_type, entity_id, version)
            || coalesce((SELECT format(' AND NOT EXISTS (SELECT 1 FROM peer_entity WHERE commune_code = %L AND (entity_type, entity_id) IN (%s))',
                                       '$c', string_agg(format('(%L, %L)', d.entity_type, d.entity_id), ', '))
                         FROM lt.outbox d WHERE d.op = 'delete' AND d.seq > lu.seq HAVING count(*) > 0), '')
        FROM lu")")
    printf '%s %s\n' "$c" "$(q "$db" "SELECT $PEER_STATE_MD5 FROM (
            SELECT DISTINCT ON (entity_type, entity_id) entity_type, entity_id, version, op, payload
            FROM lt.outbox WHERE seq IS NOT NULL ORDER BY entity_type, entity_id, seq DESC) s
        WHERE op = 'upsert'")" >>"$LT_BENCH_STATE/peer-expected"
done
(IFS=$'\n'; sed 's/^/AND /; 1s/^AND //' <<<"${done_sql[*]}") >"$LT_BENCH_STATE/peer-done.sql"
bench_result PEER_JAVA PEER_CONNECT PEER_DEBEZIUM PEER_PRODUCE_S
