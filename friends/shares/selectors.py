"""Reads of shares, and the one rule deciding who may see a share.

Every page, endpoint, download and thumbnail goes through `shares_visible_to`, so the rule is written
once: a share is visible to its owner and to the owner's friends *at the time of viewing* (the friendship
table is read on every request, so unfriending takes effect at once), and never when the owner is inactive.
Anyone else gets the same "not found" as for an unknown id.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet

from socialsite.errors import NotFound

from ..models import Friendship, Share

MAX_ID = 2**63 - 1


def shares_visible_to(*, viewer: AbstractBaseUser) -> QuerySet[Share]:
    """Shares `viewer` may see, as one query (the friend list is a subquery, whatever its size)."""
    friends = Friendship.objects.filter(user_id=viewer.pk).values("friend_id")
    return Share.objects.filter(Q(owner_id=viewer.pk) | Q(owner_id__in=friends), owner__is_active=True)


def share_get(*, viewer: AbstractBaseUser, share_id: int) -> Share:
    """One share `viewer` may see, with its owner, in one query.

    Raises:
        NotFound: no such share, or not visible to `viewer` (the two look the same).
    """
    share = None
    if 0 < share_id <= MAX_ID:  # a larger number is nobody's share (and the database would refuse it)
        share = shares_visible_to(viewer=viewer).select_related("owner").filter(pk=share_id).first()
    if share is None:
        raise NotFound("No such share.")
    return share


def shares_of(*, viewer: AbstractBaseUser, owner: AbstractBaseUser) -> QuerySet[Share]:
    """`owner`'s shares as `viewer` may see them (none unless the viewer is the owner or a friend), newest
    first, the owner loaded in the same query: a profile's shares (page it: count + slice)."""
    shares = shares_visible_to(viewer=viewer).filter(owner_id=owner.pk)
    return shares.select_related("owner").order_by("-created_at", "-id")


def shares_feed(*, viewer: AbstractBaseUser) -> QuerySet[Share]:
    """My friends' shares and mine, newest first, owners loaded in the same query (page it: count + slice)."""
    return shares_visible_to(viewer=viewer).select_related("owner").order_by("-created_at", "-id")
