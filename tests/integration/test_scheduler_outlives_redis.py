"""The scheduler outlives a Redis restart: dramatiq-crontab gives up once its lock is gone, and the command
starts afresh in the same process (under honcho one process exiting would stop the whole site)."""

from __future__ import annotations

import signal

from tests.integration.conftest import only_job, wait_for
from tests.support.redis_server import private_redis_fixture  # noqa: F401 - fixture


def test_the_scheduler_takes_its_lock_again_after_redis_restarts_empty(start_scheduler, private_redis):
    env = only_job("update_site_counters", "off", REDIS_URL=private_redis.url)
    scheduler = start_scheduler({**env, "SCHEDULER_LOCK_TIMEOUT": "4", "SCHEDULER_LOCK_REFRESH": "1"})
    pid = scheduler.proc.pid
    assert private_redis.client().exists("dramatiq-scheduler")

    private_redis.stop()  # without persistence: it comes back empty, the lock gone with it
    private_redis.start()

    wait_for(lambda: scheduler.output.count("Starting scheduler") >= 2, timeout=60, what="the scheduler afresh")
    assert scheduler.proc.poll() is None and scheduler.proc.pid == pid, scheduler.output
    wait_for(lambda: private_redis.client().exists("dramatiq-scheduler"), timeout=10, what="its lock again")

    scheduler.signal(signal.SIGTERM)  # a stop signal still stops it, and it does not start again
    wait_for(lambda: scheduler.proc.poll() is not None, timeout=30, what="the scheduler's exit")
    assert scheduler.output.count("Starting scheduler") == 2
