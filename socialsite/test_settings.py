"""Test settings: the production settings module, with test-only values from the environment.

PostgreSQL at 127.0.0.1:5432 when it answers, else SQLite; Redis on its own DB number (flushed per test).
"""

import os
import socket


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-not-a-secret")
os.environ.setdefault("DJANGO_DEBUG", "false")
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
# Its own virtual host (created by scripts/services.sh): a demo running beside the tests keeps its messages.
os.environ.setdefault("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/socialsite_test")
# Workers' outbox relay: a pass every half second (production: 2 s), so a test whose events wait for the
# relay (RabbitMQ was down, a publish failed) waits less; the relay's grace period stays as in production.
os.environ.setdefault("OUTBOX_RELAY_INTERVAL", "0.5")
if "DATABASE_URL" not in os.environ and _port_open("127.0.0.1", 5432):
    os.environ["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/socialsite"


def _xdist_own_services(worker: str) -> None:
    """Under pytest-xdist (`scripts/test.sh` in CI runs `-n 2`), worker process gwN (N > 0) gets its own Redis DB
    number (the given one minus N: tests flush their DB before each test) and its own RabbitMQ vhost (the
    given one + `_gwN`, created by the `_rabbitmq_broker` fixture: tests purge queues); gw0, and a run
    without xdist, keep the given ones. pytest-django gives each its own test database (`test_<name>_gwN`).

    Written back to the environment, so every child process (workers, schedulers, gunicorn) uses the same;
    a child that loads these settings again sees the marker and changes nothing.
    """
    index = int(worker.removeprefix("gw") or 0)
    if not index or os.environ.get("SOCIALSITE_TEST_SERVICES_OF") == worker:
        return
    base, _, db = os.environ["REDIS_URL"].rpartition("/")
    number = int(db or 0) - index
    os.environ["REDIS_URL"] = f"{base}/{number if number >= 0 else int(db or 0) + index}"
    os.environ["RABBITMQ_URL"] = f"{os.environ['RABBITMQ_URL']}_{worker}"
    os.environ["SOCIALSITE_TEST_SERVICES_OF"] = worker


_xdist_own_services(os.environ.get("PYTEST_XDIST_WORKER", ""))

from .settings import *  # noqa: E402,F403
from .settings import BASE_DIR, DATABASES  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only; never in production

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so worker processes started by integration tests share it.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "test_db.sqlite3")}

# Two tiers. Unit tests run on Dramatiq's StubBroker: nothing leaves the process, RabbitMQ may be down.
# Integration tests switch the test process to the real RabbitMQ broker below (`rabbitmq` fixture in
# tests/conftest.py) and start workers with SOCIALSITE_TEST_BROKER=rabbitmq.
RABBITMQ_DRAMATIQ_BROKER = DRAMATIQ_BROKER  # noqa: F405
if os.environ.get("SOCIALSITE_TEST_BROKER") != "rabbitmq":
    DRAMATIQ_BROKER = {**RABBITMQ_DRAMATIQ_BROKER, "BROKER": "dramatiq.brokers.stub.StubBroker", "OPTIONS": {}}

# The integration tests' shared worker reports how many messages it holds, so a test can wait until it is
# idle before the next one starts (tests/support/worker_activity.py); no other process loads this.
if os.environ.get("SOCIALSITE_TEST_WORKER_ACTIVITY_DIR"):
    DRAMATIQ_BROKER = {
        **DRAMATIQ_BROKER,
        "MIDDLEWARE": [*DRAMATIQ_BROKER["MIDDLEWARE"], "tests.support.worker_activity.WorkerActivity"],
    }

INSTALLED_APPS = [*INSTALLED_APPS, "tests.support"]  # noqa: F405 - probe actors for tests

# Tests render admin and API-docs pages without running `collectstatic`; the manifest storage would refuse
# them (it needs the manifest), so tests use plain storage. tests/socialsite/test_serving.py runs
# `collectstatic` with the production storage and checks WhiteNoise serves the hashed, compressed files.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
