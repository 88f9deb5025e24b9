#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for scripts (the tests have their own, in
# src/history/postgres/test_cluster.rs): `bench/pg-cluster.sh start DIR`
# runs initdb into DIR (as the `postgres` user, or `nobody`, when run as
# root: PostgreSQL refuses root), starts the server on a free loopback port
# with its socket in DIR, and prints the URL of database `postgres`;
# `bench/pg-cluster.sh stop DIR` stops it and removes DIR.
set -euo pipefail
cmd=${1:?start or stop}; dir=${2:?directory}
bindir=${PG_BINDIR:-$(pg_config --bindir 2>/dev/null || ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
as=()
if [ "$(id -u)" = 0 ]; then
  if id postgres >/dev/null 2>&1; then user=postgres; else user=nobody; fi
  as=(runuser -u "$user" --)
fi
case $cmd in
start)
  mkdir -p "$dir"
  [ ${#as[@]} -eq 0 ] || chown "$user" "$dir"
  "${as[@]}" "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale C --no-sync >/dev/null
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  "${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 ${PG_OPTIONS:-}" start >/dev/null
  echo "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
  ;;
stop)
  "${as[@]}" "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
  ;;
esac
