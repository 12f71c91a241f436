#!/usr/bin/env bash
# Make sure the servers the test suite talks to answer on loopback: PostgreSQL, Redis, and a private
# PgBouncer in transaction pooling mode (the way production reaches PostgreSQL). Idempotent: what
# already answers is reused, what does not is started, what is not installed is installed with
# apt-get. Writes the DSNs the tests read to $ALPHADESK_SERVICES_ENV (default
# /tmp/alphadesk-services.env) and prints them, so `. that-file` or `eval "$(scripts/services.sh)"`
# both work.
#
# PostgreSQL and PgBouncer refuse to run as root, so as root they are started as the `postgres` user.
# Only processes this script started (found through its own pidfile) are ever stopped by it.
set -euo pipefail

HOST=127.0.0.1
PG_PORT=${ALPHADESK_PG_PORT:-5432}
REDIS_PORT=${ALPHADESK_REDIS_PORT:-6379}
BOUNCER_PORT_WANTED=${ALPHADESK_PGBOUNCER_PORT:-6432}
BOUNCER_DIR=${ALPHADESK_PGBOUNCER_DIR:-/tmp/alphadesk-pgbouncer}
REDIS_DIR=${ALPHADESK_REDIS_DIR:-/tmp/alphadesk-redis}
PG_FALLBACK_DATA=${ALPHADESK_PG_DATA:-/tmp/alphadesk-pgdata}
ENV_FILE=${ALPHADESK_SERVICES_ENV:-/tmp/alphadesk-services.env}
LOCK_FILE=${ENV_FILE}.lock

# Status lines go to stderr so that stdout carries only the `export` lines (eval-able).
say() { printf '%s\n' "$*" >&2; }
die() { printf 'services: ERROR: %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" = 0 ]; }

# Run a server binary as the postgres OS user when we are root (both PostgreSQL and PgBouncer refuse root).
as_postgres() {
    if is_root; then runuser -u postgres -- "$@"; else "$@"; fi
}

# Something listens on 127.0.0.1:$1.
port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null; }

# Wait up to $2 seconds for command "${@:3}" to succeed.
wait_for() {
    local what=$1 secs=$2; shift 2
    local i
    for ((i = 0; i < secs * 4; i++)); do
        if "$@"; then return 0; fi
        sleep 0.25
    done
    die "$what did not answer within ${secs}s"
}

apt_install() {
    is_root || die "'$*' is missing and only root can apt-get install it; install it and rerun"
    say "services: installing $* with apt-get (missing on this machine)"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y -q "$@" >&2; then
        apt-get update -q >&2 || true
        apt-get install -y -q "$@" >&2 || die "apt-get could not install $*"
    fi
}

# A real query as postgres over TCP, through whichever port is given (PostgreSQL or PgBouncer).
sql_ok() {
    PGCONNECT_TIMEOUT=3 psql -X -w -q -A -t -h "$HOST" -p "$1" -U postgres -d postgres \
        -c 'select 1' >/dev/null 2>&1
}

# ------------------------------------------------------------------------------------------------
# PostgreSQL

pg_bindir() {
    local d
    d=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)
    [ -n "$d" ] && [ -x "$d/pg_ctl" ] && printf '%s\n' "$d"
}

# Debian cluster ("VERSION NAME") configured for $PG_PORT, if any.
pg_cluster() {
    command -v pg_lsclusters >/dev/null 2>&1 || return 0
    pg_lsclusters -h 2>/dev/null | awk -v p="$PG_PORT" '$3 == p { print $1, $2; exit }'
}

