#!/usr/bin/env bash
# Installs what a fresh machine lacks, once: Node packages (npm ci) and, when
# this machine must run its own Redis, redis-server (apt-get). Then compiles
# the TypeScript. Run by `npm start` and `npm test`; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: installing Node packages (npm ci)"
  npm ci --no-audit --no-fund
fi

need_redis=${NEED_REDIS_SERVER:-auto}
if [ "$need_redis" = auto ]; then
  if [ -n "${REDIS_URL:-}" ]; then need_redis=no; else need_redis=yes; fi
fi
if [ "$need_redis" = yes ] && ! command -v redis-server >/dev/null 2>&1; then
  echo "setup: installing redis-server (apt-get)"
  sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "setup: redis-server is missing; install it (apt-get install redis-server) or set REDIS_URL" >&2; exit 1; }
    sudo=sudo
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server >/dev/null
fi

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  npx tsc -p tsconfig.build.json
fi
