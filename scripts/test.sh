#!/usr/bin/env bash
# The whole test suite (`npm test`): installs what is missing, builds (the
# tests run the service and the CLI as built, as npm start does), type-checks,
# lints, and runs tap against Redis servers started for the run
# (scripts/with-redis.sh): one server, on which every test runs, and a Redis
# Cluster and a Sentinel group, on which the suites that touch Redis run
# again (TEST_REDIS_TARGET). Every test uses its own key prefix.
# Arguments go to tap, and then only that run is made (on the single server).
set -euo pipefail
cd "$(dirname "$0")/.."

NEED_REDIS_SERVER=yes NEED_CURL=yes NEED_CHROMIUM=yes NEED_TMUX=yes bash scripts/setup.sh
npx tsc --noEmit -p tsconfig.json
npx eslint .
if [ $# -gt 0 ]; then
  exec bash scripts/with-redis.sh npx tap "$@"
fi
# Coverage is measured on the first run, which runs everything; the others run what reaches Redis
# (not the admin page, log, shutdown, CLI or live-progress runs, nor the sending and curl runs, whose
# Redis work the crash, delivery-truth, legacy and route suites cover there). Those runs print the
# service's error lines (TEST_LOG_ERRORS), so a 500 there says its cause.
# A failed run ends with what failed (tap's saved results), so the tail of a CI log names it.
WITH_REDIS_TOPOLOGIES=yes bash scripts/with-redis.sh bash -c '
  set -euo pipefail
  tap () {
    local started
    started=$(mktemp)
    npx tap "$@" && { rm -f "$started"; return; }
    local code=$?
    echo "# what failed in this run (from .tap/test-results; none listed: the coverage thresholds):"
    find .tap/test-results -name "*.tap" -newer "$started" -exec grep -Hn -A30 -E "^ *not ok " {} + | head -300 || true
    rm -f "$started"
    return $code
  }
  tap
  echo "# again on a Redis Cluster (3 masters, 3 replicas)"
  TEST_LOG_ERRORS=yes TEST_REDIS_TARGET=cluster tap --disable-coverage test/contacts test/deliveries/batches.test.ts test/deliveries/delivery-store.test.ts test/deliveries/protection.test.ts test/deliveries/receipts.test.ts test/e2e/crash.test.ts test/e2e/delivery-truth.test.ts test/routes/v1-dispatches.test.ts test/routes/v1-deliveries-by-ids.test.ts test/routes/v1-contacts.test.ts test/routes/v1-contact-files.test.ts test/routes/legacy.test.ts test/routes/users-keys.test.ts test/routes/webhooks.test.ts test/routes/v1-dispatch-edit.test.ts test/webhooks/status-webhooks.test.ts test/addresses/address-health.test.ts test/routes/v1-contact-health.test.ts test/routes/v1-invites.test.ts test/routes/v1-settings.test.ts
  echo "# again behind Sentinel (a master, a replica, 3 sentinels)"
  TEST_LOG_ERRORS=yes TEST_REDIS_TARGET=sentinel tap --disable-coverage test/contacts test/deliveries/delivery-store.test.ts test/deliveries/receipts.test.ts test/routes/v1-dispatches.test.ts test/routes/legacy.test.ts
'
