"""Maintenance actors of the plumbing: the outbox relay and pruning of finished task records."""

from datetime import timedelta

import dramatiq
from django.utils import timezone
from dramatiq_crontab import cron

from . import events, queues
from .models import TaskRecord


@cron("* * * * *")  # a safety net: workers also relay every few seconds
@dramatiq.actor(queue_name=queues.MAINTENANCE, max_retries=3)
def relay_outbox() -> int:
    """Hand over events that were not published after their commit (broker down, process died)."""
    return events.relay_pending()


@cron("17 3 * * *")
@dramatiq.actor(queue_name=queues.MAINTENANCE, max_retries=3)
def prune_task_records(days: int = 7) -> int:
    """Finished task records older than `days` are history nobody reads; failed ones stay for admins."""
    cutoff = timezone.now() - timedelta(days=days)
    deleted, _ = TaskRecord.objects.filter(state=TaskRecord.State.DONE, finished_at__lt=cutoff).delete()
    return deleted
