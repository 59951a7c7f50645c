"""The processing actor is a thin adapter: an outbox event in, `share_process` called, the state out."""

from __future__ import annotations

import pytest

from friends.models import Share
from friends.shares.tasks import process_share
from socialsite.models import OutboxEvent

pytestmark = pytest.mark.django_db


def test_the_share_created_event_makes_the_share_ready(alice, share_file):
    share = share_file(alice)
    event = OutboxEvent.objects.get(name="share.created")
    assert process_share(event.as_message()) == "ready"
    assert Share.objects.get(pk=share.pk).thumbnail
    assert process_share(event.as_message()) == "ready"  # redelivered: nothing more happens


def test_the_processing_subscriber_is_bound_to_share_created_and_owned_by_the_sharer():
    from friends import events

    assert process_share.subscribes_to == (events.share_created,)
    assert process_share.owner_field == "owner_id"
