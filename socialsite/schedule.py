"""Regular jobs: cron schedules from settings, applied to Dramatiq actors by the one scheduler process.

Every schedule lives in `settings.SOCIALSITE_SCHEDULES` (job name = the actor's name -> cron expression,
each overridable by a `SCHEDULE_<JOB>` environment variable). `manage.py crontab` (dramatiq-crontab's
command, extended in `socialsite/management/commands/crontab.py`) registers them on dramatiq-crontab's
APScheduler instance at start-up; the scheduler only *enqueues* — the work runs in workers, through the
broker, with retries and task status like any other task (the lecture's point: cron alone balances no
load and handles no failure).

Expression syntax is Unix cron, five fields ``minute hour day-of-month month day-of-week``, with day-of-week
numbered as cron numbers it (0 or 7 = Sunday, 1-5 = Monday to Friday) or named (``mon-fri``). APScheduler
numbers weekdays from Monday = 0, so cron numbers are translated here, never passed through. A sixth,
*leading* field adds seconds (``*/2 * * * * *`` = every 2 s), as Quartz and APScheduler allow: sub-minute
jobs and the integration tests use it. ``@hourly``/``@daily``/``@weekly``/``@monthly``/``@yearly`` and
``off`` (job disabled) are accepted too. An expression that does not parse, or never fires, is a start-up
error naming the job and the expression (`socialsite.checks`, and the `crontab` command itself).

Exactly once: dramatiq-crontab's Redis lock lets one scheduler process fire at a time (a second one waits
as a standby and takes over when the lock expires). On top of that, each firing claims its scheduled
time in Redis (``SET NX``) before enqueueing, so even two schedulers that both believe they hold the lock
(a lock lost during a Redis failover) enqueue a given run once.

No burst after downtime: APScheduler keeps jobs in memory, so a (re)started scheduler computes each next
run from *now* and never replays runs it was not alive for. A scheduler that was paused (a stalled VM)
coalesces the runs it missed into one and drops even that one if it is later than
`SCHEDULER_MISFIRE_GRACE` seconds.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import dramatiq
from apscheduler.triggers.cron import CronTrigger
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from .errors import NotFound

logger = logging.getLogger(__name__)

OFF = "off"
_ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # index = cron number (0 = Sunday)
_DOW_PART = re.compile(r"^(?P<base>\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:/(?P<step>\d+))?$")
FIRED_PREFIX = "cron:fired:"
SCHEDULER_LOCK_NAME = "dramatiq-scheduler"  # the Redis key of dramatiq_crontab.utils' lock


class ScheduleError(ImproperlyConfigured):
    """A schedule in settings cannot be used; the message names the job and the expression."""


def _cron_number(token: str, *, range_end: bool = False) -> int:
    """A day-of-week token as a cron number: 0-7 (0 and 7 = Sunday) or a day name (``sun`` closing a range
    counts as 7, so ``fri-sun`` is Friday to Sunday)."""
    if token.isdigit():
        number = int(token)
        if number > 7:
            raise ValueError(f"day of week {number} is out of range (0-7, 0 and 7 = Sunday)")
        return number
    if token in _DAY_NAMES:
        number = _DAY_NAMES.index(token)
        return 7 if range_end and number == 0 else number
    raise ValueError(f"unknown day of week {token!r} (use 0-7 or sun, mon, tue, wed, thu, fri, sat)")


def _day_of_week(field: str) -> str:
    """Translate a cron day-of-week field into APScheduler's terms: an explicit list of day names.

    Cron counts Sunday = 0 (and 7); APScheduler counts Monday = 0, so ``1-5`` would silently mean Tuesday
    to Saturday there. Expanding to names (``mon,tue,wed,thu,fri``) keeps cron's meaning, including
    steps (``*/2`` = Sun, Tue, Thu, Sat) and ranges that end on 7.
    """
    if field == "*":
        return "*"
    days: set[int] = set()
    for part in field.lower().split(","):
        match = _DOW_PART.match(part)
        if not match:
            raise ValueError(f"cannot read day-of-week part {part!r}")
        base, step = match["base"], int(match["step"] or 1)
        if step < 1:
            raise ValueError("a step must be at least 1")
        if base == "*":
            first, last = 0, 6
        elif "-" in base:
            low, high = base.split("-")
            first, last = _cron_number(low), _cron_number(high, range_end=True)
            if first > last:
                raise ValueError(f"day-of-week range {base!r} runs backwards")
        else:
            first = _cron_number(base)
            last = 6 if match["step"] else first  # cron reads "1/2" as "1-6/2"
        days.update(day % 7 for day in range(first, last + 1, step))
    return ",".join(_DAY_NAMES[day] for day in sorted(days))


def parse_cron(expression: str, *, tz: Any = None) -> CronTrigger:
    """A cron expression (see the module doc for the syntax) as an APScheduler trigger.

    Raises:
        ValueError: it does not parse, restricts both day fields (cron would OR them, this scheduler
            would AND them, so it is refused rather than silently meaning something else), or never fires.
    """
    text = _ALIASES.get(expression.strip().lower(), expression.strip())
    fields = text.split()
    if len(fields) == 5:
        second, (minute, hour, day, month, dow) = "0", fields
    elif len(fields) == 6:
        second, minute, hour, day, month, dow = fields
    else:
        raise ValueError(
            f"expected 5 fields (minute hour day-of-month month day-of-week) or 6 with leading seconds, "
            f"got {len(fields)}"
        )
    if day not in ("*", "?") and dow not in ("*", "?"):
        raise ValueError(
            "restricts both day-of-month and day-of-week; cron would run on either, this scheduler on both: "
            "use one of them"
        )
    tz = tz or timezone.get_default_timezone()
    trigger = CronTrigger(
        second=second,
        minute=minute,
        hour=hour,
        day="*" if day == "?" else day,
        month=month,
        day_of_week=_day_of_week("*" if dow == "?" else dow),
        timezone=tz,
    )
    if trigger.get_next_fire_time(None, datetime.now(tz)) is None:
        raise ValueError("never fires")
    return trigger


@dataclass(frozen=True)
class ScheduledJob:
    """One regular job: the actor it enqueues and when (``trigger`` is None when switched off)."""

    name: str
    expression: str
    trigger: CronTrigger | None

    @property
    def enabled(self) -> bool:
        return self.trigger is not None

    @property
    def actor(self) -> dramatiq.Actor:
        return dramatiq.get_broker().get_actor(self.name)

    @property
    def description(self) -> str:
        """The first line of the actor's docstring: what the job does, for the operator's view."""
        doc = (self.actor.fn.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else ""

    def next_run(self, now: datetime | None = None) -> datetime | None:
        """When it fires next at or after `now` (default: now), or None when switched off."""
        if self.trigger is None:
            return None
        return self.trigger.get_next_fire_time(None, now or timezone.now())

    def run_at_or_before(self, moment: datetime) -> datetime | None:
        """The latest scheduled time at or before `moment`, looking back one misfire grace period.

        This is the run a firing belongs to: APScheduler calls the job within the grace period of its
        scheduled time (or not at all), and does not say which time that was.
        """
        if self.trigger is None:
            return None
        probe = self.trigger.get_next_fire_time(None, moment - timedelta(seconds=settings.SCHEDULER_MISFIRE_GRACE + 1))
        found = None
        while probe is not None and probe <= moment:
            found = probe
            probe = self.trigger.get_next_fire_time(None, probe + timedelta(microseconds=1))
        return found


def _schedules() -> dict[str, str]:
    return dict(getattr(settings, "SOCIALSITE_SCHEDULES", {}))


def schedule_problems() -> list[str]:
    """Every unusable schedule in settings, as sentences naming the job and the expression (empty if none)."""
    problems = []
    actors = dramatiq.get_broker().actors
    for name, expression in _schedules().items():
        if name not in actors:
            problems.append(
                f"Schedule for job {name!r}: no Dramatiq actor is called {name!r} (the key of "
                f"SOCIALSITE_SCHEDULES is the actor's name). Known: {', '.join(sorted(actors))}."
            )
        if not isinstance(expression, str):
            problems.append(f"Schedule for job {name!r} must be a string, got {expression!r}.")
            continue
        if expression.strip().lower() == OFF:
            continue
        try:
            parse_cron(expression)
        except ValueError as exc:
            problems.append(
                f"Schedule for job {name!r} is not a valid cron expression: {expression!r} ({exc}). "
                f"Set it in SOCIALSITE_SCHEDULES or the SCHEDULE_{name.upper()} environment variable."
            )
    return problems


def scheduled_jobs() -> list[ScheduledJob]:
    """Every job in settings, in settings order.

    Raises:
        ScheduleError: a schedule is invalid or names no actor (the message lists every problem).
    """
    if problems := schedule_problems():
        raise ScheduleError("\n".join(problems))
    return [
        ScheduledJob(name=name, expression=expr, trigger=None if expr.strip().lower() == OFF else parse_cron(expr))
        for name, expr in _schedules().items()
    ]


def scheduled_job_get(*, name: str) -> ScheduledJob:
    """Raises NotFound for a name that is not a scheduled job."""
    for job in scheduled_jobs():
        if job.name == name:
            return job
    raise NotFound(f"No scheduled job is called {name!r}.")


def register_scheduled_jobs(scheduler: Any) -> list[ScheduledJob]:
    """Put every enabled job on dramatiq-crontab's APScheduler (called once, by the `crontab` command).

    ``coalesce`` and ``misfire_grace_time`` are set here rather than left to APScheduler's defaults, because
    "no burst after a stall" depends on them; ``max_instances=1`` keeps one firing per job in flight.
    """
    jobs = scheduled_jobs()
    for job in jobs:
        if not job.enabled:
            continue
        scheduler.add_job(
            fire_scheduled_job,
            job.trigger,
            args=(job.name,),
            id=f"socialsite:{job.name}",
            name=job.name,
            coalesce=True,
            misfire_grace_time=settings.SCHEDULER_MISFIRE_GRACE,
            max_instances=1,
            replace_existing=True,
        )
    return jobs


def fire_scheduled_job(name: str, *, now: datetime | None = None) -> str | None:
    """Enqueue the job's actor for the run that is due at `now` (default: now), unless that run was
    already enqueued.

    Runs in the scheduler process, on APScheduler's thread pool. Returns the message id, or None when
    another scheduler fired this run first. The message carries ``scheduled_for`` (ISO time) in its
    options, so the task record shows which run it was.
    """
    from django.db import close_old_connections

    from .redis import get_redis

    # This thread's database connection (task records are written while enqueueing) may have idled for
    # hours between daily runs; drop it if it is too old or broken, as a request would.
    close_old_connections()
    job = scheduled_job_get(name=name)
    now = now or timezone.now()
    run = job.run_at_or_before(now) or now.replace(microsecond=0)
    key = f"{FIRED_PREFIX}{name}:{run.isoformat()}"
    redis = get_redis()
    if not redis.set(key, "1", nx=True, ex=settings.SCHEDULER_MISFIRE_GRACE + 300):
        logger.info("scheduled job %s for %s was already fired by another scheduler", name, run.isoformat())
        return None
    try:
        # Tracked: the admin's job view shows each run's state, duration and result.
        message = job.actor.send_with_options(scheduled_for=run.isoformat(), track=True)
    except Exception:
        redis.delete(key)  # not enqueued: leave the run unclaimed
        logger.exception("scheduled job %s for %s could not be enqueued; the next run is on schedule", name, run)
        raise
    logger.info("scheduled job %s for %s enqueued as %s", name, run.isoformat(), message.message_id)
    return message.message_id


def scheduled_job_run_now(*, name: str, owner_id: int | None = None) -> dramatiq.Message:
    """Enqueue a scheduled job now, outside its schedule (the admin's "run now"); its owner may follow it
    at ``/tasks/<id>/``.

    Raises:
        NotFound: no scheduled job has this name.
        ServiceError: the broker refused the message (RabbitMQ down); nothing was enqueued.
    """
    from dramatiq.errors import BrokerError

    from .errors import ServiceError

    job = scheduled_job_get(name=name)
    try:
        return job.actor.send_with_options(owner_id=owner_id, run_now=True)
    except BrokerError as exc:
        raise ServiceError(f"Could not enqueue {name}: the broker is unavailable ({exc}).", code="broker") from exc


def scheduler_is_running() -> bool:
    """True when some scheduler process holds dramatiq-crontab's lock (it refreshes it every few seconds)."""
    from .redis import get_redis

    return bool(get_redis().exists(SCHEDULER_LOCK_NAME))
