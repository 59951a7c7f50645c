"""Jobs of the friend graph: actors enqueued by services (the drain, a reader's cold miss) or by the
scheduler (the full refresh, the consistency check). Each parses its arguments and calls one service.

The actors bound to domain events are in `friends.subscribers`; they call services that enqueue the
jobs below, which is why the two kinds live in two modules (no import cycle). Regular jobs are scheduled
from settings (`SOCIALSITE_SCHEDULES`), not by decorators: see `socialsite.schedule`.
"""

import dramatiq

from socialsite import queues
from socialsite.taskstatus import report_progress

from . import consistency
from .suggestions import compute, freshness, rebuild

# The full passes (a refresh, the consistency check) take seconds on the demo graph; 15 minutes is room for
# a large one, and half of RabbitMQ's 30-minute consumer timeout, so a pass is never delivered again while
# it still runs (it used to be 30 minutes: equal to the timeout).
FULL_PASS_TIME_LIMIT = 900_000


@dramatiq.actor(queue_name=queues.GRAPH, max_retries=8, time_limit=300_000)
def recompute_dirty_suggestions() -> int:
    """Drain the dirty set: each user marked by any number of events is recomputed once."""
    return freshness.drain_dirty()


@dramatiq.actor(queue_name=queues.GRAPH, max_retries=3, store_results=True)
def compute_suggestions(user_id: int) -> int:
    """A reader found no fresh suggestions for this user (cold cache) and asked for them."""
    from .graph_cache import graph_state_check

    return compute.suggestions_recompute([user_id]) if graph_state_check() else 0


@dramatiq.actor(queue_name=queues.GRAPH, max_retries=3, store_results=True)
def compute_mutual_friends(a: int, b: int) -> int:
    """A reader found no fresh mutual friends for this pair and asked for them; returns how many."""
    from .graph_cache import graph_state_check

    return len(compute.mutual_recompute(a, b)) if graph_state_check() else 0


@dramatiq.actor(queue_name=queues.GRAPH, max_retries=2, time_limit=FULL_PASS_TIME_LIMIT, store_results=True, track=True)
def refresh_all_suggestions() -> int:
    """The periodic full refresh of every user's suggestions, in batches, with progress on its task record."""
    return rebuild.suggestions_rebuild_all(progress=_report_refresh)


def _report_refresh(done: int, total: int) -> None:
    report_progress(done, total, "suggestions refreshed")


@dramatiq.actor(queue_name=queues.GRAPH, max_retries=2, time_limit=FULL_PASS_TIME_LIMIT)
def check_graph_consistency() -> dict:
    """Compare the Redis graph copy with the friendship table, repair drift, report each repair."""
    report = consistency.graph_consistency_repair(progress=report_progress)
    return report.as_dict()


@dramatiq.actor(queue_name=queues.GRAPH, max_retries=5, time_limit=600_000, track=True)
def repair_graph_cache() -> dict | None:
    """Redis lost its data (`graph_cache.graph_state_check` noticed): rebuild everything derived, once,
    with progress on its task record; None if it was rebuilt meanwhile."""
    from .graph_cache import graph_cache_repair  # graph_cache enqueues this actor: imported when run

    return graph_cache_repair(progress=report_progress)
