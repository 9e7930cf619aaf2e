#!/usr/bin/env python3
"""bench/peer/records.py COMMUNE < ROWS > RECORDS

The benchmark's peer gets the same events as lienthong-sink, as Kafka Connect
JsonConverter records with schemas (schemas.enable=true), one per event.

ROWS: COPY text (psql, TimeZone UTC) of the commune's outbox rows in sequence
order, as the agent sent them: entity_type, entity_id, version, op,
occurred_at, recorded_at, seq, payload.
RECORDS: one Kafka record a line, KEY<TAB>VALUE, for
`kcat -P -K '\\t' -Z`; an empty VALUE is produced as NULL (a tombstone).

key:   struct {commune_code, entity_type, entity_id}   (lt.entity's key)
value: struct {commune_code, entity_type, entity_id, version int64,
               deleted bool, seq int64, occurred_at and recorded_at
               (io.debezium.time.ZonedTimestamp), payload (io.debezium.data.Json,
               the outbox payload)}
An op=delete row is a tombstone, which the JDBC sink's delete.enabled=true
turns into a DELETE.
"""
import json
import sys

ESC = {'t': '\t', 'n': '\n', 'r': '\r', '\\': '\\', 'b': '\b', 'f': '\f', 'v': '\v'}


def unescape(field):
    """One field of COPY text format: \\N is NULL, backslash escapes."""
    if field == r'\N':
        return None
    if '\\' not in field:
        return field
    out, i = [], 0
    while i < len(field):
        if field[i] == '\\' and i + 1 < len(field):
            out.append(ESC.get(field[i + 1], field[i + 1]))
            i += 2
        else:
            out.append(field[i])
            i += 1
    return ''.join(out)


def iso(ts):
    """'2026-11-30 07:00:00.123456+00' -> '2026-11-30T07:00:00.123456+00:00'."""
    ts = ts.replace(' ', 'T', 1)
    if len(ts) >= 3 and ts[-3] in '+-' and ts[-2:].isdigit():
        ts += ':00'
    return ts


def string(field, name=None, optional=False):
    f = {"type": "string", "optional": optional, "field": field}
    if name:
        f["name"] = name
    return f


KEY_SCHEMA = {"type": "struct", "optional": False, "name": "lienthong.bench.EntityKey",
              "fields": [string("commune_code"), string("entity_type"), string("entity_id")]}
VALUE_SCHEMA = {"type": "struct", "optional": True, "name": "lienthong.bench.EntityChange",
                "fields": [string("commune_code"), string("entity_type"), string("entity_id"),
                           {"type": "int64", "optional": False, "field": "version"},
                           {"type": "boolean", "optional": False, "field": "deleted"},
                           {"type": "int64", "optional": False, "field": "seq"},
                           string("occurred_at", "io.debezium.time.ZonedTimestamp"),
                           string("recorded_at", "io.debezium.time.ZonedTimestamp"),
                           string("payload", "io.debezium.data.Json", optional=True)]}


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: records.py COMMUNE < ROWS > RECORDS")
    commune = sys.argv[1]
    dump = lambda o: json.dumps(o, ensure_ascii=False, separators=(',', ':'))
    key_head = '{"schema":' + dump(KEY_SCHEMA) + ',"payload":'
    value_head = '{"schema":' + dump(VALUE_SCHEMA) + ',"payload":'
    out = sys.stdout
    for line in sys.stdin:
        etype, eid, version, op, occurred, recorded, seq, payload = \
            [unescape(f) for f in line.rstrip('\n').split('\t')]
        key = key_head + dump({"commune_code": commune, "entity_type": etype, "entity_id": eid}) + '}'
        value = ''
        if op != 'delete':
            value = value_head + dump({
                "commune_code": commune, "entity_type": etype, "entity_id": eid,
                "version": int(version), "deleted": False, "seq": int(seq),
                "occurred_at": iso(occurred), "recorded_at": iso(recorded),
                "payload": payload}) + '}'
        # json.dumps escapes control characters: no tab or newline inside
        out.write(key + '\t' + value + '\n')


main()
