"""Writes of notifications. Creation is idempotent per (event, recipient)."""

from __future__ import annotations

import uuid

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from socialsite.errors import NotFound

from .models import Notification


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
