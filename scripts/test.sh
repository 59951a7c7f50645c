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
# Two pytest-xdist workers (this machine class has 2 cores), each with its own test database, Redis DB and
# RabbitMQ vhost (socialsite/test_settings.py); test groups and their order: tests/support/parallel.py.
# PYTEST_WORKERS=0 runs everything in this one process.
python -m pytest -n "${PYTEST_WORKERS:-2}" --dist loadgroup --no-loadscope-reorder "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure here." >&2
  exit 1
fi
exit "$status"
