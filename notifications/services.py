"""Writes of notifications. Creation is idempotent per (event, recipient)."""

from __future__ import annotations

import uuid

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from socialsite.errors import NotFound

from .models import Notification

User = get_user_model()


def notification_create(
    *, recipient_id: int, event_id: str | uuid.UUID, kind: str, text: str, actor_id: int | None = None, url: str = ""
) -> bool:
    """Create one notification for one event; a second delivery of the same event changes nothing."""
    try:
        with transaction.atomic():
            Notification.objects.create(
                recipient_id=recipient_id, actor_id=actor_id, event_id=event_id, kind=kind, text=text, url=url
            )
    except IntegrityError:
        return False
    return True


def notify_friend_request_received(*, event_id: str | uuid.UUID, from_user_id: int, to_user_id: int) -> bool:
    """ "<sender> sent you a friend request", to the receiver, linking to the sender's profile.

    Returns False when nothing was created: a second delivery of the event, or a user who has vanished
    since (dropped quietly: there is nobody to tell, or nothing to tell about).
    """
    return _notify_about(
        event_id=event_id,
        kind="friend_request.sent",
        recipient_id=to_user_id,
        actor_id=from_user_id,
        verb="sent you a friend request",
    )


def notify_friend_request_accepted(*, event_id: str | uuid.UUID, from_user_id: int, to_user_id: int) -> bool:
    """ "<receiver> accepted your friend request", to the one who sent it; False as
    `notify_friend_request_received`."""
    return _notify_about(
        event_id=event_id,
        kind="friend_request.accepted",
        recipient_id=from_user_id,
        actor_id=to_user_id,
        verb="accepted your friend request",
    )


def _notify_about(*, event_id: str | uuid.UUID, kind: str, recipient_id: int, actor_id: int, verb: str) -> bool:
    """ "<actor's name> <verb>", to the recipient, linking to the actor's profile."""
    name = User.objects.filter(pk=actor_id).values_list("username", flat=True).first()
    if name is None or not User.objects.filter(pk=recipient_id).exists():
        return False
    return notification_create(
        recipient_id=recipient_id,
        actor_id=actor_id,
        event_id=event_id,
        kind=kind,
        text=f"{name} {verb}",
        url=reverse("profile", args=[name]),
    )


def notification_mark_read(*, user: AbstractBaseUser, notification_id: int) -> Notification:
    notification = Notification.objects.filter(pk=notification_id, recipient=user).first()
    if notification is None:
        raise NotFound("No such notification.")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notifications_mark_all_read(*, user: AbstractBaseUser) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())
