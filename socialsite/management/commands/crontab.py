"""`manage.py crontab`: dramatiq-crontab's scheduler, with the jobs and schedules from settings.

dramatiq-crontab's own command registers whatever its `@cron` decorators registered at import. Here the
schedules come from one place (`SOCIALSITE_SCHEDULES`, see `socialsite.schedule`) and are put on the same
APScheduler instance before the parent command takes the Redis lock and starts it.

It outlives Redis. dramatiq-crontab shuts its scheduler down for good when its lock is lost (Redis
restarted or emptied), and its command fails when Redis does not answer while it takes the lock; the
process would then exit, and under honcho (`scripts/run.sh`) one process exiting stops the whole site.
So, unless a stop signal ended it, the command starts itself afresh in the same process (`os.execv`,
same PID) after `RELAUNCH_SECONDS`, and waits as a standby for the lock again; under systemd
(`Restart=always`) this only makes the restart quicker.
"""

from __future__ import annotations

import os
import signal
import sys
import time

from apscheduler.triggers.interval import IntervalTrigger
from django.core.management.base import CommandError
from django.utils import timezone
from dramatiq_crontab import conf, scheduler, utils
from dramatiq_crontab.management.commands import crontab
from redis.exceptions import RedisError

from socialsite.schedule import ScheduleError, register_scheduled_jobs, scheduled_jobs

STOP_SIGNALS = (signal.SIGHUP, signal.SIGTERM, signal.SIGINT)
RELAUNCH_SECONDS = 5  # between losing the lock (or Redis) and trying again: Redis restarts take seconds
LOCK_EXTENDER = "dramatiq_crontab.utils.lock.extend"


class Command(crontab.Command):
    help = (
        "Run the scheduler: enqueue each regular job (SOCIALSITE_SCHEDULES) at its cron times. One instance "
        "fires (Redis lock); another one waits as a standby. --list prints the jobs and their next runs."
    )

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--list", action="store_true", help="Print every job, its schedule and next run; exit.")

    def handle(self, *args, **options) -> None:
        try:
            jobs = scheduled_jobs()
        except ScheduleError as exc:
            raise CommandError(str(exc)) from exc
        now = timezone.now()
        width = max((len(job.name) for job in jobs), default=0)
        for job in jobs:
            nxt = job.next_run(now)
            when = f"next {timezone.localtime(nxt):%Y-%m-%d %H:%M:%S %Z}" if nxt else "switched off"
            self.stdout.write(f"{job.name:<{width}}  {job.expression:<16}  {when}")
        if options["list"]:
            return
        if not options["no_task_loading"]:
            self.load_tasks(options)
        register_scheduled_jobs(scheduler)
        options["no_task_loading"] = True  # loaded above, before registering
        self.stop_requested = False
        try:
            super().handle(*args, **options)
        except RedisError as exc:  # Redis did not answer while the lock was taken
            self.stderr.write(f"Redis unavailable ({type(exc).__name__}: {exc}).")
        if self.stop_requested:
            return
        self.stderr.write(f"Starting afresh in {RELAUNCH_SECONDS} s, as a standby for the lock.")
        time.sleep(RELAUNCH_SECONDS)
        sys.stdout.flush()  # execv keeps no Python buffer
        sys.stderr.flush()
        os.execv(sys.executable, [sys.executable, *sys.argv])

    def launch_scheduler(self, lock, scheduler) -> None:
        """The parent's, with stop signals that say they were a stop (not a lost lock): set the flag,
        then end `scheduler.start()` as the parent's handler does, by KeyboardInterrupt."""

        def stop(signum: int, frame: object) -> None:
            self.stop_requested = True
            raise KeyboardInterrupt(f"Received {signal.Signals(signum).name}, shutting down.")

        for signum in STOP_SIGNALS:
            signal.signal(signum, stop)
        scheduler.add_job(
            utils.extend_lock,
            IntervalTrigger(seconds=conf.get_settings().LOCK_REFRESH_INTERVAL),
            args=(lock, scheduler),
            name=LOCK_EXTENDER,
        )
        self.stdout.write(self.style.SUCCESS("Starting scheduler…"))
        try:
            scheduler.start()
        except KeyboardInterrupt as exc:
            self.stdout.write(self.style.WARNING(str(exc)))
            scheduler.shutdown()
        finally:
            for signum in STOP_SIGNALS:
                signal.signal(signum, signal.SIG_DFL)
