#!/usr/bin/env bash
# shellcheck disable=SC2119 # t_start_sink: its arguments are optional
# SIGHUP never kills a daemon nor loses work: agent and sink re-read their
# log level from the configuration file; a broken file is refused with a
# clear line and the running configuration stays.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

t_setup 37 1
c=${T_COMMUNES[0]}
t_start_sink
t_start_agent "$c"
t_wait_sink_ready 1
t_gen_bg "$c" 3000 -w 2 -r 500
wait_until "t_applied_ge $c 500" 60 "events flowing"

# ---- 1. debug logging switched on by SIGHUP, while events flow
sed -i 's/^\[agent\]$/[agent]\nlog_level = debug/' "$T_DIR/agent_$c.ini"
sed -i 's/^\[sink\]$/[sink]\nlog_level = debug/' "$T_DIR/sink.ini"
kill -HUP "${T_PID[agent_$c]}" "${T_PID[sink]}"
wait_until "grep -q 'SIGHUP: log level reloaded' $T_DIR/agent_$c.log" 10 "agent reload line"
wait_until "grep -q 'SIGHUP: log level reloaded' $T_DIR/sink.log" 10 "sink reload line"
wait_until "grep -q 'level=debug.*msg=\"batch produced\"' $T_DIR/agent_$c.log" 20 "agent debug lines"
wait_until "grep -q 'level=debug.*msg=\"round applied\"' $T_DIR/sink.log" 20 "sink debug lines"
t_log "ok: both daemons log at debug level after SIGHUP"

# ---- 2. a broken file: refused, the daemons go on
sed -i 's/^log_level = debug$/log_level = loud/' "$T_DIR/agent_$c.ini"
sed -i 's/^\[sink\]$/[sink]\nno_such_option = 1/' "$T_DIR/sink.ini"
kill -HUP "${T_PID[agent_$c]}" "${T_PID[sink]}"
wait_until "grep -q 'level=error.*SIGHUP: configuration not reloaded.*unknown level' $T_DIR/agent_$c.log" \
    10 "the agent refusing a bad log level"
wait_until "grep -q 'level=error.*SIGHUP: configuration not reloaded.*no_such_option' $T_DIR/sink.log" \
    10 "the sink refusing an unknown option"
grep -q 'level=debug' <(tail -n 5 "$T_DIR/agent_$c.log") || t_fail "the agent left debug level on a bad reload"
t_check_procs
t_wait_gen "$c" 60
t_wait_drained 60 "$c"
t_assert_exactly_once "$c" 3000
t_reconcile "$c"
t_stop "agent_$c"
t_stop sink
