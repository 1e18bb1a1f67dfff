#!/usr/bin/env bash
# Entry point of `npm start | test | run infra | run stop`: installs the repo's
# own Node 24 and dependencies when missing (the system node may be older),
# then hands over to the TypeScript runner on that Node. `shop.sh node FILE
# [args]` runs one script on it instead (the load tests: a clone that only ran
# `npm run k8s:kind` has no node_modules yet).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "[shop] installing npm dependencies (brings Node 24)…"
  # npm install, not npm ci: npm 11 leaves other platforms' optional packages
  # out of the lock file and npm ci then refuses it.
  npm install --no-audit --no-fund --loglevel=error
fi
if [ "${1:-}" = node ]; then
  shift
  exec node_modules/.bin/node --disable-warning=ExperimentalWarning "$@"
fi
exec node_modules/.bin/node --disable-warning=ExperimentalWarning local/src/cli.ts "$@"
