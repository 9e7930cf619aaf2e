#!/usr/bin/env bash
# The Debian package: `cpack -G DEB` from the build directory makes a .deb
# that holds the programs, the systemd units, the sysusers.d file, the
# example configuration in /etc/lienthong (conffiles), the unit list and the
# man pages made from the same tables as --help, and depends on the runtime
# libraries' packages. Unpacked into a scratch root (dpkg -x; nothing is
# installed on this machine), its programs run --version and --help, and the
# agent finds the unit list installed beside it - with the source and build
# trees out of reach, and never falling back to the source tree's copy.
# The units pass `systemd-analyze verify`, score well in `systemd-analyze
# security`, and the sysusers.d file creates the user the units name.
#
# Needs only the build directory: no Kafka, no PostgreSQL.
set -euo pipefail

T_NAME=package
T_T0=$SECONDS
t_log() { printf '[%s +%3ss] %s\n' "$T_NAME" "$((SECONDS - T_T0))" "$*"; }
t_fail() {
    printf '\n[%s +%3ss] FAIL: %s\n' "$T_NAME" "$((SECONDS - T_T0))" "$*" >&2
    exit 1
}

[ -n "${LT_TEST_BIN_DIR:-}" ] || t_fail "LT_TEST_BIN_DIR is not set: run tests/run.sh -R package"
LT_ROOT=${LT_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd -P)}
ROOT_REAL=$(cd "$LT_ROOT" && pwd -P)
BIN_REAL=$(cd "$LT_TEST_BIN_DIR" && pwd -P)
for tool in cpack dpkg dpkg-deb systemd-analyze systemd-sysusers man gzip; do
    command -v "$tool" >/dev/null ||
        t_fail "$tool not found: deploy/install-deps.sh installs it (this test does not pass without it)"
done

W=$(mktemp -d "${TMPDIR:-/tmp}/lienthong-package.XXXXXX")
trap 'rm -rf "$W"' EXIT
case $W/ in "$ROOT_REAL"/* | "$BIN_REAL"/*) t_fail "scratch dir $W is inside the source or build tree" ;; esac
R=$W/root
cd "$W" # ctest starts tests in the build tree

# --------------------------------------------------------------- the .deb
t_log "cpack -G DEB from $LT_TEST_BIN_DIR"
(cd "$LT_TEST_BIN_DIR" && cpack -G DEB -B "$W/cpack") >"$W/cpack.log" 2>&1 ||
    { cat "$W/cpack.log"; t_fail "cpack -G DEB failed"; }
debs=("$W"/cpack/lienthong_*.deb)
[ "${#debs[@]}" = 1 ] && [ -f "${debs[0]}" ] || t_fail "cpack made no single lienthong_*.deb: ${debs[*]}"
DEB=${debs[0]}
t_log "built $(basename "$DEB") ($(stat -c %s "$DEB") bytes)"

dpkg-deb -c "$DEB" | awk '{ print $6 }' | sed 's|^\./|/|' >"$W/contents"
has() { grep -qxF -- "$1" "$W/contents" || t_fail "the package lacks $1"; }
for p in lienthong-agent lienthong-sink lienthong-reconcile; do has "/usr/bin/$p"; done
unitdir=$(sed -n 's|^\(.*/systemd/system\)/lienthong-agent\.service$|\1|p' "$W/contents")
[ -n "$unitdir" ] || t_fail "the package lacks lienthong-agent.service in a systemd unit directory"
has "$unitdir/lienthong-sink.service"
has /usr/lib/sysusers.d/lienthong.conf
for f in agent.ini sink.ini reconcile.ini; do has "/etc/lienthong/$f"; done
has /usr/share/man/man8/lienthong-agent.8.gz
has /usr/share/man/man8/lienthong-sink.8.gz
has /usr/share/man/man1/lienthong-reconcile.1.gz
has /usr/share/lienthong/units-2026-07-25.json
has /usr/share/lienthong/merges-2025-07-01.json
has /usr/share/doc/lienthong/README.md
if grep -E "$ROOT_REAL|$BIN_REAL|/usr/local" "$W/contents"; then
    t_fail "the package holds files under the source tree, the build tree or /usr/local"
