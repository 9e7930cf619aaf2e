#!/usr/bin/env bash
# tests/deploy/test_prometheus_rules.sh - deploy/prometheus holds a valid
# Prometheus configuration and alert rules, and every alert fires (and stays
# quiet) as deploy/prometheus/tests/*.yml expect: promtool check config,
# promtool check rules, promtool test rules.
set -euo pipefail

ROOT=${LT_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)}
DIR="$ROOT/deploy/prometheus"
fail() { printf 'prometheus_rules: FAIL: %s\n' "$*" >&2; exit 1; }
command -v promtool >/dev/null || fail "promtool not found (deploy/install-deps.sh installs package prometheus)"

shopt -s nullglob
rules=("$DIR"/rules/*.yml)
tests=("$DIR"/tests/*.yml)
[ "${#rules[@]}" -gt 0 ] || fail "no rule file in $DIR/rules"
[ "${#tests[@]}" -gt 0 ] || fail "no rule test in $DIR/tests"

# check config resolves rule_files relative to the configuration file.
promtool check config "$DIR/prometheus.yml" || fail "promtool check config $DIR/prometheus.yml"
promtool check rules "${rules[@]}" || fail "promtool check rules"
(cd "$DIR/tests" && promtool test rules "${tests[@]##*/}") || fail "promtool test rules"

# Every alert the rules define is exercised by a test.
for alert in $(sed -n 's/^ *- alert: *\([A-Za-z0-9_]*\).*/\1/p' "${rules[@]}" | sort -u); do
    grep -qE "alertname: *$alert\$" "${tests[@]}" || fail "alert $alert has no promtool test"
done
echo "prometheus_rules: config, rules and rule tests pass"
