#!/usr/bin/env bash
# Starts or stops the throwaway MariaDB server the tests use: mariadbd on
# 127.0.0.1 and a free port, with a temporary datadir, no systemd.
#   scripts/mariadb-test-server.sh start DIR   # prints the server's URI
#   scripts/mariadb-test-server.sh stop DIR
# The URI (mysql://root@127.0.0.1:PORT/) names no database: each test
# creates and drops its own. DIR is created by start and removed by stop.
set -euo pipefail

cmd=${1:?usage: mariadb-test-server.sh start|stop DIR}
dir=${2:?usage: mariadb-test-server.sh start|stop DIR}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

case "$cmd" in
  start)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    # Temporary files in the server's own directory, not a /tmp shared with
    # other servers the tests start.
    mkdir -p "$dir/tmp"
    user_args=()
    if [ "$(id -u)" -eq 0 ]; then user_args=(--user=root); fi
    mariadb-install-db --no-defaults "${user_args[@]}" --datadir="$dir/data" \
      --tmpdir="$dir/tmp" \
      --auth-root-authentication-method=normal --skip-test-db \
      --skip-name-resolve >"$dir/install.log" 2>&1 || {
        cat "$dir/install.log" >&2; exit 1; }
    port=$(free_port)
    # Durable like production (flush the log at every commit); a small
    # buffer pool because the tests' databases are small.
    mariadbd --no-defaults "${user_args[@]}" --datadir="$dir/data" \
      --tmpdir="$dir/tmp" \
      --socket="$dir/mysqld.sock" --pid-file="$dir/mysqld.pid" \
      --port="$port" --bind-address=127.0.0.1 --skip-name-resolve \
      --innodb-buffer-pool-size=256M --innodb-log-file-size=256M \
      --innodb-flush-log-at-trx-commit=1 --max-connections=500 \
      --character-set-server=utf8mb4 --collation-server=utf8mb4_bin \
      --log-error="$dir/error.log" >/dev/null 2>&1 &
    echo $! >"$dir/mariadbd.pid"
    # Bounded wait for the server to answer (about 0.2 s normally).
    for _ in $(seq 1 300); do
      if mariadb-admin --no-defaults --socket="$dir/mysqld.sock" -uroot ping \
          >/dev/null 2>&1; then
        echo "mysql://root@127.0.0.1:$port/"
        exit 0
      fi
      if ! kill -0 "$(cat "$dir/mariadbd.pid")" 2>/dev/null; then break; fi
      sleep 0.1
    done
    echo "mariadbd did not start; its log:" >&2
    cat "$dir/error.log" >&2 || true
    exit 1
    ;;
  stop)
    if [ -f "$dir/mariadbd.pid" ]; then
      pid=$(cat "$dir/mariadbd.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 300); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -rf "$dir"
    ;;
  *)
    echo "usage: mariadb-test-server.sh start|stop DIR" >&2
    exit 2
    ;;
esac