fi
t_log "ok: programs, units ($unitdir), sysusers.d, /etc/lienthong/*.ini, man pages, data"

# Control: dependencies on the runtime libraries, conffiles, maintainer scripts.
dpkg-deb -f "$DEB" Depends >"$W/depends"
for lib in librdkafka1 libprotobuf-c1 libpq5 libssl3 libjansson4 libutf8proc2 libsystemd0; do
    grep -qE "(^|[ ,|])$lib( |,|$)" "$W/depends" || t_fail "Depends lacks $lib: $(cat "$W/depends")"
done
dpkg-deb -e "$DEB" "$W/control"
for f in agent.ini sink.ini reconcile.ini; do
    grep -qxF "/etc/lienthong/$f" "$W/control/conffiles" || t_fail "/etc/lienthong/$f is not a conffile"
done
for s in postinst prerm postrm; do
    [ -x "$W/control/$s" ] || t_fail "maintainer script $s missing or not executable"
    sh -n "$W/control/$s" || t_fail "maintainer script $s does not parse"
done
grep -q 'systemd-sysusers lienthong.conf' "$W/control/postinst" ||
    t_fail "postinst does not create the lienthong user from the sysusers.d file"
VERSION=$(dpkg-deb -f "$DEB" Version)
t_log "ok: Depends $(cat "$W/depends")"

# ------------------------------------------------------ the scratch root
dpkg -x "$DEB" "$R"
for p in lienthong-agent lienthong-sink lienthong-reconcile; do
    [ -x "$R/usr/bin/$p" ] || t_fail "$R/usr/bin/$p is not executable"
done
[ "$(stat -c %a "$R/etc/lienthong/agent.ini")" = 640 ] ||
    t_fail "/etc/lienthong/agent.ini has mode $(stat -c %a "$R/etc/lienthong/agent.ini"), not 640"

# run_hidden CMD... - CMD with the source and build trees replaced by empty
# directories (a private mount namespace), so nothing there can be read.
# The build tree first: it may lie inside the source tree.
HIDE=0
mkdir -p "$W/mnt"
if unshare -m sh -c 'mount -t tmpfs lt-probe "$1"' sh "$W/mnt" 2>/dev/null; then HIDE=1; fi
run_hidden() {
    if [ "$HIDE" = 1 ]; then
        unshare -m sh -c 'mount -t tmpfs lt-hidden "$2" && mount -t tmpfs lt-hidden "$1" &&
            [ ! -e "$1/README.md" ] && shift 2 && exec "$@"' sh "$ROOT_REAL" "$BIN_REAL" "$@"
    else
        "$@"
    fi
}
[ "$HIDE" = 1 ] && t_log "the installed programs run with $ROOT_REAL and $BIN_REAL hidden (unshare -m)" ||
    t_log "unshare -m not permitted: the installed programs run with the trees in place (strace checks below)"

