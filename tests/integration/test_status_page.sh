#!/usr/bin/env bash
# The sink's status page, loaded in headless Chromium (Debian's package): its
# rows match what the province knows (every commune OK while in step; the
# one whose agent stopped turns OFFLINE and the summary says one needs
# attention), /status.json is the `status --json` document, /metrics says
# the same state per commune, and a screenshot at a phone's width is kept as
# a test artifact.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

command -v chromium >/dev/null || t_fail "chromium not found (deploy/install-deps.sh installs it)"
t_setup 46 2
c1=${T_COMMUNES[0]} c2=${T_COMMUNES[1]}
port=$(lt_free_port 29564 7) || t_fail "no free port"
URL="http://127.0.0.1:$port"
ARTIFACTS="$LT_TEST_BIN_DIR/test-artifacts"
mkdir -p "$ARTIFACTS"
AGENT_OPTS=(-o agent.heartbeat_interval_s=1)
t_start_sink -o "sink.http_listen=127.0.0.1:$port" -o sink.heartbeat_interval_s=1
t_start_agent "$c1" "${AGENT_OPTS[@]}"
t_start_agent "$c2" "${AGENT_OPTS[@]}"
t_wait_sink_ready 2
t_gen "$c1" 200
t_gen "$c2" 100
t_wait_drained 60 "$c1" "$c2"

# chromium ARGS... - headless, private profile, no network but the page's.
chromium_run() {
    timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$T_DIR/chromium-profile" "$@" 2>>"$T_DIR/chromium.log"
}
# page_dom - the page's DOM once its script has fetched and rendered.
page_dom() { chromium_run --virtual-time-budget=15000 --dump-dom "$URL/"; }
state_of() { # DOM CODE - the data-state of CODE's row
    python3 -c 'import sys, re
m = re.search(r"<tr data-commune=\"%s\" data-state=\"([A-Z]+)\"" % sys.argv[1], sys.stdin.read())
print(m.group(1) if m else "none")' "$2" <<<"$1"
}
states_are() { # WANT1 WANT2 - both rows show these states
    DOM=$(page_dom) || return 1
    [ "$(state_of "$DOM" "$c1")|$(state_of "$DOM" "$c2")" = "$1|$2" ]
}
# metric NAME CODE - the value of NAME{commune="CODE"} on /metrics, or "none".
metric() {
    curl -fsS "$URL/metrics" | awk -v s="$1{commune=\"$2\"}" '$1 == s { print $2; f = 1 }
        END { if (!f) print "none" }'
}
metric_states_are() { # WANT1 WANT2 - the health codes /metrics shows
    [ "$(metric lienthong_sink_commune_health_state "$c1")|$(metric lienthong_sink_commune_health_state "$c2")" = "$1|$2" ]
}

# ---- the page and its document
curl -fsS "$URL/" >"$T_DIR/page.html" || t_fail "GET / failed"
grep -q '<title>lienthong' "$T_DIR/page.html" || t_fail "GET / is not the status page"
grep -qE '(src|href)="https?://' "$T_DIR/page.html" && t_fail "the page loads external assets"
curl -fsS "$URL/status.json" >"$T_DIR/status.json" || t_fail "GET /status.json failed"
t_assert_eq "46|2" "$(jq -r '"\(.province)|\(.communes | length)"' "$T_DIR/status.json")" \
    "status.json province|communes"

# ---- in step: both OK in the browser
wait_until "states_are OK OK" 60 "both communes OK on the page"
grep -q 'all well' <<<"$DOM" || t_fail "the page summary does not say all is well"
t_log "ok: the page shows both communes OK"
wait_until "metric_states_are 0 0" 30 "both communes OK (0) on /metrics"
# Heartbeats travel as Kafka records: one may be in flight, a second old.
lag=$(metric lienthong_sink_commune_lag_seconds "$c1")
awk -v l="$lag" 'BEGIN { exit !(l != "none" && l + 0 < 5) }' ||
    t_fail "lag seconds of $c1 on /metrics: want under 5, got $lag"
t_log "ok: /metrics shows both communes OK, $c1 lagging $lag s"
chromium_run --window-size=412,900 --virtual-time-budget=15000 \
    --screenshot="$ARTIFACTS/status_page.png" "$URL/" >/dev/null
[ -s "$ARTIFACTS/status_page.png" ] || t_fail "no screenshot"
t_log "ok: screenshot kept: $ARTIFACTS/status_page.png"

# ---- one agent stops: its row turns OFFLINE
t_stop "agent_$c2"
wait_until "states_are OK OFFLINE" 60 "$c2 OFFLINE on the page"
grep -q '1 need attention' <<<"$DOM" || t_fail "the page summary does not count the commune needing attention"
t_log "ok: the page shows $c2 OFFLINE and counts it"
wait_until "metric_states_are 0 7" 30 "$c2 OFFLINE (7) on /metrics"
t_log "ok: /metrics shows $c2 OFFLINE"
t_stop "agent_$c1"
t_stop sink
