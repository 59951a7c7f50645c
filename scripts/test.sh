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
# In CI (CI=true: the machine is its own) two pytest-xdist workers, each with its own test database, Redis
# DB (gwN takes the given DB number minus N) and RabbitMQ vhost (socialsite/test_settings.py); elsewhere one
# process unless PYTEST_WORKERS=2, since on a shared machine the next lower Redis DB may be someone else's.
# Test groups and their order: tests/support/parallel.py.
workers="${PYTEST_WORKERS:-$([ -n "${CI:-}" ] && echo 2 || echo 0)}"
python -m pytest -n "$workers" --dist loadgroup --no-loadscope-reorder "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest collected no tests: that is a failure here." >&2
  exit 1
fi
exit "$status"
