#!/usr/bin/env bash
# Private PostgreSQL and Redis instances for tests, benchmarks and CI.
#
#   scripts/services.sh start DIR   start both on free loopback ports, wait until they answer, write DIR/env
#   scripts/services.sh stop DIR    stop exactly the two instances started into DIR (a no-op when stopped)
#
# Everything lives in DIR: the cluster in DIR/pg, the PostgreSQL unix socket in DIR, logs in DIR/pg.log and
# DIR/redis.log, the Redis pid in DIR/redis.pid. DIR/env holds HORDEKIT_TEST_DATABASE_URL and
# HORDEKIT_TEST_REDIS_URL in KEY=value form (`set -a; . DIR/env; set +a`). No system service is touched: no
# systemctl, no shared data directory, no fixed port. A second start into the same DIR reuses its cluster.
# As root, PostgreSQL runs as the `postgres` user (initdb and pg_ctl refuse root) and DIR is chowned to it.
# Exit status: 0 ok, 1 failure, 2 usage, 3 PostgreSQL or Redis is not installed.
set -euo pipefail

PG_USER=hordekit

die() {
  echo "services.sh: $*" >&2
  exit 1
}

usage() {
  echo "usage: $0 start|stop DIR" >&2
  exit 2
}

# The highest /usr/lib/postgresql/<version>/bin (Debian), else wherever pg_ctl is on PATH.
find_pg_bin() {
  local dir best=''
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] || continue
    best=$(printf '%s\n%s\n' "$best" "$dir" | sed '/^$/d' | sort -V | tail -n 1)
  done
  if [ -z "$best" ] && command -v pg_ctl >/dev/null && command -v initdb >/dev/null; then
    best=$(dirname "$(command -v pg_ctl)")
  fi
  printf '%s' "$best"
}

# Runs a command as the owner of the PostgreSQL files: the postgres user when we are root, else ourselves.
# From inside DIR, so that postgres never starts in a directory it cannot read (such as /root).
as_pg() {
  if [ "$(id -u)" -ne 0 ]; then
    (cd "$DIR" && "$@")
  elif command -v runuser >/dev/null; then
    (cd "$DIR" && runuser -u postgres -- "$@")
  else
    (cd "$DIR" && su postgres -s /bin/bash -c "$(printf '%q ' "$@")")
  fi
}

# Whether nothing listens on 127.0.0.1:$1, by binding it (node or python3; else by trying to connect).
port_free() {
  if command -v node >/dev/null; then
    node -e 'const s = require("net").createServer(); s.once("error", () => process.exit(1));
      s.listen(Number(process.argv[1]), "127.0.0.1", () => s.close(() => process.exit(0)));' "$1" 2>/dev/null
  elif command -v python3 >/dev/null; then
    python3 -c 'import socket, sys; socket.socket().bind(("127.0.0.1", int(sys.argv[1])))' "$1" 2>/dev/null
  else
    ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}

# A free loopback port: candidates from a random base in 20000-59999, skipping $1 (already taken by us).
free_port() {
  local base=$((20000 + (RANDOM * 32768 + RANDOM) % 40000)) i port
  for i in $(seq 0 199); do
    port=$((20000 + (base - 20000 + i * 7) % 40000))
    [ "$port" != "${1:-}" ] || continue
    if port_free "$port"; then
      echo "$port"
      return 0
    fi
  done
  return 1
}

# Alive and not a zombie: a daemon whose parent died is reparented to an init that may never reap it.
alive() {
  local state
  kill -0 "$1" 2>/dev/null || return 1
  state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 0
  [ "$state" != Z ]
}

redis_pid() {
  local pid
  [ -s "$DIR/redis.pid" ] || return 1
  pid=$(tr -dc 0-9 <"$DIR/redis.pid")
  [ -n "$pid" ] && alive "$pid" || return 1
  # Never signal an unrelated process that reused a stale pid.
  if [ -r "/proc/$pid/cmdline" ] && ! tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q redis; then
    return 1
  fi
  echo "$pid"
}

redis_ping() {
  if command -v redis-cli >/dev/null; then
    [ "$(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null)" = PONG ]
  else
    local reply
    exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
    printf 'PING\r\n' >&3
    IFS= read -r -t 2 reply <&3 || true
    exec 3<&-
    [ "${reply%$'\r'}" = +PONG ]
  fi
}

pg_running() {
  [ -f "$DIR/pg/postmaster.pid" ] && as_pg "$PG_BIN/pg_ctl" -D "$DIR/pg" status >/dev/null 2>&1
}

stop_pg() {
  if [ ! -f "$DIR/pg/PG_VERSION" ]; then
    echo "== postgres: no cluster in $DIR/pg"
  elif ! pg_running; then
    echo "== postgres: not running"
  else
    as_pg "$PG_BIN/pg_ctl" -D "$DIR/pg" -m fast -w -t 60 stop >/dev/null ||
      die "pg_ctl could not stop the PostgreSQL in $DIR/pg (see $DIR/pg.log)"
    echo "== postgres: stopped"
  fi
}

stop_redis() {
  local pid i
  if ! pid=$(redis_pid); then
    rm -f "$DIR/redis.pid"
    echo "== redis: not running"
    return 0
  fi
  kill "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do
    alive "$pid" || break
    sleep 0.1
  done
  if alive "$pid"; then
    echo "services.sh: redis (pid $pid) ignored SIGTERM for 10 s; sending SIGKILL" >&2
    kill -9 "$pid" 2>/dev/null || true
    sleep 0.2
  fi
  rm -f "$DIR/redis.pid"
  echo "== redis: stopped"
}

