"""`manage.py crontab`: dramatiq-crontab's scheduler, with the jobs and schedules from settings.

dramatiq-crontab's own command registers whatever its `@cron` decorators registered at import. Here the
schedules come from one place (`SOCIALSITE_SCHEDULES`, see `socialsite.schedule`) and are put on the same
APScheduler instance before the parent command takes the Redis lock and starts it.
"""

from __future__ import annotations

from django.core.management.base import CommandError
from django.utils import timezone
from dramatiq_crontab import scheduler
from dramatiq_crontab.management.commands import crontab

from socialsite.schedule import ScheduleError, register_scheduled_jobs, scheduled_jobs


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
        super().handle(*args, **options)