# Debian's default pg_hba asks loopback clients for a password; the tests connect as postgres
# without one, as on the dev machines. Only called as root, after a trust-less login failed.
pg_trust_loopback() {
    local cluster=$1 hba
    # shellcheck disable=SC2086
    hba=/etc/postgresql/${cluster% *}/${cluster#* }/pg_hba.conf
    [ -f "$hba" ] || return 1
    say "services: PostgreSQL refused postgres@$HOST without a password; adding a trust line for 127.0.0.1 to $hba"
    sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
    # shellcheck disable=SC2086
    pg_ctlcluster --skip-systemctl-redirect $cluster reload >&2 9>&-
}

ensure_postgres() {
    local state cluster bindir
    command -v psql >/dev/null 2>&1 || apt_install postgresql-client
    if port_open "$PG_PORT"; then
        state="already running"
    else
        if [ -z "$(pg_bindir)" ]; then apt_install postgresql; fi
        bindir=$(pg_bindir) || die "PostgreSQL server binaries (pg_ctl) not found after installing postgresql"
        cluster=$(pg_cluster)
        if [ -n "$cluster" ]; then
            say "services: starting PostgreSQL cluster '$cluster' (pg_ctlcluster)"
            # pg_ctlcluster drops to the cluster owner itself when run as root.
            # shellcheck disable=SC2086
            pg_ctlcluster --skip-systemctl-redirect $cluster start >&2 9>&- \
                || die "pg_ctlcluster $cluster start failed (see its log under /var/log/postgresql)"
        else
            say "services: no PostgreSQL cluster on port $PG_PORT; initdb into $PG_FALLBACK_DATA"
            mkdir -p "$PG_FALLBACK_DATA"
            if is_root; then chown postgres:postgres "$PG_FALLBACK_DATA"; fi
            chmod 700 "$PG_FALLBACK_DATA"
            if [ ! -f "$PG_FALLBACK_DATA/PG_VERSION" ]; then
                as_postgres "$bindir/initdb" -D "$PG_FALLBACK_DATA" -U postgres --auth=trust \
                    >"$PG_FALLBACK_DATA.initdb.log" 2>&1 9>&- \
                    || die "initdb into $PG_FALLBACK_DATA failed (see $PG_FALLBACK_DATA.initdb.log)"
            fi
            as_postgres "$bindir/pg_ctl" -D "$PG_FALLBACK_DATA" -l "$PG_FALLBACK_DATA/server.log" -w -t 60 \
                -o "-p $PG_PORT -c listen_addresses=$HOST -k $PG_FALLBACK_DATA" start >&2 9>&- \
                || die "pg_ctl start failed (see $PG_FALLBACK_DATA/server.log)"
        fi
        wait_for "PostgreSQL on $HOST:$PG_PORT" 60 port_open "$PG_PORT"
        state="started"
    fi
    if ! sql_ok "$PG_PORT"; then
        sleep 1  # a server that just opened its port may still be starting up
        if ! sql_ok "$PG_PORT"; then
            cluster=$(pg_cluster)
            if is_root && [ -n "$cluster" ] && pg_trust_loopback "$cluster" && sleep 1 && sql_ok "$PG_PORT"; then
                :
            else
                die "PostgreSQL answers on $HOST:$PG_PORT but 'psql -h $HOST -p $PG_PORT -U postgres -d postgres' fails; it must trust postgres on 127.0.0.1"
            fi
        fi
    fi
    say "postgres: up at $HOST:$PG_PORT ($state)"
}

# ------------------------------------------------------------------------------------------------
# Redis

redis_ok() {
    if command -v redis-cli >/dev/null 2>&1; then
        [ "$(timeout 3 redis-cli -h "$HOST" -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]
    else
        port_open "$REDIS_PORT"
    fi
}

ensure_redis() {
    local state
    if redis_ok; then
        state="already running"
    else
        command -v redis-server >/dev/null 2>&1 || apt_install redis-server
        mkdir -p "$REDIS_DIR"
        say "services: starting redis-server on $HOST:$REDIS_PORT (dir $REDIS_DIR)"
        redis-server --daemonize yes --bind "$HOST" --port "$REDIS_PORT" --save "" --appendonly no \
            --dir "$REDIS_DIR" --logfile "$REDIS_DIR/redis.log" --pidfile "$REDIS_DIR/redis.pid" >&2 9>&- \
            || die "redis-server failed to start (see $REDIS_DIR/redis.log)"
        wait_for "Redis on $HOST:$REDIS_PORT" 30 redis_ok
        state="started"
    fi
    say "redis: up at $HOST:$REDIS_PORT ($state)"
}

# ------------------------------------------------------------------------------------------------
# PgBouncer (a private instance: its own config, log, pid and port; never the system's one)

bouncer_config() {
    cat <<EOF
;; Written by scripts/services.sh for the AlphaDesk tests; regenerated on every run.
[databases]
;; Wildcard: the per-run and per-test databases the tests create are reachable without listing them.
* = host=$HOST port=$PG_PORT

[pgbouncer]
listen_addr = $HOST
listen_port = $1
;; No Unix socket: the system pgbouncer may own /var/run/postgresql/.s.PGSQL.6432.
unix_socket_dir =
auth_type = trust
auth_file = $BOUNCER_DIR/userlist.txt
admin_users = postgres
stats_users = postgres
pool_mode = transaction
default_pool_size = 20
max_client_conn = 500
;; asyncpg sends these at startup; PgBouncer 1.18 refuses unknown ones.
ignore_startup_parameters = extra_float_digits,search_path,options
;; A refused server login (PostgreSQL busy or restarting) is retried after 1 s, not 15 s.
server_login_retry = 1
;; Test databases come and go: forget their pools and idle server connections soon.
autodb_idle_timeout = 60
server_idle_timeout = 60
logfile = $BOUNCER_DIR/pgbouncer.log
pidfile = $BOUNCER_DIR/pgbouncer.pid
EOF
}

# The pid of the pgbouncer this script started earlier, if it still runs.
bouncer_pid() {
    local pid
    [ -f "$BOUNCER_DIR/pgbouncer.pid" ] || return 0
    pid=$(cat "$BOUNCER_DIR/pgbouncer.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = pgbouncer ]; then
        printf '%s\n' "$pid"
    fi
}

pick_bouncer_port() {
    local p
    for ((p = BOUNCER_PORT_WANTED; p < BOUNCER_PORT_WANTED + 50; p++)); do
        if ! port_open "$p"; then printf '%s\n' "$p"; return 0; fi
        say "services: port $p is taken by another program; trying the next one for PgBouncer"
    done
    die "no free port for PgBouncer in $BOUNCER_PORT_WANTED..$((BOUNCER_PORT_WANTED + 49))"
}

ensure_pgbouncer() {
    local cfg=$BOUNCER_DIR/pgbouncer.ini pid port state
    command -v pgbouncer >/dev/null 2>&1 || apt_install pgbouncer
    command -v pgbouncer >/dev/null 2>&1 || die "pgbouncer is still missing after apt-get install pgbouncer"
    mkdir -p "$BOUNCER_DIR"
    if is_root; then chown postgres:postgres "$BOUNCER_DIR"; fi
    pid=$(bouncer_pid)
    port=$(sed -n 's/^listen_port = //p' "$cfg" 2>/dev/null || true)
    if [ -n "$pid" ] && [ -n "$port" ] && bouncer_config "$port" | cmp -s - "$cfg" && sql_ok "$port"; then
        state="already running, pid $pid"
    else
        if [ -n "$pid" ]; then
            say "services: stopping our earlier pgbouncer (pid $pid): its config differs or it does not answer"
            kill "$pid" 2>/dev/null || true
            wait_for "the old pgbouncer (pid $pid) to exit" 15 bash -c "! kill -0 $pid 2>/dev/null"
        fi
        port=$(pick_bouncer_port)
        bouncer_config "$port" >"$cfg"
        printf '"postgres" ""\n' >"$BOUNCER_DIR/userlist.txt"
        chmod 644 "$cfg" "$BOUNCER_DIR/userlist.txt"
        rm -f "$BOUNCER_DIR/pgbouncer.pid"
        as_postgres pgbouncer -d "$cfg" >&2 9>&- \
            || die "pgbouncer failed to start (see $BOUNCER_DIR/pgbouncer.log)"
        wait_for "PgBouncer on $HOST:$port" 30 sql_ok "$port"
        state="started, pid $(bouncer_pid)"
    fi
    BOUNCER_PORT=$port
    say "pgbouncer: up at $HOST:$port ($state; pool_mode=transaction; config $cfg)"
}

# ------------------------------------------------------------------------------------------------

main() {
    # Serialise concurrent runs (several engineers share a machine) so two never start the same server.
    exec 9>"$LOCK_FILE"
    flock -w 120 9 || die "another scripts/services.sh holds $LOCK_FILE"

    ensure_postgres
    ensure_redis
    ensure_pgbouncer

    local tmp
    tmp=$(mktemp "$ENV_FILE.XXXXXX")
    cat >"$tmp" <<EOF
export ALPHADESK_TEST_PG_DSN=postgresql://postgres@$HOST:$PG_PORT/postgres
export ALPHADESK_TEST_PGBOUNCER_DSN=postgresql://postgres@$HOST:$BOUNCER_PORT/postgres
export ALPHADESK_TEST_REDIS_URL=redis://$HOST:$REDIS_PORT/0
EOF
    chmod 644 "$tmp"
    mv -f "$tmp" "$ENV_FILE"
    say "services: environment written to $ENV_FILE"
    cat "$ENV_FILE"
}

main "$@"
