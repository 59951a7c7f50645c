#!/usr/bin/env bash
# Run the whole site with demo data: web server, one worker per queue group, the cron scheduler.
# On a fresh Debian machine it installs what is missing (Redis, RabbitMQ, the virtual environment).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/services.sh
bash scripts/venv.sh requirements.txt
. .venv/bin/activate

export DJANGO_DEBUG="${DJANGO_DEBUG:-true}"   # local demo: runserver serves static files
export SOCIALSITE_PORT="${SOCIALSITE_PORT:-8000}"
export DEMO_PASSWORD="${DEMO_PASSWORD:-socialsite-demo}"

python manage.py migrate --noinput
python manage.py load_graph --password "$DEMO_PASSWORD"   # idempotent: a second run adds nothing
python manage.py ensure_demo_admin --password "$DEMO_PASSWORD"

cat <<MSG

  Socialsite is starting at http://127.0.0.1:${SOCIALSITE_PORT}/
  Demo log-in: fb0 / ${DEMO_PASSWORD}   (any fb<N>, N = 0..4038; admin: admin / ${DEMO_PASSWORD} at /admin/)
  API docs: http://127.0.0.1:${SOCIALSITE_PORT}/api/docs/    Health: http://127.0.0.1:${SOCIALSITE_PORT}/healthz
  Stop with Ctrl-C.

MSG
exec honcho start -f Procfile
