"""Reads of notifications: the one visibility rule, the unread count, and grouping for display.

Visibility (`notifications_visible_to`) is the single access rule every page, endpoint and count goes
through: a user sees only their own notifications, and not those about someone who is inactive or
with whom a block exists either way (someone who blocks you looks like nobody, everywhere).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import JSONObject

from accounts import people
from friends.models import Block
from socialsite.prepared import PreparedQuery

from .models import Notification

# Notifications of one kind whose times are within this of the newest one in their group are shown as
# one row ("Ana and 3 others shared files or links").
GROUP_WINDOW = timedelta(hours=1)


def notifications_visible_to(*, user: AbstractBaseUser) -> QuerySet[Notification]:
    """The user's own notifications that may be shown, newest first, each with its actor loaded.

    One query whatever is done with it (the block check is a correlated NOT EXISTS on the block
    table's unique index, the actor check a join).
    """
    blocks = Block.objects.filter(
        Q(blocker_id=user.pk, blocked_id=OuterRef("actor_id")) | Q(blocker_id=OuterRef("actor_id"), blocked_id=user.pk)
    )
    return (
        Notification.objects.filter(recipient_id=user.pk)
        .filter(Q(actor__isnull=True) | Q(actor__is_active=True))
        .exclude(Exists(blocks))
        .select_related("actor")
    )


def notifications_list(*, user: AbstractBaseUser, unread_only: bool = False) -> QuerySet[Notification]:
    """The user's visible notifications, newest first; only unread ones when `unread_only`."""
    qs = notifications_visible_to(user=user)
    return qs.filter(read_at__isnull=True) if unread_only else qs


@dataclass(frozen=True)
class UnreadState:
    """The badge's data: how many unread, and a validator that changes whenever the badge must."""

    count: int
    etag: str


def _unread_grouped(user_id: int) -> QuerySet:
    user = get_user_model()(pk=user_id)
    unread = notifications_list(user=user, unread_only=True).order_by()
    # Grouped by the one recipient: a single row (none when nothing is unread).
    return unread.values("recipient_id")


def _unread_count_and_newest(user_id: int) -> QuerySet:
    return _unread_grouped(user_id).annotate(count=Count("id"), newest=Max("id")).values_list("count", "newest")


# Compiled once per process: building this queryset costs ~20x running it, and every page shows the badge.
_UNREAD = PreparedQuery(_unread_count_and_newest)

# Where `unread_preload` leaves the summary on a user object: (count, newest id), or None when not loaded.
_PRELOADED = "_unread_preloaded"


def unread_summary(user_id: int) -> Subquery:
    """A column for a query that reads the user's row: `{"count": n, "newest": id}` as JSON text of the
    user's visible unread notifications (the badge's one query as a scalar subquery, on the same partial
    index), or NULL when none is unread. `socialsite.backends` reads it with the logged-in user, and
    `unread_preload` keeps it on the user object, so a page's badge and a badge poll by a signed-in
    browser cost no query of their own."""
    summary = JSONObject(count=Count("id"), newest=Max("id"))
    return Subquery(_unread_grouped(user_id).annotate(summary=summary).values("summary"))


def unread_preload(user: AbstractBaseUser, summary: str | None) -> None:
    """Keep on `user` the `unread_summary` column read with it (JSON text, as PostgreSQL's and SQLite's
    cursors give it; None when nothing is unread), for `unread_state` to use instead of its query. Valid
    until this request marks notifications read: the services that do call `unread_forget`."""
    decoded = json.loads(summary) if summary else None
    setattr(user, _PRELOADED, (decoded["count"], decoded["newest"]) if decoded else (0, None))


def unread_forget(user: AbstractBaseUser) -> None:
    """Drop what `unread_preload` kept on `user`: its notifications' read state changed, so the next
    `unread_state` reads the table (a share's page marks its notifications read, then draws the badge)."""
    setattr(user, _PRELOADED, None)


def unread_state(*, user: AbstractBaseUser) -> UnreadState:
    """Unread count and ETag: what came with the user's row (`unread_preload`), else ONE query (count and
    newest id of the visible unread notifications, on the partial unread index). The ETag changes when a
    notification arrives or is read, so a poll that finds nothing new can be answered 304 without a
    body."""
    preloaded = getattr(user, _PRELOADED, None)
    if preloaded is not None:
        count, newest = preloaded
    else:
        rows = _UNREAD.rows(user.pk)
        count, newest = rows[0] if rows else (0, None)
    digest = hashlib.sha1(f"{user.pk}:{count}:{newest}".encode(), usedforsecurity=False).hexdigest()
    return UnreadState(count=count, etag=f'"n-{digest[:16]}"')


# --- grouping for display ---------------------------------------------------------------------------

_GROUP_VERBS = {
    # A share is a file, a link or both: "files" alone misdescribed a group with links in it.
    Notification.Kind.SHARE_CREATED: ("shared files or links", "shared {n} files or links"),
    Notification.Kind.FRIEND_REQUEST_RECEIVED: ("sent you friend requests", "sent you {n} friend requests"),
    Notification.Kind.FRIEND_REQUEST_ACCEPTED: ("accepted your friend requests", "accepted {n} friend requests"),
}


@dataclass
class NotificationGroup:
    """One row of the inbox: a single notification, or several of one kind that arrived close together.

    `items` are newest first and keep their own links; `headline` is the stored text for a single
    notification and a summary for several ("Ana and 3 others shared files or links").
    """

    kind: str
    items: list[Notification] = field(default_factory=list)

    @property
    def newest(self) -> Notification:
        return self.items[0]

    @property
    def created_at(self) -> datetime:
        return self.newest.created_at

    @property
    def is_grouped(self) -> bool:
        return len(self.items) > 1

    @property
    def unread_count(self) -> int:
        return sum(1 for n in self.items if n.read_at is None)

    @property
    def unread_ids(self) -> list[int]:
        return [n.pk for n in self.items if n.read_at is None]

    @property
    def url(self) -> str:
        return self.newest.url

    @property
    def headline(self) -> str:
        if not self.is_grouped:
            return self.newest.text
        actors: list[str] = []
        for n in self.items:
            name = people.display_name(n.actor) if n.actor is not None else None
            if name and name not in actors:
                actors.append(name)
        many, same_actor = _GROUP_VERBS.get(self.kind, ("sent notifications", "sent {n} notifications"))
        if not actors:
            return f"{len(self.items)} notifications"
        if len(actors) == 1:
            return f"{actors[0]} {same_actor.format(n=len(self.items))}"
        others = len(actors) - 1
        return f"{actors[0]} and {others} other{'s' if others > 1 else ''} {many}"


def group_notifications(
    notifications: list[Notification], *, window: timedelta = GROUP_WINDOW
) -> list[NotificationGroup]:
    """Group a newest-first list: a notification joins the open group of its kind when it is within
    `window` of that group's newest item, otherwise it starts a new group. Groups come out ordered by
    their newest item. Pure Python over what was already loaded: no query.

    Used on one page of the inbox at a time, so a burst larger than a page continues, as its own group,
    on the next page (the page count and links stay those of the plain list).
    """
    groups: list[NotificationGroup] = []
    open_by_kind: dict[str, NotificationGroup] = {}
    for n in notifications:
        group = open_by_kind.get(n.kind)
        if group is None or group.created_at - n.created_at > window:
            group = NotificationGroup(kind=n.kind)
            groups.append(group)
            open_by_kind[n.kind] = group
        group.items.append(n)
    return groups
