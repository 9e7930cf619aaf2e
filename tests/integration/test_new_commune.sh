#!/usr/bin/env bash
# A commune provisioned while the sink is stopped for a moment is consumed
# as soon as the sink is back, and one provisioned while the sink runs is
# consumed within seconds: provision tells the running sink (NOTIFY), and a
# stopped sink leaves its group, so its next start gets every topic.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

t_setup 31 1
first=${T_COMMUNES[0]}
# Two more communes of the province with no topic yet, not provisioned.
mapfile -t later < <(python3 - "$LT_ROOT/data/admin-units/units-2026-07-25.json" "$T_PROVINCE" \
    "$first $(t_kafka_topics | tr '\n' ' ')" <<'PY'
import json, sys
units, province, taken = json.load(open(sys.argv[1], encoding="utf-8")), sys.argv[2], set(sys.argv[3].split())
codes = [w["Code"] for p in units if p["Code"] == province for w in p["Wards"]]
print("\n".join([c for c in codes if c not in taken and f"lt.{province}.{c}.events" not in taken][:2]))
PY
)
[ "${#later[@]}" = 2 ] || t_fail "no two free communes in province $T_PROVINCE"
prepare() { # CODE - commune database and agent ini, as t_setup does
    t_fresh_db "$(t_cdb "$1")"
    t_write_agent_ini "$1"
    t_run "agent_$1" "$AGENT" -c "$T_DIR/agent_$1.ini" init
}
applied_within() { # CODE N SECONDS
    local start=$SECONDS
    wait_until "t_applied_ge $1 $2" "$3" "$2 events of the new commune $1 applied"
    t_log "ok: commune $1: $2 events applied $((SECONDS - start)) s after they were written"
}

t_start_sink
t_wait_sink_ready 1
t_start_agent "$first"
t_gen "$first" 50
t_wait_drained 60 "$first"

# ---- 1. sink stopped, commune provisioned, sink started again at once
b=${later[0]}
prepare "$b"
t_stop sink
t_run sink_admin "$SINK" -c "$T_DIR/sink.ini" provision "$b"
t_start_sink
t_start_agent "$b"
t_gen "$b" 50
applied_within "$b" 50 30
t_wait_drained 30 "$first" "$b"
t_reconcile "$b"

# ---- 2. commune provisioned while the sink runs
c=${later[1]}
prepare "$c"
t_run sink_admin "$SINK" -c "$T_DIR/sink.ini" provision "$c"
t_start_agent "$c"
t_gen "$c" 50
applied_within "$c" 50 20
grep -q "msg=\"commune provisioned\" commune=$c" "$T_DIR/sink.log" ||
    t_fail "the running sink was not told of commune $c"
t_reconcile "$c"
for x in "$first" "$b" "$c"; do t_assert_no_quarantine "$x"; t_stop "agent_$x"; done
t_stop sink
t_assert_log_clean sink
