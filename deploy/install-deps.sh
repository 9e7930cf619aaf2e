#!/usr/bin/env bash
# deploy/install-deps.sh - install everything lienthong needs to build, test
# and run on Debian 12: the Debian packages, and the Apache Kafka broker jars
# (from Maven Central, into $LT_CACHE_DIR).  Idempotent: a second run checks
# and does nothing.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() {
    cat <<EOF
Usage: deploy/install-deps.sh [--check] [--help]

Installs what lienthong needs (idempotent; safe to run again):
  1. Debian packages, if any is missing: runs 'apt-get update' once, then
     'apt-get install -y --no-install-recommends' (through sudo when not root):
       ${LT_DEB_PACKAGES[*]}
  2. The Apache Kafka $LT_KAFKA_VERSION broker jars, via Maven from
     deploy/kafka/pom.xml, into
       $LT_KAFKA_LIBS
     unless that directory already holds kafka_2.13-$LT_KAFKA_VERSION.jar.

Options:
  --check   only report what is missing; exit 1 if anything is, else 0
  --help    this text

Environment: LT_CACHE_DIR (default \${XDG_CACHE_HOME:-\$HOME/.cache}/lienthong),
  LT_KAFKA_LIBS (default \$LT_CACHE_DIR/kafka-$LT_KAFKA_VERSION/libs).
EOF
}

# Keep in sync with the README / CI.  Everything deploy/*.sh, the build and
# the tests use.  libsystemd-dev: sd_notify in the daemons; systemd
# (systemd-analyze, systemd-sysusers), dpkg-dev (dpkg-shlibdeps for cpack),
# man-db and strace: the packaging tests.
LT_DEB_PACKAGES=(
    build-essential cmake ninja-build pkg-config
    librdkafka-dev libprotobuf-c-dev protobuf-c-compiler
    libpq-dev libssl-dev libjansson-dev libutf8proc-dev
    postgresql postgresql-contrib
    openjdk-17-jre-headless maven ca-certificates
    kcat procps iproute2 util-linux python3 jq
    # The daemons' HTTP port (/metrics, /healthz, /readyz).
    libmicrohttpd-dev
    # Tests: curl scrapes /metrics; promtool checks the metrics and tests the
    # alert rules. Debian ships promtool only inside the prometheus package
    # (~100 MB with its web assets, about 30 s to install). Where systemd
    # runs, the package starts a Prometheus on port 9090 (systemctl disable
    # --now prometheus if unwanted); nothing is started elsewhere.
    curl prometheus
    libsystemd-dev systemd dpkg-dev man-db strace
    # test_status_page: the sink's page in headless Chromium (~27 s to install).
    chromium fonts-dejavu-core
)

KAFKA_JAR="kafka_2.13-$LT_KAFKA_VERSION.jar"
POM="$LT_ROOT/deploy/kafka/pom.xml"

check_only=0
while [ $# -gt 0 ]; do
    case $1 in
        --check) check_only=1 ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; lt_die "install-deps.sh: unknown argument '$1'" ;;
    esac
    shift
done

# missing_packages - prints the packages of LT_DEB_PACKAGES not installed.
missing_packages() {
    local installed
    # dpkg-query exits 1 when some name is unknown; its list is still right.
    installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' \
        "${LT_DEB_PACKAGES[@]}" 2>/dev/null | awk '$2 == "installed" { print $1 }' || true)
    local p
    for p in "${LT_DEB_PACKAGES[@]}"; do
        grep -qxF -- "$p" <<<"$installed" || printf '%s\n' "$p"
    done
}

jars_present() {
    [ -f "$LT_KAFKA_LIBS/$KAFKA_JAR" ]
}

command -v dpkg-query >/dev/null 2>&1 ||
    lt_die "dpkg-query not found: install-deps.sh supports Debian/Ubuntu only"

mapfile -t missing < <(missing_packages)

if [ "$check_only" = 1 ]; then
    rc=0
    if [ "${#missing[@]}" -gt 0 ]; then
        printf 'lienthong: missing Debian packages: %s\n' "${missing[*]}" >&2
        rc=1
    fi
    if ! jars_present; then
        printf 'lienthong: missing Kafka %s jars: no %s in %s\n' \
            "$LT_KAFKA_VERSION" "$KAFKA_JAR" "$LT_KAFKA_LIBS" >&2
        rc=1
    fi
    [ "$rc" = 0 ] && lt_log "all dependencies present"
    exit "$rc"
fi

if [ "$(id -u)" = 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    SUDO=()
fi

# run_logged WHAT CMD... - run CMD with its output in a temp file; on failure
# show the end of it and die naming WHAT.
run_logged() {
    local what=$1 log rc=0
    shift
    log=$(mktemp "${TMPDIR:-/tmp}/lienthong-install.XXXXXX")
    "$@" >"$log" 2>&1 || rc=$?
    if [ "$rc" != 0 ]; then
        tail -n 40 "$log" >&2
        rm -f "$log"
        lt_die "$what failed (exit $rc): $*"
    fi
    rm -f "$log"
}

did=0
if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" != 0 ] && [ "${#SUDO[@]}" = 0 ]; then
        lt_die "missing Debian packages (${missing[*]}) and not root and no sudo: install them as root"
    fi
    lt_log "apt-get update ..."
    run_logged "apt-get update" "${SUDO[@]}" apt-get update
    lt_log "installing Debian packages: ${missing[*]} ..."
    run_logged "apt-get install" "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y --no-install-recommends "${missing[@]}"
    mapfile -t still < <(missing_packages)
    [ "${#still[@]}" = 0 ] || lt_die "still missing after apt-get install: ${still[*]}"
    did=1
fi

if ! jars_present; then
    command -v mvn >/dev/null 2>&1 || lt_die "mvn not found (package maven)"
    [ -f "$POM" ] || lt_die "missing $POM"
    parent=$(dirname "$LT_KAFKA_LIBS")
    mkdir -p "$parent" || lt_die "cannot create $parent"
    tmp=$(mktemp -d "$parent/.libs.tmp.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    lt_log "fetching Kafka $LT_KAFKA_VERSION jars from Maven Central into $LT_KAFKA_LIBS ..."
    run_logged "mvn dependency:copy-dependencies (Kafka $LT_KAFKA_VERSION jars)" \
        mvn -B -q -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$tmp"
    [ -f "$tmp/$KAFKA_JAR" ] || lt_die "maven did not produce $KAFKA_JAR"
    ls "$tmp"/slf4j-reload4j-*.jar >/dev/null 2>&1 ||
        lt_die "maven did not produce slf4j-reload4j (needed for broker logging)"
    # Atomic publish: a partial directory (no kafka jar) is replaced; if a
    # concurrent run published first, keep its copy.
    if [ -d "$LT_KAFKA_LIBS" ] && ! jars_present; then
        rm -rf "$LT_KAFKA_LIBS"
    fi
    if ! mv -T "$tmp" "$LT_KAFKA_LIBS" 2>/dev/null; then
        jars_present || lt_die "cannot move $tmp to $LT_KAFKA_LIBS"
    fi
    did=1
    lt_log "Kafka jars ready: $(find "$LT_KAFKA_LIBS" -name '*.jar' | wc -l) jars in $LT_KAFKA_LIBS"
fi

if [ "$did" = 0 ]; then
    lt_log "all dependencies already installed"
fi
