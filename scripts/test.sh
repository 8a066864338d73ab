#!/usr/bin/env bash
# The whole test suite (`npm test`): installs what is missing, type-checks,
# lints, and runs tap against one Redis started for the run (scripts/with-redis.sh).
# Every test uses its own key prefix in that Redis. Arguments go to tap.
set -euo pipefail
cd "$(dirname "$0")/.."

NEED_REDIS_SERVER=yes NEED_CURL=yes NEED_CHROMIUM=yes NEED_TMUX=yes SKIP_BUILD=1 bash scripts/setup.sh
npx tsc --noEmit -p tsconfig.json
npx eslint .
bash scripts/with-redis.sh npx tap "$@"
