"""Regular jobs: schedules come from settings (and the environment), mean what cron means, and a bad one
stops start-up. Next run times are checked at fixed clocks on the project's own jobs, as registered on
the scheduler the `crontab` command starts."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from dramatiq_crontab import LazyBlockingScheduler

from socialsite import schedule

ROOT = Path(__file__).resolve().parents[2]


def at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


@pytest.fixture
def schedules(settings):
    """Set some jobs' schedules, as SOCIALSITE_SCHEDULES (or SCHEDULE_<JOB> in the environment) would."""

    def apply(**by_job: str) -> None:
        settings.SOCIALSITE_SCHEDULES = {**settings.SOCIALSITE_SCHEDULES, **by_job}

    return apply


def registered(now: datetime) -> dict[str, datetime | None]:
    """Each job's next run as the scheduler process computes it: registered exactly as `crontab` does."""
    scheduler = LazyBlockingScheduler(timezone=UTC)
    schedule.register_scheduled_jobs(scheduler)
    return {job.name: job.trigger.get_next_fire_time(None, now) for job in scheduler.get_jobs()}


# 2026-03-02 is a Monday; 03-04 Wednesday, 03-06 Friday, 03-07 Saturday, 03-08 Sunday, 03-09 Monday.
@pytest.mark.parametrize(
    ("job", "expression", "now", "expected"),
    [
        # The lecture: "Run at 10:30am everyday"
        ("refresh_all_suggestions", "30 10 * * *", at(2026, 3, 4, 10, 29, 59), at(2026, 3, 4, 10, 30)),
        ("refresh_all_suggestions", "30 10 * * *", at(2026, 3, 4, 10, 30, 1), at(2026, 3, 5, 10, 30)),
        ("refresh_all_suggestions", "30 10 * * *", at(2026, 3, 7, 23, 0), at(2026, 3, 8, 10, 30)),
        # "Run at the 0th minute of every hour"
        ("check_graph_consistency", "0 * * * *", at(2026, 3, 4, 10, 0, 1), at(2026, 3, 4, 11, 0)),
        ("check_graph_consistency", "0 * * * *", at(2026, 3, 4, 23, 59, 59), at(2026, 3, 5, 0, 0)),
        # "Run every 10 minutes on Monday to Friday"
        ("update_site_counters", "*/10 * * * 1-5", at(2026, 3, 4, 12, 34), at(2026, 3, 4, 12, 40)),
        ("update_site_counters", "*/10 * * * 1-5", at(2026, 3, 6, 23, 50, 1), at(2026, 3, 9, 0, 0)),
        ("update_site_counters", "*/10 * * * 1-5", at(2026, 3, 7, 9, 0), at(2026, 3, 9, 0, 0)),
        ("update_site_counters", "*/10 * * * 1-5", at(2026, 3, 8, 23, 59), at(2026, 3, 9, 0, 0)),
        # The lecture's weekly example: 06:00 on Wednesdays (cron's 3 = Wednesday)
        ("prune_task_records", "0 6 * * 3", at(2026, 3, 4, 6, 0, 1), at(2026, 3, 11, 6, 0)),
        ("prune_task_records", "0 6 * * 3", at(2026, 3, 2, 0, 0), at(2026, 3, 4, 6, 0)),
        # Weekday ranges ending on Sunday, as 7 and as a name, and a weekend list with 0
        ("relay_outbox", "0 9 * * 5-7", at(2026, 3, 2, 12, 0), at(2026, 3, 6, 9, 0)),
        ("relay_outbox", "0 9 * * 5-7", at(2026, 3, 7, 9, 0, 1), at(2026, 3, 8, 9, 0)),
        ("relay_outbox", "0 9 * * fri-sun", at(2026, 3, 8, 9, 0, 1), at(2026, 3, 13, 9, 0)),
        ("relay_outbox", "15 8 * * 0,6", at(2026, 3, 4, 12, 0), at(2026, 3, 7, 8, 15)),
        ("relay_outbox", "15 8 * * 0,6", at(2026, 3, 7, 8, 15, 1), at(2026, 3, 8, 8, 15)),
    ],
)
def test_project_job_next_run_at_a_fixed_clock_is_what_cron_means(schedules, job, expression, now, expected):
    schedules(**{job: expression})
    assert registered(now)[job] == expected
    assert schedule.scheduled_job_get(name=job).next_run(now) == expected  # what the admin page shows


def test_weekday_range_fires_monday_to_friday_only_in_cron_numbering(schedules):
    """APScheduler alone counts Monday as 0, so `1-5` would mean Tuesday to Saturday: the week proves it."""
    schedules(update_site_counters="*/10 * * * 1-5")
    trigger = schedule.scheduled_job_get(name="update_site_counters").trigger
    moment, fires = at(2026, 3, 1, 0, 0), []  # Sunday
    while (moment := trigger.get_next_fire_time(None, moment)) < at(2026, 3, 8, 0, 0):
        fires.append(moment)
        moment += timedelta(seconds=1)
    assert len(fires) == 5 * 24 * 6
    assert {f.strftime("%a") for f in fires} == {"Mon", "Tue", "Wed", "Thu", "Fri"}
    assert fires[0] == at(2026, 3, 2, 0, 0) and fires[-1] == at(2026, 3, 6, 23, 50)


