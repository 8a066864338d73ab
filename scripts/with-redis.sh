#!/usr/bin/env bash
# Runs a command against a throwaway Redis: our redis.conf, a free loopback
# port, a temporary directory, gone when the command ends. The URL is passed
# as TEST_REDIS_URL (tests) and REDIS_URL (benchmarks).
set -euo pipefail
cd "$(dirname "$0")/.."

dir=$(mktemp -d)
port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
# appendfsync no: the data is thrown away afterwards; everything else is as in production.
redis-server redis.conf --port "$port" --dir "$dir" --appendfsync no >"$dir/redis.log" 2>&1 &
redis_pid=$!
trap 'kill "$redis_pid" 2>/dev/null; wait "$redis_pid" 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 50); do
  redis-cli -p "$port" ping >/dev/null 2>&1 && break
  sleep 0.1
done
redis-cli -p "$port" ping >/dev/null || { echo "redis-server did not start:" >&2; cat "$dir/redis.log" >&2; exit 1; }

TEST_REDIS_URL="redis://127.0.0.1:$port" REDIS_URL="redis://127.0.0.1:$port" "$@"
