"""Maintenance actors of the plumbing: the outbox relay, pruning of finished task records, site counters.

Their schedules are in settings (`SOCIALSITE_SCHEDULES`), applied by `manage.py crontab`; see
`socialsite.schedule`.
"""

from datetime import timedelta

import dramatiq
from django.utils import timezone

from . import events, queues, services
from .models import TaskRecord


@dramatiq.actor(queue_name=queues.MAINTENANCE, max_retries=3)
def relay_outbox() -> int:
    """Hand over events that were not published after their commit (broker down, process died)."""
    return events.relay_pending()


@dramatiq.actor(queue_name=queues.MAINTENANCE, max_retries=3)
def prune_task_records(days: int = 7) -> int:
    """Delete finished task records older than a week; failed ones stay for admins."""
    cutoff = timezone.now() - timedelta(days=days)
    deleted, _ = TaskRecord.objects.filter(state=TaskRecord.State.DONE, finished_at__lt=cutoff).delete()
    return deleted


@dramatiq.actor(queue_name=queues.MAINTENANCE, max_retries=3)
def update_site_counters() -> dict:
    """Count users, friendships, shares and notifications for the stats page; keep the history."""
    row = services.site_counters_record()
    return {"computed_at": row.computed_at.isoformat(), **row.counts()}
