#!/usr/bin/env bash
# shellcheck disable=SC2119 # t_start_sink: its arguments are optional
# lienthong-agent import: a realistic 100,000-row NDJSON export with a few
# hundred bad rows of every kind. Each bad row is reported with its line and
# reason, every good row reaches the province, a second import adds nothing,
# and a record typed in later keeps its real occurredAt. A CSV export of the
# same data (header row = field paths) imports too. Names that are not fields
# of an import row are refused and named, never dropped with their data.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROWS=100000
EVERY=250 # one bad row in 250: 400 bad rows
t_setup 19 2
c=${T_COMMUNES[0]}
csv_commune=${T_COMMUNES[1]}

# ---- no data dropped silently: a top-level name that is not a field of an import
# row (an NDJSON "comment", a CSV column renamed to "colour") is refused and named,
# and nothing of those rows reaches the outbox. First, so that a regression fails
# fast; every row here is refused, so the counts further down are not affected.
cat >"$T_DIR/unknown.ndjson" <<'EOF'
{"entityType": "dossier", "entityId": "LT-UNKNOWN-1", "version": 1, "op": "upsert", "occurredAt": "2026-11-20T09:15:00+07:00", "payload": {"dossierCode": "000.00.04.H01-261120-0123", "status": "DOSSIER_STATUS_NEW"}, "comment": "nhập lại từ hồ sơ giấy"}
{"entityType": "civil_record", "entityId": "LT-UNKNOWN-2", "version": 2, "comment": "trùng", "op": "delete", "occurredAt": "2026-11-20"}
{"entityType": "civil_record", "entityId": "LT-UNKNOWN-3", "entity_id": "LT-UNKNOWN-4", "version": 2, "op": "delete", "occurredAt": "2026-11-20"}
EOF
st=0
"$AGENT" -c "$T_DIR/agent_$c.ini" import "$T_DIR/unknown.ndjson" --no-progress \
    --rejects "$T_DIR/unknown_rejects.ndjson" >"$T_DIR/unknown.out" 2>"$T_DIR/unknown.err" || st=$?
t_assert_eq 3 "$st" "exit status of an import whose rows carry unknown names"
grep -q "3 rows .* 0 added to the outbox, 0 already there, 3 bad" "$T_DIR/unknown.out" ||
    t_fail "summary of the import with unknown names: $(cat "$T_DIR/unknown.out")"
t_assert_eq "1 comment: unknown field|2 comment: unknown field|3 entity_id: field given twice" \
    "$(python3 -c 'import json, sys
print("|".join("%d %s: %s" % (r["line"], r["field"], r["reason"].split(",")[0].split(":")[0])
               for r in map(json.loads, open(sys.argv[1], encoding="utf-8"))))' \
        "$T_DIR/unknown_rejects.ndjson")" "rejects of the rows with unknown names"
grep -q "unknown.ndjson:1: comment: unknown field" "$T_DIR/unknown.err" ||
    t_fail "stderr does not name the unknown field: $(head -3 "$T_DIR/unknown.err")"

# A CSV whose header names no field, or one field twice, is refused before any
# row is read: exit status 1 and a message naming the column.
csv_refused() { # FILE HEADER ROW MESSAGE
    local st=0
    printf '%s\n' "$2" "$3" >"$T_DIR/$1"
    "$AGENT" -c "$T_DIR/agent_$c.ini" import "$T_DIR/$1" --no-progress \
        >"$T_DIR/$1.out" 2>"$T_DIR/$1.err" || st=$?
    t_assert_eq 1 "$st" "exit status of importing $1"
    grep -qF "$1:1: $4" "$T_DIR/$1.err" ||
        t_fail "importing $1: expected \"$4\", got: $(cat "$T_DIR/$1.out" "$T_DIR/$1.err")"
}
csv_refused unknown.csv \
    'entityType,entityId,version,op,occurredAt,payload.dossierCode,payload.status,colour' \
    'dossier,LT-UNKNOWN-5,1,upsert,2026-11-20T09:15,000.00.04.H01-261120-0124,DOSSIER_STATUS_NEW,xanh' \
    'column 8 "colour" is not a field of an import row'
csv_refused twice.csv 'entityType,entityId,version,op,occurredAt,entity_id' \
    'civil_record,LT-UNKNOWN-6,1,delete,2026-11-20,LT-UNKNOWN-7' \
    'column 6 "entity_id" gives the same field as column 2'
t_assert_eq 0 "$(t_sql "$(t_cdb "$c")" "SELECT count(*) FROM lt.outbox")" \
    "outbox rows after the imports with unknown names"
