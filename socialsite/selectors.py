"""Reads of the plumbing's records: task records, site counters, the regular jobs' last runs."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.utils import timezone

from .models import SiteCounters, TaskRecord


def task_records_of(*, user: AbstractBaseUser) -> QuerySet[TaskRecord]:
    """Tasks the user may see: their own. Admins use Django admin."""
    return TaskRecord.objects.filter(owner_id=user.pk)


def site_counters_latest() -> SiteCounters | None:
    """The most recent counters, or None before the first run of `update_site_counters`."""
    return SiteCounters.objects.order_by("-computed_at").first()


def site_counters_history(*, days: int = 7, max_points: int = 200, now: datetime | None = None) -> list[SiteCounters]:
    """Counter rows of the last `days` days, oldest first, thinned to at most `max_points` evenly spread
    rows (the newest always kept), so a chart or an API answer stays small whatever the schedule."""
    since = (now or timezone.now()) - timedelta(days=days)
    rows = list(SiteCounters.objects.filter(computed_at__gte=since).order_by("computed_at"))
    if len(rows) <= max_points:
        return rows
    step = len(rows) / (max_points - 1)
    picked = [rows[int(i * step)] for i in range(max_points - 1)]
    return [*picked, rows[-1]]


def last_runs_of(*, actor_names: list[str]) -> dict[str, TaskRecord]:
    """The most recently enqueued task record of each actor (absent when it never ran): one query each,
    on the indexed actor name, because "latest per group" portably is a query per group anyway."""
    found = {}
    for name in actor_names:
        record = TaskRecord.objects.filter(actor_name=name).order_by("-enqueued_at").first()
        if record is not None:
            found[name] = record
    return found
