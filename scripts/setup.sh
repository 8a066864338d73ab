#!/usr/bin/env bash
# Installs what a fresh machine lacks, once: Node packages and the
# Debian packages this run needs (redis-server when no REDIS_URL is given or
# tests will run; curl for the tests that replay the origin curl examples;
# chromium for the admin page's browser test; tmux for the terminal tests).
# Then compiles the TypeScript. Run by `npm start` and `npm test`; safe to rerun.
#   NEED_REDIS_SERVER=yes|no|auto   (auto: yes unless REDIS_URL is set)
#   NEED_CURL=yes|no                (default no)
#   NEED_CHROMIUM=yes|no            (default no; the test drives /usr/bin/chromium)
#   NEED_TMUX=yes|no                (default no; tests read the screen of a real terminal)
#   SKIP_BUILD=1                    (tests run the TypeScript directly)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  # `npm install`, not `npm ci`: the lock pins every version either way, but `npm ci` refuses a lock
  # that lacks other platforms' optional binaries (msgpackr-extract's), which our registry does not serve.
  echo "setup: installing Node packages (npm install, versions from package-lock.json)"
  npm install --no-audit --no-fund
fi

missing=()
need_redis=${NEED_REDIS_SERVER:-auto}
if [ "$need_redis" = auto ]; then
  if [ -n "${REDIS_URL:-}" ]; then need_redis=no; else need_redis=yes; fi
fi
if [ "$need_redis" = yes ] && ! command -v redis-server >/dev/null 2>&1; then missing+=(redis-server); fi
if [ "${NEED_CURL:-no}" = yes ] && ! command -v curl >/dev/null 2>&1; then missing+=(curl); fi
if [ "${NEED_CHROMIUM:-no}" = yes ] && [ ! -x /usr/bin/chromium ]; then missing+=(chromium); fi
if [ "${NEED_TMUX:-no}" = yes ] && ! command -v tmux >/dev/null 2>&1; then missing+=(tmux); fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]} (apt-get)"
  sudo=""
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "setup: please install ${missing[*]} (apt-get install ${missing[*]}), or set REDIS_URL to a running Redis" >&2; exit 1; }
    sudo=sudo
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  npx tsc -p tsconfig.build.json
fi