t_log "ok: unknown top-level names refused and named; nothing of those rows imported"

# ---- a realistic export: the generator's activity in a scratch outbox, as NDJSON
src="lt_t_${T_NAME}_source"
t_fresh_db "$src"
"$AGENT" -o agent.commune="$c" -o "agent.postgres=$(lt_pg_conninfo "$src")" init >/dev/null ||
    t_fail "init of the scratch outbox"
"$GEN" -d "$(lt_pg_conninfo "$src")" -c "$c" -n "$ROWS" -w 2 -m 200 -H 0 -s "$((T_SEED % 1000 + 1))" \
    >>"$T_DIR/gen_source.log" 2>&1 || t_fail "generator; see $T_DIR/gen_source.log"
lt_psql "$src" -At -c "SELECT json_build_object('entityType', entity_type, 'entityId', entity_id,
        'version', version, 'op', op,
        'occurredAt', to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),
        'payload', payload) FROM lt.outbox ORDER BY id" >"$T_DIR/export.ndjson"
t_assert_eq "$ROWS" "$(wc -l <"$T_DIR/export.ndjson")" "rows exported"

# ---- spoil one row in $EVERY, six different ways; remember line -> expected reason
python3 - "$T_DIR" "$EVERY" <<'EOF'
import json, sys
d, every = sys.argv[1], int(sys.argv[2])
spoils = [
    ("not valid JSON", lambda r: json.dumps(r)[:-7]),
    ("version", lambda r: json.dumps({**r, "version": 0})),
    ("occurredAt", lambda r: json.dumps({**r, "occurredAt": "2026-13-01T08:00:00+07:00"})),
    ("unknown field", lambda r: json.dumps({**r, "op": "upsert",
                                            "payload": {**(r["payload"] or {}), "bogus": 1}})),
    ("entityType", lambda r: json.dumps({**r, "entityType": "citizen"})),
    ("personal_id", None),  # a personal ID whose sex digit contradicts the record
]
expected = []
with open(f"{d}/export.ndjson", encoding="utf-8") as src, \
     open(f"{d}/import.ndjson", "w", encoding="utf-8") as out:
    bad = 0
    for n, line in enumerate(src, 1):
        row = json.loads(line)
        if n % every:
            out.write(line)
            continue
        reason, spoil = spoils[bad % len(spoils)]
        child = (row.get("payload") or {}).get("birth", {}).get("child", {})
        if spoil is None and child.get("personalId") and child.get("sex"):
            pid = child["personalId"]
            child["personalId"] = pid[:3] + str(int(pid[3]) ^ 1) + pid[4:]
            text = json.dumps(row, ensure_ascii=False)
        elif spoil is None:
            reason, text = "entityType", json.dumps({**row, "entityType": "citizen"})
        else:
            text = spoil(row)
        out.write(text + "\n")
        expected.append(f"{n}\t{reason}\t{row['entityId']}")
        bad += 1
with open(f"{d}/expected_bad.tsv", "w") as f:
    f.write("\n".join(expected) + "\n")
EOF
bad_expected=$(wc -l <"$T_DIR/expected_bad.tsv")
good=$((ROWS - bad_expected))
t_log "import file: $ROWS rows, $bad_expected of them spoiled"

# ---- first import: every bad row reported by line and reason, the rest added
st=0
"$AGENT" -c "$T_DIR/agent_$c.ini" import "$T_DIR/import.ndjson" --rejects "$T_DIR/rejects.ndjson" \
    >"$T_DIR/import1.out" 2>"$T_DIR/import1.err" || st=$?
t_assert_eq 3 "$st" "exit status of an import with bad rows"
t_log "import 1: $(cat "$T_DIR/import1.out")"
grep -q "$ROWS rows .* $good added to the outbox, 0 already there, $bad_expected bad" \
    "$T_DIR/import1.out" || t_fail "import summary: $(cat "$T_DIR/import1.out")"
t_assert_eq "$bad_expected" "$(wc -l <"$T_DIR/rejects.ndjson")" "lines in the rejects file"
python3 - "$T_DIR" <<'EOF' || t_fail "the rejects file does not match the spoiled rows"
import json, sys
d = sys.argv[1]
expected = [l.rstrip("\n").split("\t") for l in open(f"{d}/expected_bad.tsv") if l.strip()]
got = {r["line"]: r for r in map(json.loads, open(f"{d}/rejects.ndjson", encoding="utf-8"))}
for line, reason, entity in expected:
    r = got.get(int(line))
    text = (r["field"] + ": " + r["reason"]) if r else ""
    if not r or reason not in text:
        sys.exit(f"line {line} ({entity}): expected a reason naming '{reason}', got {text!r}")