def test_every_job_in_settings_is_registered_with_no_burst_settings(settings):
    scheduler = LazyBlockingScheduler(timezone=UTC)
    schedule.register_scheduled_jobs(scheduler)
    jobs = {job.name: job for job in scheduler.get_jobs()}
    assert set(jobs) == set(settings.SOCIALSITE_SCHEDULES)
    for job in jobs.values():
        assert job.coalesce is True and job.max_instances == 1
        assert job.misfire_grace_time == settings.SCHEDULER_MISFIRE_GRACE
        assert job.args == (job.name,) and job.func is schedule.fire_scheduled_job


def test_switched_off_job_is_not_registered_and_shows_no_next_run(schedules):
    schedules(check_graph_consistency="off")
    assert "check_graph_consistency" not in registered(at(2026, 3, 4))
    assert schedule.scheduled_job_get(name="check_graph_consistency").next_run(at(2026, 3, 4)) is None


def test_seconds_field_and_aliases(schedules):
    schedules(update_site_counters="*/15 * * * * *", relay_outbox="@hourly")
    nxt = registered(at(2026, 3, 4, 10, 0, 1))
    assert nxt["update_site_counters"] == at(2026, 3, 4, 10, 0, 15)
    assert nxt["relay_outbox"] == at(2026, 3, 4, 11, 0)


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("61 * * * *", "higher than the maximum"),
        ("*/10 * * 1-5", "expected 5 fields"),
        ("0 0 31 2 *", "never fires"),
        ("0 0 1 * 1", "restricts both day-of-month and day-of-week"),
        ("0 0 * * 8", "out of range"),
        ("0 0 * * 5-1", "runs backwards"),
        ("0 0 * * funday", "unknown day of week"),
        ("every day", "expected 5 fields"),
    ],
)
def test_invalid_expression_fails_the_start_up_check_naming_job_and_expression(schedules, expression, reason):
    schedules(update_site_counters=expression)
    with pytest.raises(SystemCheckError) as failure:
        call_command("check")
    text = str(failure.value)
    assert "socialsite.E003" in text and "'update_site_counters'" in text and repr(expression) in text
    assert reason in text and "SCHEDULE_UPDATE_SITE_COUNTERS" in text


def test_schedule_naming_no_actor_fails_the_start_up_check(schedules):
    schedules(update_site_countres="*/10 * * * *")
    with pytest.raises(SystemCheckError, match="no Dramatiq actor is called 'update_site_countres'"):
        call_command("check")


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "socialsite.test_settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_environment_variable_sets_a_schedule_and_a_bad_one_stops_the_scheduler(db):
    listed = _manage("crontab", "--list", SCHEDULE_UPDATE_SITE_COUNTERS="*/10 * * * 1-5")
    assert listed.returncode == 0, listed.stderr
    line = next(x for x in listed.stdout.splitlines() if x.startswith("update_site_counters"))
    assert "*/10 * * * 1-5" in line
    next_run = datetime.fromisoformat(line.split("next ")[1].removesuffix(" UTC") + "+00:00")
    assert next_run.strftime("%a") in {"Mon", "Tue", "Wed", "Thu", "Fri"} and next_run.minute % 10 == 0

    refused = _manage("crontab", "--no-heartbeat", SCHEDULE_UPDATE_SITE_COUNTERS="*/10 * * 1-5")
    assert refused.returncode != 0
    assert "Schedule for job 'update_site_counters' is not a valid cron expression: '*/10 * * 1-5'" in refused.stderr
    assert "Starting scheduler" not in refused.stdout


def test_a_run_is_enqueued_once_however_often_it_is_fired(db, schedules, stub_broker):
    """Two schedulers firing the same scheduled time (a lock lost in a Redis failover) enqueue it once."""
    schedules(update_site_counters="0 10 * * *")
    first = schedule.fire_scheduled_job("update_site_counters", now=at(2026, 3, 4, 10, 0, 0, 300_000))
    again = schedule.fire_scheduled_job("update_site_counters", now=at(2026, 3, 4, 10, 0, 20))
    assert first and again is None
    [message] = stub_broker.queues["maintenance"].queue
    assert b'"scheduled_for":"2026-03-04T10:00:00+00:00"' in message
    assert schedule.fire_scheduled_job("update_site_counters", now=at(2026, 3, 5, 10, 0, 1))  # the next day's run


def test_lock_refresh_not_shorter_than_its_timeout_fails_the_start_up_check(settings):
    settings.DRAMATIQ_CRONTAB = {**settings.DRAMATIQ_CRONTAB, "LOCK_TIMEOUT": 5, "LOCK_REFRESH_INTERVAL": 5}
    with pytest.raises(SystemCheckError, match=r"socialsite\.E004"):
        call_command("check")
