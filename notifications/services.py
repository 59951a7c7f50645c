"""Writes of notifications. Creation is idempotent per (event, recipient): delivery is at-least-once.

Every subscriber-facing service here reads the *current* database state before notifying: an event
says what happened, not whether it still matters (a request cancelled before its event is handled,
a share deleted, a block made in between all notify nobody).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone

from accounts import people
from friends.models import Block, FriendRequest, Friendship, Share
from socialsite.errors import NotFound

from . import selectors
from .models import Notification

User = get_user_model()
Kind = Notification.Kind

FAN_OUT_CHUNK = 1000  # recipients per SELECT and per INSERT: a few queries per thousand friends
PRUNE_BATCH = 10_000  # rows per DELETE: short statements, no long lock on the table


def share_url(share_id: int) -> str:
    """The share's page (`friends.shares` route "share-detail")."""
    return reverse("share-detail", args=[share_id])


def notification_create(
    *,
    recipient_id: int,
    event_id: str | uuid.UUID,
    kind: str,
    text: str,
    actor_id: int | None = None,
    url: str = "",
    share_id: int | None = None,
    friend_request_id: int | None = None,
) -> bool:
    """Create one notification for one event; a second delivery of the same event changes nothing.

    Returns True when a row was created, False when this event had already notified this recipient.
    """
    try:
        with transaction.atomic():
            Notification.objects.create(
                recipient_id=recipient_id,
                actor_id=actor_id,
                event_id=event_id,
                kind=kind,
                text=text,
                url=url,
                share_id=share_id,
                friend_request_id=friend_request_id,
            )
    except IntegrityError:
        return False
    return True


def _blocked_either_way(a_id: int, b_id: int) -> bool:
    return Block.objects.filter(Q(blocker_id=a_id, blocked_id=b_id) | Q(blocker_id=b_id, blocked_id=a_id)).exists()


def notifications_create_for_friend_request(*, request_id: int, kind: str, event_id: str | uuid.UUID) -> bool:
    """Tell the receiver of a pending request (`Kind.FRIEND_REQUEST_RECEIVED`), or its sender once accepted
    (`Kind.FRIEND_REQUEST_ACCEPTED`), if that is still true when the event is handled.

    Nobody is notified when the request is gone, is no longer in the state the event announced (cancelled,
    declined or closed by a block in between), either user is inactive, or one blocks the other.
    Three queries at most. Returns True when a notification was created (False also for a redelivery).

    Raises:
        ValueError: `kind` is not one of the two friend-request kinds.
    """
    if kind == Kind.FRIEND_REQUEST_RECEIVED:
        expected_state, verb = FriendRequest.State.PENDING, "sent you a friend request"
    elif kind == Kind.FRIEND_REQUEST_ACCEPTED:
        expected_state, verb = FriendRequest.State.ACCEPTED, "accepted your friend request"
    else:
        raise ValueError(f"not a friend-request notification kind: {kind!r}")
    request = (
        FriendRequest.objects.filter(pk=request_id, state=expected_state)
        .select_related("from_user", "to_user")
        .only(
            "id",
            *(f"{side}__{name}" for side in ("from_user", "to_user") for name in (*people.NAME_FIELDS, "is_active")),
        )
        .first()
    )
    if request is None:
        return False
    if kind == Kind.FRIEND_REQUEST_RECEIVED:
        recipient, actor = request.to_user, request.from_user
    else:
        recipient, actor = request.from_user, request.to_user
    if not (recipient.is_active and actor.is_active) or _blocked_either_way(recipient.pk, actor.pk):
        return False
    return notification_create(
        recipient_id=recipient.pk,
        actor_id=actor.pk,
        event_id=event_id,
        kind=kind,
        text=f"{people.display_name(actor)} {verb}",
        url=reverse("profile", args=[actor.username]),
        friend_request_id=request.pk,
    )


