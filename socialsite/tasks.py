"""Maintenance actors of the plumbing: the outbox relay, pruning of finished task records, site counters.

Their schedules are in settings (`SOCIALSITE_SCHEDULES`), applied by `manage.py crontab`; see
`socialsite.schedule`.
"""

import dramatiq

from . import queues, relay, services


@dramatiq.actor(queue_name=queues.MAINTENANCE, max_retries=3)
def relay_outbox() -> int:
    """Hand over events that were not published after their commit (broker down, process died)."""
    return relay.relay_pending()


@dramatiq.actor(queue_name=queues.MAINTENANCE, max_retries=3)
def prune_task_records(days: int = 7) -> int:
    """Delete finished task records older than a week; failed ones stay for admins."""
    return services.task_records_prune(older_than_days=days)


@dramatiq.actor(queue_name=queues.MAINTENANCE, max_retries=3)
def update_site_counters() -> dict:
    """Count users, friendships, shares and notifications for the stats page; keep the history."""
    row = services.site_counters_record()
    return {"computed_at": row.computed_at.isoformat(), **row.counts()}
