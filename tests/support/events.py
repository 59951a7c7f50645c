"""Delivering pending domain events inside the test process: the unit tier's stand-in for the broker hop.

The real hop (outbox -> RabbitMQ -> worker) is covered by tests/integration; here every subscriber of an
event is called directly with the message it would receive, in commit order.
"""

from __future__ import annotations

import uuid

from socialsite.events import DomainEvent, subscribers_of
from socialsite.models import OutboxEvent


class EventDelivery:
    """Calls each subscriber of every outbox event not handed over yet by this object, oldest first.

    `deliver(*events, drain=True)`: with events given (objects or names), only those are delivered and
    the others stay pending for a later call; then the dirty suggestions are drained, as the drain
    actor would, unless `drain=False`. Returns how many events were delivered.
    """

    def __init__(self) -> None:
        self.delivered: set[uuid.UUID] = set()

    def __call__(self, *events: DomainEvent | str, drain: bool = True) -> int:
        pending = OutboxEvent.objects.exclude(id__in=self.delivered).order_by("created_at")
        if events:
            pending = pending.filter(name__in=[e if isinstance(e, str) else e.name for e in events])
        count = 0
        for event in pending:
            for actor in subscribers_of(event.name):
                actor(event.as_message())
            self.delivered.add(event.id)
            count += 1
        if drain:
            from friends.suggestions.freshness import drain_dirty

            drain_dirty()
        return count