def notifications_create_for_share(*, share_id: int, event_id: str | uuid.UUID) -> int:
    """Notify every current friend of a share's owner, in bulk: one row per friend, none per request.

    Friends are read by keyset (friend id > last seen) in chunks of `FAN_OUT_CHUNK`, each chunk inserted
    with one `INSERT … ON CONFLICT DO NOTHING` on the (event, recipient) unique constraint, so a
    redelivered event, or a worker killed half-way and run again, adds only what is missing. Cost:
    1 query for the share + 2 per chunk + 1 for the last, empty chunk: 12 queries for 5,000 friends
    (plus each insert's BEGIN/COMMIT when called outside a transaction, as the worker does).
    No transaction around the whole on purpose: each chunk commits on its own, so the first friends see
    their notification while later chunks are written, and no lock is held across chunks.

    Skipped: a share that is gone (nobody), an inactive owner (nobody), inactive friends, and friends
    who block the owner or whom the owner blocks (a block ends a friendship, but a block and the
    friendship's removal may both be newer than this event's view of the world; the query checks both).

    Returns the number of recipients attempted (rows already there from a first delivery included).
    """
    share = (
        Share.objects.filter(pk=share_id, owner__is_active=True)
        .select_related("owner")
        .only("id", "file", *(f"owner__{name}" for name in people.NAME_FIELDS))
        .first()
    )
    if share is None:
        return 0
    owner_id = share.owner.pk
    text = f"{people.display_name(share.owner)} shared {'a file' if share.file else 'a link'}"
    url = share_url(share.pk)
    friend = OuterRef("friend_id")
    blocks = Block.objects.filter(Q(blocker_id=owner_id, blocked_id=friend) | Q(blocker_id=friend, blocked_id=owner_id))
    friends = (
        Friendship.objects.filter(user_id=owner_id, friend__is_active=True)
        .exclude(Exists(blocks))
        .order_by("friend_id")
        .values_list("friend_id", flat=True)
    )
    now = timezone.now()
    total, last = 0, 0
    while True:
        chunk = list(friends.filter(friend_id__gt=last)[:FAN_OUT_CHUNK])
        if not chunk:
            return total
        Notification.objects.bulk_create(
            [
                Notification(
                    recipient_id=friend_id,
                    actor_id=owner_id,
                    kind=Kind.SHARE_CREATED,
                    text=text,
                    url=url,
                    share_id=share.pk,
                    event_id=event_id,
                    created_at=now,
                )
                for friend_id in chunk
            ],
            ignore_conflicts=True,
        )
        total += len(chunk)
        if len(chunk) < FAN_OUT_CHUNK:
            return total
        last = chunk[-1]


def notification_mark_read(*, user: AbstractBaseUser, notification_id: int) -> Notification:
    """Mark one of the user's own visible notifications read (again is fine).

    Raises:
        NotFound: no such notification among the user's visible ones (someone else's look the same).
    """
    notification = selectors.notifications_visible_to(user=user).filter(pk=notification_id).first()
    if notification is None:
        raise NotFound("No such notification.")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
        selectors.unread_forget(user)
    return notification


def notifications_mark_read(*, user: AbstractBaseUser, notification_ids: Iterable[int]) -> int:
    """Mark several of the user's notifications read (a grouped row of the inbox); others' ids are ignored.

    Returns how many were unread and are now read.
    """
    selectors.unread_forget(user)
    return Notification.objects.filter(recipient=user, pk__in=list(notification_ids), read_at__isnull=True).update(
        read_at=timezone.now()
    )


def notifications_mark_read_about_share(*, user: AbstractBaseUser, share_id: int) -> int:
    """Mark read the user's unread notifications about one share: opening what a notification points to
    reads it, as on GitHub or Zulip (the share's page calls this when the user opens it; the inbox still
    marks the others). Returns how many were unread (0 for a share nobody notified this user of)."""
    selectors.unread_forget(user)
    return Notification.objects.filter(recipient=user, share_id=share_id, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def notifications_mark_read_any(*, notification_ids: Iterable[int]) -> int:
    """Mark the given notifications read whoever they belong to: for admins only, never for a user's
    request (use `notifications_mark_read`). Returns how many were unread."""
    return Notification.objects.filter(pk__in=list(notification_ids), read_at__isnull=True).update(
        read_at=timezone.now()
    )


def notifications_mark_all_read(*, user: AbstractBaseUser) -> int:
    """Mark read every unread notification the user is shown (`selectors.notifications_visible_to`: not
    those of a blocked or inactive sender, which stay hidden and unread); returns how many, the number
    the badge showed. Counting the hidden ones too answered "Marked 8" under a badge of 7."""
    shown = selectors.notifications_visible_to(user=user).filter(read_at__isnull=True).order_by()
    selectors.unread_forget(user)
    return Notification.objects.filter(pk__in=shown.values("pk")).update(read_at=timezone.now())


def notifications_prune_read(*, older_than: timedelta | None = None, batch_size: int = PRUNE_BATCH) -> int:
    """Delete read notifications created more than `older_than` ago (default: the
    `NOTIFICATIONS_RETENTION_DAYS` setting), in batches of `batch_size` rows; unread ones always stay.

    Returns the number of rows deleted.
    """
    if older_than is None:
        older_than = timedelta(days=settings.NOTIFICATIONS_RETENTION_DAYS)
    cutoff = timezone.now() - older_than
    old_read = Notification.objects.filter(read_at__isnull=False, created_at__lt=cutoff)
    deleted = 0
    while True:
        ids = list(old_read.order_by().values_list("id", flat=True)[:batch_size])
        if not ids:
            return deleted
        count, _ = Notification.objects.filter(id__in=ids).delete()
        deleted += count
        if len(ids) < batch_size:
            return deleted
