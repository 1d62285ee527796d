#!/usr/bin/env bash
# The README's test command: type-check every package, check the formatting (prettier), run
# Jest, then print the closing
# `N passed, N failed` line that CI reads.
set -uo pipefail
cd "$(dirname "$0")/.."
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
npx tsc -b || { echo "type check failed"; echo "0 passed, 1 failed"; exit 1; }
npm run --silent format:check || { echo "formatting differs from prettier's: run npm run format"; echo "0 passed, 1 failed"; exit 1; }
out=$(mktemp -d)/jest.json
node --experimental-vm-modules --no-warnings node_modules/jest/bin/jest.js --json --outputFile="$out" "$@"
rc=$?
if [ -f "$out" ]; then
  node -e 'const r=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed`)' "$out"
else
  echo "0 passed, 1 failed"
fi
exit $rc
