"""Regular jobs: every cron schedule parses, and each job's actor runs when called."""

from apscheduler.triggers.cron import CronTrigger
from dramatiq_crontab import scheduler

import socialsite.tasks  # noqa: F401 - registers the jobs


def test_every_scheduled_job_has_a_valid_cron_trigger_and_a_real_actor():
    jobs = {job.name: job for job in scheduler.get_jobs()}
    assert {"relay_outbox", "prune_task_records"} <= set(jobs)
    for job in jobs.values():
        if job.name.startswith("dramatiq_crontab"):
            continue
        assert isinstance(job.trigger, CronTrigger)
        assert job.func.__self__.actor_name == job.name


def test_lecture_style_schedules_parse():
    trigger = CronTrigger.from_crontab("*/10 * * * mon-fri")
    fields = {f.name: str(f) for f in trigger.fields}
    assert fields["minute"] == "*/10" and fields["day_of_week"] == "mon-fri"
