#!/usr/bin/env bash
# The whole test suite (`npm test`): installs what is missing, type-checks,
# starts one Redis for the run (with the production redis.conf, on a free
# port, in a temporary directory) and runs tap against it. Every test uses
# its own key prefix in that Redis.
set -euo pipefail
cd "$(dirname "$0")/.."

NEED_REDIS_SERVER=yes SKIP_BUILD=1 bash scripts/setup.sh
npx tsc --noEmit -p tsconfig.json

dir=$(mktemp -d)
port=$(node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})")
redis-server redis.conf --port "$port" --dir "$dir" --appendfsync no >"$dir/redis.log" 2>&1 &
redis_pid=$!
trap 'kill "$redis_pid" 2>/dev/null; wait "$redis_pid" 2>/dev/null; rm -rf "$dir"' EXIT
for _ in $(seq 1 50); do
  redis-cli -p "$port" ping >/dev/null 2>&1 && break
  sleep 0.1
done
redis-cli -p "$port" ping >/dev/null || { echo "test: redis-server did not start" >&2; cat "$dir/redis.log" >&2; exit 1; }

TEST_REDIS_URL="redis://127.0.0.1:$port" npx tap "$@"
