"""Regular jobs: the project's own `@cron` schedules fire when the README says, and each sends its actor.

The table below is the contract: every job the project registers must be in it, with the times it must
fire next from a few fixed clocks (the scheduler's time zone is the settings' TIME_ZONE, UTC by default).
"""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger
from django.conf import settings
from dramatiq import Message
from dramatiq_crontab import scheduler

from friends.tasks import refresh_all_suggestions
from socialsite.models import TaskRecord
from socialsite.tasks import prune_task_records, relay_outbox

TZ = ZoneInfo(settings.TIME_ZONE)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=TZ)


# job -> (its actor, [(clock, next fire time)]): what the README's "Regular jobs" promises.
SCHEDULES = {
    "relay_outbox": (  # every minute
        relay_outbox,
        [("2026-03-10 12:00:00.5", "2026-03-10 12:01"), ("2026-03-10 23:59:30", "2026-03-11 00:00")],
    ),
    "prune_task_records": (  # daily at 03:17
        prune_task_records,
        [("2026-03-10 03:16:59", "2026-03-10 03:17"), ("2026-03-10 03:17:01", "2026-03-11 03:17")],
    ),
    "refresh_all_suggestions": (  # daily at 04:40
        refresh_all_suggestions,
        [("2026-03-10 00:00", "2026-03-10 04:40"), ("2026-03-10 04:41", "2026-03-11 04:40")],
    ),
}


def project_jobs() -> dict:
    """The jobs registered by the project's actors (dramatiq_crontab's own housekeeping left out)."""
    return {job.name: job for job in scheduler.get_jobs() if not job.name.startswith("dramatiq_crontab")}


def test_every_registered_job_is_one_the_project_documents():
    assert set(project_jobs()) == set(SCHEDULES)


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_job_fires_next_at_the_documented_times(name):
    job = project_jobs()[name]
    assert isinstance(job.trigger, CronTrigger)
    for clock, expected in SCHEDULES[name][1]:
        assert job.trigger.get_next_fire_time(None, at(clock)) == at(expected), (name, clock)


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_firing_a_job_sends_its_actor_to_the_actors_queue(name, db, stub_broker):
    actor = SCHEDULES[name][0]
    project_jobs()[name].func()  # what the scheduler calls at the fire time
    [encoded] = list(stub_broker.queues[actor.queue_name].queue)
    assert Message.decode(encoded).actor_name == actor.actor_name == name
    assert TaskRecord.objects.get(id=Message.decode(encoded).message_id).state == "enqueued"  # tracked as any task
