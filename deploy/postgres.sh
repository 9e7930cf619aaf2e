#!/usr/bin/env bash
# deploy/postgres.sh - a private PostgreSQL server for lienthong's tests and
# demos, on 127.0.0.1:$LT_PG_PORT with its data in $LT_STATE_DIR/pg.  It
# never touches Debian's own cluster (postgresql@*-main on 5432).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
unset LT_PG_CONNINFO # this script's server only, on 127.0.0.1:$LT_PG_PORT

PGSTATE="$LT_STATE_DIR/pg"
PGDATA_DIR="$PGSTATE/data"
PGLOG="$PGSTATE/postgres.log"
: "${LT_PG_START_TIMEOUT:=60}"
: "${LT_PG_EXTRA_CONF:=}"

usage() {
    cat <<EOF
Usage: deploy/postgres.sh COMMAND [ARGS]

A private PostgreSQL server (Debian's binaries, highest version under
/usr/lib/postgresql) on 127.0.0.1:$LT_PG_PORT, superuser 'postgres', trust
authentication, data in $PGDATA_DIR.  When run as root the server runs as
the OS user \$LT_PG_OS_USER (default: postgres).

Commands:
  start           initdb on first use, start, wait until it accepts
                  connections (timeout \$LT_PG_START_TIMEOUT, default 60 s).
                  Already running: no-op.
  stop            pg_ctl stop -m fast
  restart         stop, then start
  status          one line on stdout; exit 0 if running, else 3
  createdb NAME...  create each database that does not exist yet
                  (server must be running)
  wipe            stop, then delete $PGSTATE
  -h, --help      this text

Files: $PGDATA_DIR (cluster), $PGLOG (server log),
       $PGSTATE (unix socket directory)
Connect: psql -h 127.0.0.1 -p $LT_PG_PORT -U postgres -d DBNAME
         or, after '. deploy/lib.sh': lt_psql DBNAME / lt_pg_conninfo DBNAME

Environment: LT_STATE_DIR LT_PG_PORT LT_PG_START_TIMEOUT
  LT_PG_BINDIR (default: newest /usr/lib/postgresql/*/bin)
  LT_PG_OS_USER (server user when run as root; default postgres)
  LT_PG_EXTRA_CONF (extra postgresql.conf lines, newline-separated)
EOF
}

# ---------------------------------------------------------------- arguments
[ $# -ge 1 ] || { usage >&2; lt_die "postgres.sh: no command given"; }
cmd=$1
shift
case $cmd in
    -h | --help | help) usage; exit 0 ;;
    start | stop | restart | status | wipe)
        if [ $# -gt 0 ]; then
            case $1 in -h | --help) usage; exit 0 ;; esac
            lt_die "postgres.sh $cmd: unexpected argument '$1'"
        fi ;;
    createdb)
        [ $# -ge 1 ] || lt_die "postgres.sh createdb: give at least one database name"
        case $1 in -h | --help) usage; exit 0 ;; esac ;;
    *) usage >&2; lt_die "postgres.sh: unknown command '$cmd'" ;;
esac
case $LT_PG_PORT in
    '' | *[!0-9]*) lt_die "postgres.sh: LT_PG_PORT must be a number, got '$LT_PG_PORT'" ;;
esac

# ------------------------------------------------------------------ helpers
find_bindir() {
    if [ -n "${LT_PG_BINDIR:-}" ]; then
        [ -x "$LT_PG_BINDIR/pg_ctl" ] || lt_die "LT_PG_BINDIR=$LT_PG_BINDIR has no pg_ctl"
        printf '%s\n' "$LT_PG_BINDIR"
        return
    fi
    local d best=""
    # newest major version first
    while IFS= read -r d; do
        if [ -x "$d/bin/pg_ctl" ] && [ -x "$d/bin/initdb" ]; then best="$d/bin"; break; fi
    done < <(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -type d 2>/dev/null | sort -rV)
    [ -n "$best" ] ||
        lt_die "no PostgreSQL server binaries under /usr/lib/postgresql: run deploy/install-deps.sh (package postgresql)"
    printf '%s\n' "$best"
}
BINDIR=$(find_bindir)
PG_MAJOR=$(basename "$(dirname "$BINDIR")")

if [ "$(id -u)" = 0 ]; then
    PG_USER=${LT_PG_OS_USER:-postgres}
    id -u "$PG_USER" >/dev/null 2>&1 ||
        lt_die "OS user '$PG_USER' does not exist (the postgresql package creates it): run deploy/install-deps.sh or set LT_PG_OS_USER"
    command -v runuser >/dev/null 2>&1 || lt_die "runuser not found (package util-linux)"
else
    PG_USER=$(id -un)
fi

# as_server CMD... - run CMD as the server's OS user, from a directory it
# can read (initdb and pg_ctl dislike an unreadable working directory).
as_server() {
    if [ "$(id -u)" = 0 ] && [ "$PG_USER" != root ]; then
        (cd "$PGSTATE" 2>/dev/null || cd /; exec runuser -u "$PG_USER" -- "$@")
    else
        (cd "$PGSTATE" 2>/dev/null || cd /; exec "$@")
    fi
}

is_running() {
    [ -f "$PGDATA_DIR/PG_VERSION" ] || return 1
    as_server "$BINDIR/pg_ctl" status -D "$PGDATA_DIR" >/dev/null 2>&1
}

server_pid() {
    as_server head -n 1 "$PGDATA_DIR/postmaster.pid" 2>/dev/null || true
}

accepting() {
    "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$LT_PG_PORT" -U postgres -d postgres \
        -t 2 >/dev/null 2>&1
}

prepare_dirs() {
    lt_state_dir_init
    mkdir -p "$PGSTATE" || lt_die "cannot create $PGSTATE"
    chmod 0755 "$PGSTATE" 2>/dev/null || true
    if [ "$(id -u)" = 0 ] && [ "$PG_USER" != root ]; then
        # The server user must traverse the state dir (umask 077 makes it 0700).
        if ! runuser -u "$PG_USER" -- test -x "$LT_STATE_DIR" &&
            [ "$(stat -c %u "$LT_STATE_DIR")" = 0 ]; then
            lt_log "chmod a+x $LT_STATE_DIR (the $PG_USER OS user must traverse it)"
            chmod a+x "$LT_STATE_DIR" || lt_die "cannot chmod $LT_STATE_DIR"
        fi
        chown "$PG_USER:" "$PGSTATE" || lt_die "cannot chown $PGSTATE to $PG_USER"
        runuser -u "$PG_USER" -- test -w "$PGSTATE" -a -x "$PGSTATE" ||
            lt_die "OS user $PG_USER cannot reach $PGSTATE: a parent directory is not traversable (chmod o+x it, or set LT_STATE_DIR under /tmp)"
    else
        [ -w "$PGSTATE" ] || lt_die "$PGSTATE is not writable by $(id -un) (created by another user? use another LT_STATE_DIR)"
    fi
}

take_lock() {
    exec 9>>"$PGSTATE/.lock" || lt_die "cannot open $PGSTATE/.lock"
    if command -v flock >/dev/null 2>&1; then
        flock -w 120 9 || lt_die "another deploy/postgres.sh holds $PGSTATE/.lock for over 120 s"
    fi
}

init_cluster() {
    if [ -f "$PGDATA_DIR/PG_VERSION" ]; then
        local v
        v=$(<"$PGDATA_DIR/PG_VERSION")
        [ "$v" = "$PG_MAJOR" ] ||
            lt_die "$PGDATA_DIR was created by PostgreSQL $v but the binaries are $PG_MAJOR ($BINDIR): run 'deploy/postgres.sh wipe'"
        return 0
    fi
    if [ -e "$PGDATA_DIR" ]; then
        lt_warn "removing incomplete data directory $PGDATA_DIR (no PG_VERSION)"
        rm -rf "$PGDATA_DIR"
    fi
    local loc=C
    if locale -a 2>/dev/null | grep -qiE '^c\.utf-?8$'; then loc=C.UTF-8; fi
    lt_log "initdb PostgreSQL $PG_MAJOR in $PGDATA_DIR (locale $loc) ..."
    local out
    if ! out=$(as_server "$BINDIR/initdb" -D "$PGDATA_DIR" -A trust -U postgres \
        -E UTF8 --locale="$loc" 2>&1); then
        printf '%s\n' "$out" | tail -n 30 >&2
        lt_die "initdb failed for $PGDATA_DIR"
    fi
    printf '%s\n' "$out" >"$PGSTATE/initdb.log"
    # Settings that may change between runs live in lienthong.conf, which
    # start rewrites every time.
    printf "\n# lienthong: rewritten by deploy/postgres.sh on every start\ninclude 'lienthong.conf'\n" |
        as_server tee -a "$PGDATA_DIR/postgresql.conf" >/dev/null ||
        lt_die "cannot append to $PGDATA_DIR/postgresql.conf"
}

write_conf() {
    {
        echo "# generated by deploy/postgres.sh on every start; edits are lost"
        echo "listen_addresses = '127.0.0.1'"
        echo "port = $LT_PG_PORT"
        echo "unix_socket_directories = '$PGSTATE'"
        echo "max_connections = 200"
        echo "shared_buffers = 256MB"
        echo "fsync = on"
        echo "logging_collector = off"
        echo "log_destination = 'stderr'"
        echo "log_line_prefix = '%m [%p] %q%u@%d '"
        if [ -n "$LT_PG_EXTRA_CONF" ]; then
            echo "# LT_PG_EXTRA_CONF"
            printf '%s\n' "$LT_PG_EXTRA_CONF"
        fi
    } | as_server tee "$PGDATA_DIR/lienthong.conf" >/dev/null ||
        lt_die "cannot write $PGDATA_DIR/lienthong.conf"
}

# --------------------------------------------------------------- commands
do_start() {
    prepare_dirs
    take_lock
    if is_running; then
        local i
        for ((i = 0; i < LT_PG_START_TIMEOUT; i++)); do
            accepting && break
            sleep 1
        done
        accepting || lt_die "postgres is running (pid $(server_pid)) but not accepting connections on 127.0.0.1:$LT_PG_PORT; see $PGLOG"
        lt_log "postgres already running on 127.0.0.1:$LT_PG_PORT"
        return 0
    fi
    init_cluster
    write_conf
    if lt_port_busy "$LT_PG_PORT"; then
        lt_die "port 127.0.0.1:$LT_PG_PORT is already in use by another process; set LT_PG_PORT"
    fi
    lt_log "starting postgres $PG_MAJOR on 127.0.0.1:$LT_PG_PORT ..."
    local start=$SECONDS
    if ! as_server "$BINDIR/pg_ctl" -D "$PGDATA_DIR" -l "$PGLOG" -w \
        -t "$LT_PG_START_TIMEOUT" -s start 9>&-; then
        lt_warn "last lines of $PGLOG:"
        as_server tail -n 30 "$PGLOG" >&2 || true
        lt_die "postgres failed to start (data $PGDATA_DIR, log $PGLOG)"
    fi
    local deadline=$((SECONDS + LT_PG_START_TIMEOUT))
    until accepting; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            as_server tail -n 30 "$PGLOG" >&2 || true
            lt_die "postgres started but 127.0.0.1:$LT_PG_PORT does not accept connections within ${LT_PG_START_TIMEOUT}s"
        fi
        sleep 0.5
    done
    lt_log "postgres ready on 127.0.0.1:$LT_PG_PORT ($((SECONDS - start))s)"
}

do_stop() {
    if [ ! -d "$PGSTATE" ] || ! is_running; then
        lt_log "postgres already stopped"
        return 0
    fi
    take_lock
    lt_log "stopping postgres on 127.0.0.1:$LT_PG_PORT ..."
    if ! as_server "$BINDIR/pg_ctl" -D "$PGDATA_DIR" -m fast -w -t 60 -s stop; then
        lt_warn "fast shutdown failed; trying immediate"
        as_server "$BINDIR/pg_ctl" -D "$PGDATA_DIR" -m immediate -w -t 30 -s stop ||
            lt_die "could not stop postgres (data $PGDATA_DIR); see $PGLOG"
    fi
    lt_log "postgres stopped"
}

do_status() {
    if is_running; then
        printf 'postgres: running (pid %s, 127.0.0.1:%s, PostgreSQL %s, data %s)\n' \
            "$(server_pid)" "$LT_PG_PORT" "$PG_MAJOR" "$PGDATA_DIR"
        return 0
    fi
    printf 'postgres: stopped\n'
    return 3
}

do_createdb() {
    accepting ||
        lt_die "postgres is not accepting connections on 127.0.0.1:$LT_PG_PORT: run deploy/postgres.sh start"
    local name exists
    for name in "$@"; do
        [ -n "$name" ] || lt_die "postgres.sh createdb: empty database name"
        exists=$(lt_psql postgres -At -v name="$name" <<<"SELECT 1 FROM pg_database WHERE datname = :'name'") ||
            lt_die "cannot query databases on 127.0.0.1:$LT_PG_PORT"
        if [ "$exists" = 1 ]; then
            lt_log "database $name already exists"
            continue
        fi
        lt_pg_createdb "$name" || lt_die "CREATE DATABASE $name failed on 127.0.0.1:$LT_PG_PORT"
        lt_log "database $name created"
    done
}

do_wipe() {
    if [ -d "$PGSTATE" ]; then
        do_stop
        rm -rf "$PGSTATE" || lt_die "cannot delete $PGSTATE"
        lt_log "deleted $PGSTATE"
    fi
}

case $cmd in
    start) do_start ;;
    stop) do_stop ;;
    restart) do_stop; do_start ;;
    status) do_status || exit 3 ;;
    createdb) do_createdb "$@" ;;
    wipe) do_wipe ;;
esac