for p in lienthong-agent:8 lienthong-sink:8 lienthong-reconcile:1; do
    prog=${p%:*} section=${p#*:}
    out=$(run_hidden "$R/usr/bin/$prog" --version) || t_fail "installed $prog --version failed"
    [ "$out" = "$prog ${VERSION%-*}" ] || t_fail "$prog --version says '$out', the package is $VERSION"
    run_hidden "$R/usr/bin/$prog" --help >"$W/$prog.help" || t_fail "installed $prog --help failed"
    grep -q "^Usage: $prog " "$W/$prog.help" || t_fail "$prog --help has no usage line"

    # The man page: what the program prints with --help-man, rendered
    # without a warning, with every option --help lists.
    page="$R/usr/share/man/man$section/$prog.$section.gz"
    diff <(gzip -dc "$page") <(run_hidden "$R/usr/bin/$prog" --help-man="$section") >/dev/null ||
        t_fail "$page differs from '$prog --help-man=$section'"
    MANWIDTH=200 man --warnings -l "$page" 2>"$W/$prog.manwarn" | col -b >"$W/$prog.man"
    [ ! -s "$W/$prog.manwarn" ] || t_fail "man warns about $page: $(cat "$W/$prog.manwarn")"
    grep -q "^NAME" "$W/$prog.man" && grep -q "$prog - " "$W/$prog.man" ||
        t_fail "$prog($section) has no NAME line"
    n=0
    while read -r opt; do
        grep -qE "^ +$opt \((string|integer|boolean), default" "$W/$prog.man" ||
            t_fail "$prog($section) lacks option $opt that --help lists"
        n=$((n + 1))
    done < <(awk '/^    [a-z_]+ +(string|integer|boolean) +default/ { print $1 }' "$W/$prog.help")
    [ "$n" -ge 4 ] || t_fail "$prog --help lists only $n options"
    for cmd in $(awk '/^Commands:/ { on = 1; next } /^$/ { on = 0 } on && /^  [a-z]/ { print $1 }' \
        "$W/$prog.help"); do
        grep -qE "^ {7}$cmd( |$)" "$W/$prog.man" || t_fail "$prog($section) lacks command $cmd"
    done
    t_log "ok: installed $prog runs --version and --help; $prog($section) has its $n options"
done

# ------------------------------------------------- the data path rule
# probe AGENT [ARGS...] - load the unit list as `import` does (then fail
# at the database, which listens nowhere); stderr in $W/probe.err.
echo '{}' >"$W/empty.ndjson"
probe() {
    local agent=$1
    shift
    "$@" "$agent" -v -c "$R/etc/lienthong/agent.ini" \
        -o 'agent.postgres=host=127.0.0.1 port=1 dbname=none connect_timeout=2' \
        import "$W/empty.ndjson" >/dev/null 2>"$W/probe.err" || true
}
units_loaded() { sed -n 's/.*msg="unit list loaded" path=\([^ ]*\) .*/\1/p' "$W/probe.err"; }

# 1. Installed: the copy beside the program, the trees out of reach.
probe "$R/usr/bin/lienthong-agent" run_hidden
got=$(units_loaded)
[ "$got" = "$R/usr/share/lienthong/units-2026-07-25.json" ] ||
    t_fail "the installed agent loaded '$got', not the installed unit list: $(cat "$W/probe.err")"
grep -q "cannot connect to PostgreSQL" "$W/probe.err" ||
    t_fail "the installed agent did not get past its configuration and unit list: $(cat "$W/probe.err")"
if command -v strace >/dev/null; then
    strace -f -qq -e trace=%file -o "$W/strace.log" "$R/usr/bin/lienthong-agent" -c \
        "$R/etc/lienthong/agent.ini" -o 'agent.postgres=host=127.0.0.1 port=1 connect_timeout=2' \
        import "$W/empty.ndjson" >/dev/null 2>&1 || true
    grep -q "$R/usr/share/lienthong/merges-2025-07-01.json" "$W/strace.log" ||
        t_fail "strace shows no open of the installed merges file"
    if grep -E "\"($ROOT_REAL|$BIN_REAL)/" "$W/strace.log"; then
        t_fail "the installed agent touched the source or build tree (above)"
    fi
    t_log "ok: strace: the installed agent opens nothing in the source or build tree"
fi

# 2. Installed, its unit list removed: an error naming the installed path,
#    although the source tree's copy is right there.
mv "$R/usr/share/lienthong/units-2026-07-25.json" "$W/units.json"
probe "$R/usr/bin/lienthong-agent"
grep -q "$R/usr/share/lienthong/units-2026-07-25.json:.*cannot read the unit list" "$W/probe.err" ||
    t_fail "without its unit list the installed agent did not say so: $(cat "$W/probe.err")"
[ -z "$(units_loaded)" ] || t_fail "without its unit list the installed agent loaded $(units_loaded)"
mv "$W/units.json" "$R/usr/share/lienthong/units-2026-07-25.json"

# 3. The build tree's program falls back to the source tree's copy; the
#    same program copied out of the build tree does not.
probe "$LT_TEST_BIN_DIR/producer/lienthong-agent"
got=$(units_loaded)
[ "$got" = "$ROOT_REAL/data/admin-units/units-2026-07-25.json" ] ||
    t_fail "the build tree's agent loaded '$got', not the source tree's unit list"
mkdir -p "$W/elsewhere/bin"
cp "$LT_TEST_BIN_DIR/producer/lienthong-agent" "$W/elsewhere/bin/"
probe "$W/elsewhere/bin/lienthong-agent"
grep -q "$W/elsewhere/share/lienthong/units-2026-07-25.json:.*cannot read the unit list" "$W/probe.err" ||
    t_fail "an agent outside the build tree without data did not name its own missing copy: $(cat "$W/probe.err")"
t_log "ok: installed agent reads $R/usr/share/lienthong; build tree's reads the source copy; no fallback elsewhere"

# The installed example configurations parse with the installed programs.
run_hidden "$R/usr/bin/lienthong-reconcile" -c "$R/etc/lienthong/reconcile.ini" name-key \
    "Nguyễn Văn An" >"$W/name-key.out" || t_fail "lienthong-reconcile with the example reconcile.ini failed"
run_hidden "$R/usr/bin/lienthong-sink" -c "$R/etc/lienthong/sink.ini" \
    -o 'sink.postgres=host=127.0.0.1 port=1 connect_timeout=2' migrate >/dev/null 2>"$W/sink.err" || true
grep -q "cannot connect to PostgreSQL" "$W/sink.err" ||
    t_fail "lienthong-sink did not get past the example sink.ini: $(cat "$W/sink.err")"
t_log "ok: the example configurations in /etc/lienthong are read by the installed programs"

# ------------------------------------------------------------ the units
for u in lienthong-agent lienthong-sink; do
    unit="$R$unitdir/$u.service"
    grep -qx 'Type=notify' "$unit" || t_fail "$u.service is not Type=notify"
    grep -qE '^WatchdogSec=[1-9]' "$unit" || t_fail "$u.service has no WatchdogSec="
    grep -qx 'User=lienthong' "$unit" || t_fail "$u.service does not run as lienthong"
    exe=$(sed -n 's/^ExecStart=\([^ ]*\) .*/\1/p' "$unit")
    [ "$exe" = "/usr/bin/$u" ] && [ -x "$R$exe" ] || t_fail "$u.service starts '$exe', not the packaged /usr/bin/$u"
    # verify: the unit as installed, its programs in the scratch root, its
    # Documentation= man page among the packaged ones. Any line is a failure.
    mkdir -p "$W/verify"
    sed "s|=/usr/bin/|=$R/usr/bin/|" "$unit" >"$W/verify/$u.service"
    (cd "$W/verify" && MANPATH="$R/usr/share/man" SYSTEMD_LOG_COLOR=0 \
        systemd-analyze verify "$W/verify/$u.service") >"$W/verify.out" 2>&1 ||
        t_fail "systemd-analyze verify $u.service failed: $(cat "$W/verify.out")"
    [ ! -s "$W/verify.out" ] || t_fail "systemd-analyze verify $u.service: $(cat "$W/verify.out")"
    systemd-analyze security --offline=yes --threshold=20 "$unit" >"$W/security.out" 2>&1 ||
        t_fail "$u.service: exposure above 2.0: $(tail -n 1 "$W/security.out")"
    t_log "ok: $u.service verifies; $(tail -n 1 "$W/security.out" | sed 's/^→ //')"
done

# The sysusers.d file creates the user and group the units name.
mkdir -p "$W/sys/etc"
systemd-sysusers --root="$W/sys" "$R/usr/lib/sysusers.d/lienthong.conf" >/dev/null 2>&1 ||
    t_fail "systemd-sysusers refused lienthong.conf"
grep -qE '^lienthong:x:[0-9]+:[0-9]+:[^:]*:/:/usr/sbin/nologin$' "$W/sys/etc/passwd" ||
    t_fail "sysusers made no system user lienthong without a shell: $(cat "$W/sys/etc/passwd")"
grep -q '^lienthong:x:' "$W/sys/etc/group" || t_fail "sysusers made no group lienthong"
t_log "ok: sysusers.d creates user and group lienthong (no login shell)"
t_log "PASS"
