#!/usr/bin/env bash
# Runs a command against a throwaway Redis: our redis.conf, a free loopback
# port, a temporary directory, gone when the command ends. The URL is passed
# as TEST_REDIS_URL (tests) and REDIS_URL (benchmarks).
#   WITH_REDIS_TOPOLOGIES=yes   also a Redis Cluster (3 masters, 3 replicas) and a
#                               Sentinel group (master, replica, 3 sentinels):
#                               TEST_REDIS_CLUSTER_NODES, TEST_REDIS_SENTINELS, TEST_REDIS_SENTINEL_NAME
set -euo pipefail
cd "$(dirname "$0")/.."

dir=$(mktemp -d)
port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
# appendfsync no: the data is thrown away afterwards; everything else is as in production.
redis-server redis.conf --port "$port" --dir "$dir" --appendfsync no >"$dir/redis.log" 2>&1 &
redis_pid=$!
topology_pid=""
cleanup() {
  # The topologies run in a process group of their own: it goes whole (tsx, node, every redis-server).
  if [ -n "$topology_pid" ]; then kill -TERM -- "-$topology_pid" 2>/dev/null || true; wait "$topology_pid" 2>/dev/null || true; fi
  kill "$redis_pid" 2>/dev/null || true
  wait "$redis_pid" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
for _ in $(seq 1 50); do
  redis-cli -p "$port" ping >/dev/null 2>&1 && break
  sleep 0.1
done
redis-cli -p "$port" ping >/dev/null || { echo "redis-server did not start:" >&2; cat "$dir/redis.log" >&2; exit 1; }

if [ "${WITH_REDIS_TOPOLOGIES:-no}" = yes ]; then
  mkfifo "$dir/topology"
  setsid node_modules/.bin/tsx scripts/redis-topology.ts "$dir/topologies" >"$dir/topology" 2>"$dir/topology.log" &
  topology_pid=$!
  while read -r line; do
    [ "$line" = READY ] && break
    export "${line?}"
  done <"$dir/topology"
  [ -n "${TEST_REDIS_CLUSTER_NODES:-}" ] || { echo "the Redis Cluster and Sentinel group did not start:" >&2; cat "$dir/topology.log" >&2; exit 1; }
fi

TEST_REDIS_URL="redis://127.0.0.1:$port" REDIS_URL="redis://127.0.0.1:$port" "$@"
