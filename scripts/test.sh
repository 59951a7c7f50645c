#!/usr/bin/env bash
# The whole test command: sets up the virtual environment, makes sure the services (and Chromium, for the
# browser tests) are there and run, then runs the
# linter and the format check (either failing fails the run, before any test), then the test suite.
# Extra arguments go to pytest (e.g. scripts/test.sh tests/friends -x).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/services.sh --with-postgres --with-browser
bash scripts/venv.sh requirements-dev.txt
. .venv/bin/activate

ruff check .
ruff format --check .

set +e
python -m pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure here." >&2
  exit 1
fi
exit "$status"