print(f"all {len(expected)} bad rows reported with their line and reason")
EOF
grep -q "import.ndjson:$EVERY: " "$T_DIR/import1.err" ||
    t_fail "stderr does not name the first bad line: $(head -3 "$T_DIR/import1.err")"
t_assert_eq "$good" "$(t_sql "$(t_cdb "$c")" "SELECT count(*) FROM lt.outbox")" "outbox rows after import"

# ---- second import of the same file: nothing new
st=0
"$AGENT" -c "$T_DIR/agent_$c.ini" import "$T_DIR/import.ndjson" --no-progress \
    >"$T_DIR/import2.out" 2>/dev/null || st=$?
t_assert_eq 3 "$st" "exit status of the second import"
grep -q " 0 added to the outbox, $good already there, $bad_expected bad" "$T_DIR/import2.out" ||
    t_fail "second import summary: $(cat "$T_DIR/import2.out")"
t_assert_eq "$good" "$(t_sql "$(t_cdb "$c")" "SELECT count(*) FROM lt.outbox")" "outbox rows after re-import"
t_log "ok: re-import added nothing"

# ---- a CSV export (header = field paths) for the second commune
python3 - "$T_DIR" 3000 <<'EOF'
import csv, json, sys
d, n = sys.argv[1], int(sys.argv[2])
def flat(prefix, v, out):
    if isinstance(v, dict):
        for k, x in v.items():
            flat(f"{prefix}.{k}" if prefix else k, x, out)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            flat(f"{prefix}.{i}", x, out)
    elif v is not None:
        out[prefix] = v if isinstance(v, str) else json.dumps(v)
rows = []
for line in list(open(f"{d}/export.ndjson", encoding="utf-8"))[:n]:
    out = {}
    flat("", json.loads(line), out)
    rows.append(out)
import re
natural = lambda k: [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in k.split(".")]
header = sorted({k for r in rows for k in r}, key=natural)
with open(f"{d}/import.csv", "w", newline="", encoding="utf-8") as f:
    w = csv.DictWriter(f, fieldnames=header)
    w.writeheader()
    w.writerows(rows)
EOF
"$AGENT" -c "$T_DIR/agent_$csv_commune.ini" import "$T_DIR/import.csv" --no-progress \
    >"$T_DIR/import_csv.out" 2>"$T_DIR/import_csv.err" ||
    t_fail "CSV import: $(cat "$T_DIR/import_csv.out" "$T_DIR/import_csv.err" | head -5)"
grep -q "3000 rows .* 3000 added to the outbox, 0 already there, 0 bad" "$T_DIR/import_csv.out" ||
    t_fail "CSV import summary: $(cat "$T_DIR/import_csv.out")"
t_log "ok: CSV import: $(cat "$T_DIR/import_csv.out")"

# ---- everything good arrives at the province, typed and with its real dates
t_start_sink
t_start_agent "$c"
t_start_agent "$csv_commune"
t_wait_drained 300 "$c" "$csv_commune"
t_assert_exactly_once "$c" "$good"
t_assert_exactly_once "$csv_commune" 3000
t_reconcile "$c"
t_reconcile "$csv_commune"
t_assert_no_quarantine "$c"

# A record typed in days after it happened keeps its real time at the province.
read -r id version occurred < <(lt_psql "$(t_cdb "$c")" -At -F ' ' -c "SELECT entity_id, version,
    to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') FROM lt.outbox
    WHERE occurred_at < recorded_at - interval '2 days' AND op = 'upsert' ORDER BY id LIMIT 1")
[ -n "$id" ] || t_fail "no record in the import happened 2 days before it was typed in"
t_assert_eq "$occurred" "$(t_sql "$T_PDB" "SELECT to_char(occurred_at AT TIME ZONE 'UTC',
    'YYYY-MM-DD\"T\"HH24:MI:SS') FROM lt.event_log WHERE commune_code = '$c'
    AND entity_id = '$id' AND version = $version")" "province occurred_at of $id version $version"
live=$(t_sql "$T_PDB" "SELECT count(*) FROM lt.entity WHERE commune_code = '$c' AND NOT deleted")
typed=$(t_sql "$T_PDB" "SELECT (SELECT count(*) FROM lt.civil_record WHERE commune_code = '$c')
    + (SELECT count(*) FROM lt.dossier WHERE commune_code = '$c')")
t_assert_eq "$live" "$typed" "live entities = typed rows (civil_record + dossier)"
t_log "ok: $good good rows applied; $typed live records in the typed tables"
