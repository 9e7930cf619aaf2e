#!/usr/bin/env bash
# A committed outbox insert wakes the agent at once (the schema's
# outbox_notify trigger, the agent's LISTEN): with agent.poll_interval_ms at
# 30 s, new rows still reach Kafka within seconds - also after the commune
# database restarted under the idle agent, which then listens again on its
# new connection.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

t_setup 79 1
c=${T_COMMUNES[0]}
CDB=$(t_cdb "$c")

t_assert_eq 1 "$(t_sql "$CDB" "SELECT count(*) FROM pg_trigger
    WHERE tgrelid = 'lt.outbox'::regclass AND tgname = 'outbox_notify'")" \
    "outbox_notify triggers on lt.outbox after lienthong-agent init"

started() { grep -q "msg=\"$1\"" "$T_DIR/agent_$c.log"; }
# rows_sent_within N SECONDS SEED - N new rows acknowledged by Kafka within
# SECONDS of their commit, far sooner than the agent's next look.
rows_sent_within() {
    t_gen "$c" "$1" -s "$3"
    local t0=$SECONDS
    wait_until "t_unsent_is $c 0" "$2" "$1 new rows sent by an agent that looks every 30 s"
    t_log "$1 new rows sent $((SECONDS - t0)) s after their commit"
}

t_start_agent "$c" -o agent.poll_interval_ms=30000
wait_until "started 'agent started'" 30 "the agent's start"
rows_sent_within 1 3 1 # the first batch also fetches the topic's metadata
sleep 2                # idle again, with 28 s to its next look
rows_sent_within 50 3 2

# ---- the database restarts under the idle agent
t_pg restart
t_log "postgres restarted"
wait_until "started 'commune database back'" 30 "the agent's reconnection"
sleep 1
rows_sent_within 50 3 3
t_check_procs
t_assert_log_clean "agent_$c"
