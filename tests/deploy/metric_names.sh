#!/usr/bin/env bash
# tests/deploy/metric_names.sh - every metric name the alert rules, their
# tests, the Grafana dashboards and docs/OPERATIONS.md use is one the daemons
# export, and docs/OPERATIONS.md lists every one they export.
#
#     metric_names.sh --names PATH/lt-metric-names   # the daemons' tables
#     metric_names.sh --scrape FILE...               # real /metrics scrapes
#
# The exported list is checked with `promtool check metrics` as well. A
# histogram's series (_bucket, _sum, _count) count as its name. Exit 0 when
# all is well, 1 with each stray name listed.
set -euo pipefail

ROOT=${LT_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)}
fail() { printf 'metric_names: FAIL: %s\n' "$*" >&2; exit 1; }
command -v promtool >/dev/null || fail "promtool not found (deploy/install-deps.sh installs package prometheus)"
command -v jq >/dev/null || fail "jq not found (deploy/install-deps.sh installs it)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/lt-metric-names.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
case ${1:-} in
    --names)
        [ -x "${2:-}" ] || fail "--names needs the lt-metric-names program"
        "$2" >"$tmp/exported.txt" || fail "$2 failed: a metric table is broken"
        out=$(promtool check metrics <"$tmp/exported.txt" 2>&1) ||
            fail "promtool check metrics on the daemons' metric list: $out"
        docs=1
        ;;
    --scrape)
        shift
        [ $# -gt 0 ] || fail "--scrape needs files"
        cat "$@" >"$tmp/exported.txt"
        docs=0
        ;;
    *) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 2 ;;
esac

# name type, one a line
sed -n 's/^# TYPE \([a-zA-Z_:][a-zA-Z0-9_:]*\) \([a-z]*\)$/\1 \2/p' "$tmp/exported.txt" |
    sort -u >"$tmp/types.txt"
[ -s "$tmp/types.txt" ] || fail "no metric in the exported list"
declare -A type=()
while read -r name t; do type[$name]=$t; done <"$tmp/types.txt"

known() { # NAME - exported, or a histogram's series
    local n=$1 base
    [ -n "${type[$n]:-}" ] && return 0
    for suffix in _bucket _sum _count; do
        base=${n%"$suffix"}
        [ "$base" != "$n" ] && [ "${type[$base]:-}" = histogram ] && return 0
    done
    return 1
}

shopt -s nullglob
files=("$ROOT"/deploy/prometheus/*.yml "$ROOT"/deploy/prometheus/rules/*.yml
    "$ROOT"/deploy/prometheus/tests/*.yml "$ROOT"/deploy/grafana/*.json)
[ "${#files[@]}" -gt 0 ] || fail "no rule or dashboard file under $ROOT/deploy"
bad=0 used=0
for f in "${files[@]}"; do
    case $f in *.json) jq -e . "$f" >/dev/null || fail "$f is not valid JSON" ;; esac
    for n in $(grep -ohE '\blienthong_[a-zA-Z0-9_]+' "$f" | sort -u); do
        used=$((used + 1))
        known "$n" && continue
        printf 'metric_names: %s uses %s, which no daemon exports\n' "${f#"$ROOT"/}" "$n" >&2
        bad=1
    done
done
[ "$used" -gt 0 ] || fail "no lienthong_ metric used in ${files[*]}"

if [ "$docs" = 1 ]; then
    doc="$ROOT/docs/OPERATIONS.md"
    [ -f "$doc" ] || fail "missing $doc"
    while read -r name _; do
        grep -qF "\`$name\`" "$doc" && continue
        printf 'metric_names: docs/OPERATIONS.md does not describe %s\n' "$name" >&2
        bad=1
    done <"$tmp/types.txt"
fi
[ "$bad" = 0 ] || fail "stray or undocumented metric names (above)"
printf 'metric_names: %d names exported, %d uses in %d files, all exported%s\n' \
    "$(wc -l <"$tmp/types.txt")" "$used" "${#files[@]}" "$([ "$docs" = 1 ] && echo ', all documented')"
