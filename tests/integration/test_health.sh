#!/usr/bin/env bash
# shellcheck disable=SC2119 # t_start_sink: its arguments are optional
# Each commune's health as lienthong-sink status judges it from heartbeats,
# lag and progress: OK while in step; IDLE once nothing was applied for
# sink.idle_after_s; OFFLINE once its agent is unheard for 6 heartbeat
# intervals; STALLED while data waits and the sink applies nothing, LAGGING
# for the same moment judged with a loose stall bound, and OK again once it
# catches up; SKEWED for an agent whose clock is 10 minutes ahead;
# QUARANTINE while messages are refused.
# The exit status says 3 whenever a commune is in an alert state.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

t_setup 44 1
c=${T_COMMUNES[0]}
BOUNDS=(-o sink.heartbeat_interval_s=1 -o sink.stalled_after_s=4 -o sink.lag_warn_s=30
        -o sink.skew_max_s=60)
AGENT_OPTS=(-o agent.heartbeat_interval_s=1)
# health [-o K=V]... - "STATE EXIT" of the commune, as status --json says it
# (options after BOUNDS: the same moment judged with other bounds)
health() {
    local out st=0
    out=$("$SINK" -c "$T_DIR/sink.ini" "${BOUNDS[@]}" "$@" status --json 2>>"$T_DIR/status.err") || st=$?
    printf '%s' "$out" >"$T_DIR/status.json"
    printf '%s %s\n' "$(jq -r '.communes[0].health.state' <<<"$out")" "$st"
}
health_is() { [ "$(health)" = "$1" ]; } # "STATE EXIT"
wait_health() { # "STATE EXIT" TIMEOUT
    wait_until "health_is '$1'" "$2" "health $1"
    t_log "ok: health $1: $(jq -c '.communes[0].health' "$T_DIR/status.json")"
}

t_start_sink
t_start_agent "$c" "${AGENT_OPTS[@]}"
t_wait_sink_ready 1
t_gen "$c" 200
t_wait_drained 60 "$c"
wait_health "OK 0" 30
backlog_is_0() { health >/dev/null; [ "$(jq '.communes[0].health.backlog_rows' "$T_DIR/status.json")" = 0 ]; }
wait_until backlog_is_0 15 "the next heartbeat reporting an empty backlog"

# ---- IDLE: heartbeats arrive, nothing applied for longer than idle_after_s
idle_is() { [ "$(health -o sink.idle_after_s=2)" = "IDLE 0" ]; }
wait_until idle_is 30 "health IDLE with sink.idle_after_s=2"
t_log "ok: health IDLE 0 (nothing applied for 2 s, heard from)"
t_assert_eq "OK 0" "$(health)" "health of the same moment with idle_after_s at its default"

# ---- OFFLINE: the agent stops
t_stop "agent_$c"
wait_health "OFFLINE 3" 30

# ---- STALLED, then OK: events wait in Kafka while the sink is stopped
t_start_agent "$c" "${AGENT_OPTS[@]}"
t_stop sink
t_gen "$c" 300 -s "$((T_SEED % 100000 + 2))"
wait_until "t_unsent_is $c 0" 30 "all sent"
wait_health "STALLED 3" 30
lag=$(jq '.communes[0].health.lag_seconds' "$T_DIR/status.json")
t_assert_cmp "${lag%.*}" -ge 1 "lag in seconds of the waiting events"
# The same moment with a stall bound not reached and heartbeats expected
# only every minute: events older than lag_warn_s wait, so LAGGING.
t_assert_eq "LAGGING 3" "$(health -o sink.stalled_after_s=600 -o sink.heartbeat_interval_s=60 \
    -o sink.lag_warn_s=1)" "health with a loose stall bound"
t_log "ok: health LAGGING 3 with a loose stall bound: $(jq -c '.communes[0].health' "$T_DIR/status.json")"
t_start_sink
t_wait_drained 60 "$c"
wait_health "OK 0" 30

# ---- SKEWED: the agent's clock 10 minutes ahead. (faketime cannot run a
# librdkafka client: its C11 condition waits take absolute CLOCK_REALTIME
# deadlines that bypass libfaketime, so an agent faked ahead never wakes, and
# one faked behind fails rd_kafka_new ("background thread(s) did not
# initialize"), even with FAKETIME_DONT_FAKE_MONOTONIC=1. The agent's
# reported clock is moved instead, between two of its heartbeats.)
t_stop "agent_$c"
t_sql "$T_PDB" "UPDATE lt.commune_heartbeat SET agent_at = agent_at + interval '10 min'
    WHERE commune_code = '$c'" >/dev/null
st_skewed=$(health)
t_assert_eq "SKEWED 3" "$st_skewed" "health with the agent's clock 10 minutes ahead"
skew=$(jq '.communes[0].health.clock_skew_seconds' "$T_DIR/status.json")
t_assert_cmp "${skew%.*}" -le -540 "clock skew measured (seconds, province minus agent)"
t_start_agent "$c" "${AGENT_OPTS[@]}"
wait_health "OK 0" 30

# ---- QUARANTINE: a stricter sink refuses the commune's batches
t_stop sink
t_start_sink -o sink.allow_integrity_only=false
t_gen "$c" 20 -s "$((T_SEED % 100000 + 3))"
wait_health "QUARANTINE 3" 30
t_stop "agent_$c"
t_stop sink
