#!/usr/bin/env bash
# Run the whole site with demo data: web server, one worker per queue group, the cron scheduler.
# On a fresh Debian machine it installs what is missing (Redis, RabbitMQ, the virtual environment).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/services.sh
bash scripts/venv.sh requirements.txt
. .venv/bin/activate

# The demo runs like production: gunicorn, DEBUG off, WhiteNoise for static files, pooled database
# connections. The one difference is documented: plain HTTP on loopback (SOCIALSITE_LOOPBACK_HTTP, refused
# unless every allowed host is a loopback name).
export DJANGO_DEBUG="${DJANGO_DEBUG:-false}"
export SOCIALSITE_LOOPBACK_HTTP="${SOCIALSITE_LOOPBACK_HTTP:-true}"
export SOCIALSITE_PORT="${SOCIALSITE_PORT:-8000}"
export WEB_CONCURRENCY="${WEB_CONCURRENCY:-2}" WEB_THREADS="${WEB_THREADS:-4}"
export DEMO_PASSWORD="${DEMO_PASSWORD:-socialsite-demo}"
# A secret key of this checkout's own, kept in .env (git-ignored, read by the settings) across runs.
if [ -z "${DJANGO_SECRET_KEY:-}" ] && ! grep -qs '^DJANGO_SECRET_KEY=' .env; then
  umask 077
  echo "DJANGO_SECRET_KEY=$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" >> .env
  umask 022
fi

python manage.py migrate --noinput
python manage.py collectstatic --noinput -v 0
python manage.py load_graph --password "$DEMO_PASSWORD"   # idempotent: a second run adds nothing
python manage.py ensure_demo_admin --password "$DEMO_PASSWORD"
python manage.py seed_demo --username fb0   # requests, an accepted request and friends' shares for fb0; idempotent

cat <<MSG

  Socialsite is starting at http://127.0.0.1:${SOCIALSITE_PORT}/
  Demo log-in: fb0 / ${DEMO_PASSWORD}   (friends, requests both ways, suggestions, notifications and shares
  waiting; any fb<N>, N = 0..4038, works too; admin: admin / ${DEMO_PASSWORD} at /admin/)
  API docs: http://127.0.0.1:${SOCIALSITE_PORT}/api/docs/    Health: http://127.0.0.1:${SOCIALSITE_PORT}/healthz
  Stop with Ctrl-C.

MSG
exec honcho start -f Procfile
