#!/usr/bin/env bash
# Make sure Redis and RabbitMQ (and PostgreSQL, when installed) are installed and running.
# Installs missing packages with apt-get when run as root; otherwise says exactly what to run.
# Usage: scripts/services.sh [--with-postgres] [--with-browser]
#   --with-browser: Debian's Chromium and fonts for the browser tests (tests/browser/ drive
#   /usr/bin/chromium through Playwright, which never downloads a browser of its own).
set -euo pipefail

want_pg=0
want_browser=0
for arg in "$@"; do
  case "$arg" in
    --with-postgres) want_pg=1 ;;
    --with-browser) want_browser=1 ;;
    *) echo "unknown option: $arg" >&2; exit 2 ;;
  esac
done

need_install=()
command -v redis-server >/dev/null 2>&1 || need_install+=(redis-server)
command -v rabbitmq-server >/dev/null 2>&1 || need_install+=(rabbitmq-server)
if [ "$want_browser" = 1 ]; then
  [ -x /usr/bin/chromium ] || need_install+=(chromium)
  # Fonts the pages and screenshots are drawn with (Chromium alone brings none that a bare system has).
  for font in fonts-liberation fonts-dejavu-core; do
    dpkg-query -W -f='${Status}' "$font" 2>/dev/null | grep -q "ok installed" || need_install+=("$font")
  done
fi
if [ ${#need_install[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "Installing ${need_install[*]} with apt-get…"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_install[@]}"
  else
    echo "Missing ${need_install[*]}. Run: sudo apt-get update && sudo apt-get install -y ${need_install[*]}" >&2
    exit 1
  fi
fi

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if ! port_open 6379; then
  echo "Starting Redis…"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 50); do port_open 6379 && break; sleep 0.2; done
fi

if ! port_open 5672; then
  echo "Starting RabbitMQ…"
  rabbitmq-server -detached
  rabbitmqctl await_startup >/dev/null
fi

if [ "$want_pg" = 1 ] && command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ] && ! port_open 5432; then
  echo "Starting PostgreSQL…"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  for _ in $(seq 50); do port_open 5432 && break; sleep 0.2; done
fi

# The test suite uses its own RabbitMQ virtual host, so a running demo never takes the tests' messages.
if command -v rabbitmqctl >/dev/null 2>&1; then
  rabbitmqctl -q add_vhost socialsite_test >/dev/null 2>&1 || true
  rabbitmqctl -q set_permissions -p socialsite_test guest ".*" ".*" ".*" >/dev/null 2>&1 || true
fi