start_pg() {
  local attempt
  if [ ! -f "$DIR/pg/PG_VERSION" ]; then
    [ ! -e "$DIR/pg" ] || die "$DIR/pg exists but is not a PostgreSQL cluster; remove it or use another DIR"
    as_pg "$PG_BIN/initdb" -D "$DIR/pg" -U "$PG_USER" --auth=trust -E UTF8 --locale=C >"$DIR/initdb.log" 2>&1 ||
      {
        cat "$DIR/initdb.log" >&2
        die "initdb failed (log above, also in $DIR/initdb.log)"
      }
  fi
  for attempt in 1 2 3 4 5; do
    PG_PORT=$(free_port "${REDIS_PORT:-}") || die 'no free loopback port found for PostgreSQL'
    # pg_ctl hands -o to a shell: DIR is single-quoted there (start rejects a DIR containing a quote).
    if as_pg "$PG_BIN/pg_ctl" -D "$DIR/pg" -l "$DIR/pg.log" -w -t 60 start \
      -o "-p $PG_PORT -k '$DIR' -c listen_addresses=127.0.0.1 -c fsync=on -c max_connections=300 -c shared_buffers=128MB" \
      </dev/null >/dev/null; then
      return 0
    fi
    # Lost a race for the port to another program: pick another. Any other failure is final.
    tail -n 5 "$DIR/pg.log" 2>/dev/null | grep -q 'could not bind\|Address already in use' || break
    echo "== postgres: port $PG_PORT was taken meanwhile (attempt $attempt), retrying"
  done
  tail -n 20 "$DIR/pg.log" >&2 2>/dev/null || true
  die "PostgreSQL did not start (log above, in full in $DIR/pg.log)"
}

start_redis() {
  local attempt i
  for attempt in 1 2 3 4 5; do
    REDIS_PORT=$(free_port "$PG_PORT") || die 'no free loopback port found for Redis'
    rm -f "$DIR/redis.pid"
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
      --dir "$DIR" --pidfile "$DIR/redis.pid" --logfile "$DIR/redis.log" </dev/null >/dev/null ||
      die "redis-server failed to launch (see $DIR/redis.log)"
    for i in $(seq 1 100); do
      redis_ping "$REDIS_PORT" && return 0
      # Exited (a port race, most likely) before it wrote its pid or while we waited.
      if [ "$i" -gt 10 ] && ! redis_pid >/dev/null; then break; fi
      sleep 0.1
    done
    stop_redis >/dev/null
    tail -n 5 "$DIR/redis.log" 2>/dev/null | grep -q 'Address already in use' || break
    echo "== redis: port $REDIS_PORT was taken meanwhile (attempt $attempt), retrying"
  done
  tail -n 20 "$DIR/redis.log" >&2 2>/dev/null || true
  die "Redis did not answer PING on 127.0.0.1:$REDIS_PORT (log above, in full in $DIR/redis.log)"
}

start() {
  case "$DIR" in
  *"'"* | *[[:space:]]*) die "DIR must not contain quotes or whitespace: $DIR" ;;
  esac
  [ -n "$PG_BIN" ] || {
    echo 'services.sh: PostgreSQL is not installed (no /usr/lib/postgresql/*/bin, no pg_ctl on PATH): apt-get install postgresql' >&2
    exit 3
  }
  command -v redis-server >/dev/null || {
    echo 'services.sh: redis-server is not installed: apt-get install redis-server' >&2
    exit 3
  }
  mkdir -p "$DIR"
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "running as root needs a 'postgres' user to run PostgreSQL (the Debian package creates it)"
    chown postgres "$DIR"
    [ ! -d "$DIR/pg" ] || chown -R postgres "$DIR/pg"
    as_pg test -w "$DIR" -a -x "$DIR" ||
      die "the postgres user cannot write $DIR (is a parent directory private to root?); use a DIR under /tmp, e.g. \$(mktemp -d)"
  fi
  if pg_running || redis_pid >/dev/null; then
    die "services are already running in $DIR; run '$0 stop $DIR' first"
  fi
  rm -f "$DIR/env"

  start_pg
  # Never leave PostgreSQL behind when Redis fails.
  trap 'stop_pg >/dev/null 2>&1 || true' EXIT
  start_redis
  if [ -x "$PG_BIN/pg_isready" ]; then
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d postgres -t 30 ||
      die "PostgreSQL started but does not answer on 127.0.0.1:$PG_PORT (see $DIR/pg.log)"
  fi
  trap - EXIT

  cat >"$DIR/env" <<EOF
HORDEKIT_TEST_DATABASE_URL=postgres://$PG_USER@127.0.0.1:$PG_PORT/postgres
HORDEKIT_TEST_REDIS_URL=redis://127.0.0.1:$REDIS_PORT
EOF
  echo "== postgres: 127.0.0.1:$PG_PORT ($PG_BIN, data $DIR/pg)"
  echo "== redis: 127.0.0.1:$REDIS_PORT (pid $(cat "$DIR/redis.pid"))"
}

stop() {
  [ -d "$DIR" ] || {
    echo "== nothing to stop: $DIR does not exist"
    return 0
  }
  # Stop both even if one fails; report the failure after.
  local status=0
  stop_redis || status=1
  if [ -f "$DIR/pg/PG_VERSION" ] && [ -z "$PG_BIN" ]; then
    die "cannot stop the PostgreSQL in $DIR/pg: pg_ctl not found"
  fi
  (stop_pg) || status=1
  rm -f "$DIR/env"
  return "$status"
}

[ $# -eq 2 ] || usage
[ -n "$2" ] || usage
DIR=$(realpath -m -- "$2")
PG_BIN=$(find_pg_bin)
PG_PORT=''
REDIS_PORT=''
case "$1" in
start) start ;;
stop) stop ;;
*) usage ;;
esac
