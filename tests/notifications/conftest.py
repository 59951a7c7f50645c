"""Factories for notification tests: friends in bulk, shares announced as the share service does."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from friends import events as friend_events
from friends.models import Friendship, Share
from notifications.models import Notification

User = get_user_model()


def with_friends(owner, count: int, *, prefix: str | None = None) -> list:
    """`count` new users befriended with `owner`, both rows of each friendship written in bulk."""
    prefix = prefix or f"{owner.username}-f"
    friends = User.objects.bulk_create([User(username=f"{prefix}{i}") for i in range(count)])
    since = timezone.now()
    Friendship.objects.bulk_create(
        [Friendship(user=owner, friend=f, is_friend_since=since) for f in friends]
        + [Friendship(user=f, friend=owner, is_friend_since=since) for f in friends]
    )
    return friends


def share_and_announce(owner, **fields) -> tuple[Share, dict]:
    """Create a share and emit `share.created` in one transaction (as the share service does); returns the
    share and the event exactly as a subscriber receives it."""
    fields = fields or {"url": "https://example.com/page", "caption": "look"}
    with transaction.atomic():
        share = Share.objects.create(owner=owner, **fields)
        event = friend_events.share_created.emit(share_id=share.pk, owner_id=owner.pk)
    return share, event.as_message()


def note(recipient, actor, kind=Notification.Kind.FRIEND_REQUEST_RECEIVED, *, ago=timedelta(0), read=False, text="t"):
    """One notification made directly (a share is made for the share kind, as its constraint requires)."""
    now = timezone.now()
    share = None
    if kind == Notification.Kind.SHARE_CREATED:
        share = Share.objects.create(owner=actor, url="https://example.com/")
    return Notification.objects.create(
        share=share,
        recipient=recipient,
        actor=actor,
        kind=kind,
        text=text,
        url=f"/shares/{share.pk}/" if share else "/u/someone/",
        event_id=uuid.uuid4(),
        created_at=now - ago,
        read_at=now if read else None,
    )


def befriend(owner, *others) -> None:
    """Make each of `others` a friend of `owner`, both rows of each friendship written in bulk."""
    since = timezone.now()
    Friendship.objects.bulk_create(
        [Friendship(user=owner, friend=o, is_friend_since=since) for o in others]
        + [Friendship(user=o, friend=owner, is_friend_since=since) for o in others]
    )
