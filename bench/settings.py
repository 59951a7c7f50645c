"""Settings of the benchmarks that need probe actors (`bench.bench_events`): the test settings (real
RabbitMQ when SOCIALSITE_TEST_BROKER=rabbitmq, fast password hashing) plus the `bench.probes` app."""

from socialsite.test_settings import *  # noqa: F403
from socialsite.test_settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "bench.probes"]
