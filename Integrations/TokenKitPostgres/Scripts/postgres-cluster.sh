#!/usr/bin/env bash
# A throwaway PostgreSQL server for TokenKitPostgres's tests, benchmarks and demos: on loopback,
# trust authentication on loopback only, owned by an unprivileged user, in a folder of its own.
#
#   Scripts/postgres-cluster.sh run COMMAND...   starts a cluster in a temporary folder, runs
#                                                COMMAND with TOKENKIT_POSTGRES_URL set, then stops
#                                                and removes the cluster, whatever happens.
#   Scripts/postgres-cluster.sh create DIR       makes a cluster in DIR on a free loopback port
#   Scripts/postgres-cluster.sh start DIR        starts it (waits until it accepts connections)
#   Scripts/postgres-cluster.sh stop DIR         stops it (fast shutdown: open connections end)
#   Scripts/postgres-cluster.sh url DIR          prints its postgres:// URL
#   Scripts/postgres-cluster.sh destroy DIR      stops it if it runs and removes DIR
#
# Installs Debian's postgresql package first when no initdb is found. The tests use `create`,
# `start` and `stop` (found through TOKENKIT_POSTGRES_CLUSTER) to restart and stop a server of
# their own without disturbing the shared one.
set -euo pipefail

script=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")

find_bin() {
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$dir/initdb" ]; then echo "$dir"; return 0; fi
    done
    if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return 0; fi
    return 1
}

install_postgres() {
    find_bin >/dev/null && return 0
    echo "postgres-cluster: installing PostgreSQL from Debian's packages" >&2
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends postgresql >&2
    # Debian's package starts a cluster of its own; ours is separate, so stop that one.
    "${sudo[@]}" service postgresql stop >/dev/null 2>&1 || true
    find_bin >/dev/null
}

# PostgreSQL refuses to run as root: as root, run it as `nobody`, from `/` (its tools change back
# into the starting folder, which `nobody` may not be allowed to enter).
as_owner() {
    if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u nobody -- "$@"); else "$@"; fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

create() {
    local dir=$1 bin port
    install_postgres
    bin=$(find_bin)
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown nobody "$dir"
    chmod 700 "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --no-instructions -E UTF8 --no-locale \
        >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; return 1; }
    port=$(free_port)
    cat >>"$dir/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
max_connections = 200
CONF
    # Trust on loopback only; nothing else may connect.
    cat >"$dir/data/pg_hba.conf" <<HBA
local all all trust
host  all all 127.0.0.1/32 trust
HBA
    echo "$port" >"$dir/port"
    echo "$bin" >"$dir/bin"
}

start() {
    local dir=$1
    as_owner "$(cat "$dir/bin")/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null \
        || { tail -20 "$dir/server.log" >&2; return 1; }
}

stop() {
    local dir=$1
    [ -f "$dir/data/postmaster.pid" ] || return 0
    as_owner "$(cat "$dir/bin")/pg_ctl" -D "$dir/data" -m fast -w -t 60 stop >/dev/null
}

url() {
    echo "postgres://postgres@127.0.0.1:$(cat "$1/port")/postgres"
}

destroy() {
    local dir=$1 pid
    [ -d "$dir" ] || return 0
    if ! stop "$dir" 2>/dev/null && [ -f "$dir/data/postmaster.pid" ]; then
        # pg_ctl could not stop it: end the server itself rather than leave it running.
        pid=$(head -1 "$dir/data/postmaster.pid")
        kill -QUIT "$pid" 2>/dev/null || true
    fi
    rm -rf "$dir"
}

run() {
    local status
    # Global, for the exit trap.
    run_dir=$(mktemp -d "${TMPDIR:-/tmp}/tokenkit-postgres.XXXXXX")
    local dir=$run_dir
    chmod 755 "$dir"
    trap 'destroy "$run_dir/cluster"; rm -rf "$run_dir"' EXIT
    create "$dir/cluster"
    start "$dir/cluster"
    export TOKENKIT_POSTGRES_URL
    TOKENKIT_POSTGRES_URL=$(url "$dir/cluster")
    export TOKENKIT_POSTGRES_CLUSTER=$script
    echo "postgres-cluster: PostgreSQL on $TOKENKIT_POSTGRES_URL" >&2
    # The command runs in the background so that a signal to this script is handled at once: it is
    # passed on, and the exit trap stops the server (which pg_ctl started in a session of its own).
    "$@" &
    child=$!
    trap 'kill -TERM "$child" 2>/dev/null; wait "$child"; exit 143' TERM
    trap 'kill -INT "$child" 2>/dev/null; wait "$child"; exit 130' INT
    status=0
    wait "$child" || status=$?
    return $status
}

command=${1:-}
shift || true
case "$command" in
    run) [ $# -gt 0 ] || { echo "usage: $0 run COMMAND..." >&2; exit 2; }; run "$@" ;;
    create | start | stop | url | destroy)
        [ $# -eq 1 ] || { echo "usage: $0 $command DIR" >&2; exit 2; }
        "$command" "$(realpath -m -- "$1")" ;;
    install) install_postgres ;;
    *) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac
