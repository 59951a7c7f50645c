"""Writes to the friend graph. Each service is one transaction and emits its domain events.

Concurrency: every service that touches a pair of users first locks both user rows in id order
(`_lock_pair`), so two accepts of one request, or two crossing requests, are serialised and end with
exactly one friendship, and no two services can deadlock on the same pair.

Those locks, and the lock on a request row, are `FOR NO KEY UPDATE`, not `FOR UPDATE`: they serialise the
services as well, but do not conflict with the `FOR KEY SHARE` locks that any foreign-key insert takes on
the rows it references. The notification worker inserts a request's notification while these services
run, and its foreign-key checks lock the sender before the receiver whatever their ids; with `FOR UPDATE`
the two waited on each other and PostgreSQL answered one of them `DeadlockDetected` (a 500; issue 10,
tests/integration/test_request_race.py). No key column is ever updated here, so the weaker lock is exact.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from socialsite.errors import Conflict, Forbidden, NotFound, ServiceError

from . import events, selectors
from .models import Block, FriendRequest, Friendship, SuggestionDismissal

User = get_user_model()
Pending = FriendRequest.State.PENDING


def _lock_pair(a_id: int, b_id: int) -> None:
    """Lock both users' rows in id order (`FOR NO KEY UPDATE`, see the module doc) until the transaction ends."""
    pair = User.objects.select_for_update(no_key=True).filter(id__in=(a_id, b_id)).order_by("id")
    list(pair.values_list("id", flat=True))


def _inactive_among(*user_ids: int) -> set[int]:
    """Which of these users are deactivated, read after `_lock_pair` (the deactivation locks the user
    row too, so this sees it committed or not at all): a deactivated user is treated like a deleted one."""
    return set(User.objects.filter(pk__in=user_ids, is_active=False).values_list("pk", flat=True))


def _check_not_self(user: AbstractBaseUser, other: AbstractBaseUser, what: str) -> None:
    if user.pk == other.pk:
        raise ServiceError(f"You cannot {what} yourself.", code="self")


@transaction.atomic
def friend_request_send(*, from_user: AbstractBaseUser, to_user: AbstractBaseUser) -> FriendRequest:
    """Send a request; a pending request in the other direction is accepted instead."""
    _check_not_self(from_user, to_user, "send a friend request to")
    _lock_pair(from_user.pk, to_user.pk)
    if _inactive_among(from_user.pk, to_user.pk) or Block.objects.filter(blocker=to_user, blocked=from_user).exists():
        # The views found them visible a moment ago; answer as they would now, never "blocked".
        raise selectors.not_visible(to_user.username)
    if Block.objects.filter(blocker=from_user, blocked=to_user).exists():
        raise Conflict(f"You have blocked {to_user.username}; unblock them first.", code="blocking")
    if Friendship.objects.filter(user=from_user, friend=to_user).exists():
        raise Conflict(f"You are already friends with {to_user.username}.", code="already_friends")
    if FriendRequest.objects.filter(from_user=from_user, to_user=to_user, state=Pending).exists():
        raise Conflict(f"You already sent {to_user.username} a friend request.", code="duplicate")
    crossing = FriendRequest.objects.filter(from_user=to_user, to_user=from_user, state=Pending).first()
    if crossing is not None:
        _accept_locked(crossing)
        return crossing
    request = FriendRequest.objects.create(from_user=from_user, to_user=to_user)
    events.friend_request_sent.emit(request_id=request.pk, from_user_id=from_user.pk, to_user_id=to_user.pk)
    return request


_NOT_YOURS = {
    # (role the action needs) -> what the request's other party is told
    "to_user": "You sent this request: only the person you sent it to can accept or decline it.",
    "from_user": "This request was sent to you: decline it instead.",
}


def _locked_request(*, request_id: int, user: AbstractBaseUser, role: str) -> FriendRequest:
    """Load a request the user takes part in as `role`, with its pair locked. Others' ids are 404s, and so
    is a request with a deactivated user (it is nobody's now: never accepted, as for a deleted user).

    Raises:
        NotFound: not a request of `user`'s (or a deactivated user's).
        Forbidden: code `not_yours`: `user` is the request's other party (the sender accepting or
            declining, the receiver cancelling), who knows it exists: told why, not "no such request".
    """
    request = FriendRequest.objects.filter(pk=request_id, **{role: user}).first()
    if request is None:
        other_role = "from_user" if role == "to_user" else "to_user"
        if isinstance(request_id, int) and FriendRequest.objects.filter(pk=request_id, **{other_role: user}).exists():
            raise Forbidden(_NOT_YOURS[role], code="not_yours")
        raise NotFound("No such friend request.")
    _lock_pair(request.from_user_id, request.to_user_id)
    live = FriendRequest.objects.filter(pk=request.pk, from_user__is_active=True, to_user__is_active=True)
    request = live.select_for_update(of=("self",), no_key=True).first()
    if request is None:
        raise NotFound("No such friend request.")
    return request


@transaction.atomic
def friend_request_accept(*, request_id: int, user: AbstractBaseUser) -> FriendRequest:
    """Accept a request sent to `user`. Accepting twice is not an error: the friendship exists."""
    request = _locked_request(request_id=request_id, user=user, role="to_user")
    if request.state == FriendRequest.State.ACCEPTED:
        return request
    if request.state != Pending:
        raise Conflict(f"This request was {request.state}.", code=request.state)
    _accept_locked(request)
    return request


def _accept_locked(request: FriendRequest) -> None:
    request.state = FriendRequest.State.ACCEPTED
    request.responded_at = timezone.now()
    request.save(update_fields=["state", "responded_at"])
    events.friend_request_accepted.emit(
        request_id=request.pk, from_user_id=request.from_user_id, to_user_id=request.to_user_id
    )
    _friendship_create_locked(request.from_user_id, request.to_user_id)


@transaction.atomic
def friend_request_decline(*, request_id: int, user: AbstractBaseUser) -> FriendRequest:
    request = _locked_request(request_id=request_id, user=user, role="to_user")
    return _close_request(request, FriendRequest.State.DECLINED, events.friend_request_declined)


@transaction.atomic
def friend_request_cancel(*, request_id: int, user: AbstractBaseUser) -> FriendRequest:
    request = _locked_request(request_id=request_id, user=user, role="from_user")
    return _close_request(request, FriendRequest.State.CANCELLED, events.friend_request_cancelled)


def _close_request(request: FriendRequest, state: str, event) -> FriendRequest:
    if request.state == state:
        return request
    if request.state != Pending:
        raise Conflict(f"This request was already {request.state}.", code=request.state)
    request.state = state
    request.responded_at = timezone.now()
    request.save(update_fields=["state", "responded_at"])
    event.emit(request_id=request.pk, from_user_id=request.from_user_id, to_user_id=request.to_user_id)
    return request


def _friendship_create_locked(a_id: int, b_id: int) -> bool:
    if Friendship.objects.filter(user_id=a_id, friend_id=b_id).exists():
        return False
    since = timezone.now()
    Friendship.objects.bulk_create(
        [
            Friendship(user_id=a_id, friend_id=b_id, is_friend_since=since),
            Friendship(user_id=b_id, friend_id=a_id, is_friend_since=since),
        ]
    )
    events.friendship_created.emit(user_id=a_id, friend_id=b_id)
    return True


@transaction.atomic
def friendship_create(*, user: AbstractBaseUser, friend: AbstractBaseUser) -> bool:
    """Make two users friends directly (admin, demo data); False if they already were."""
    _check_not_self(user, friend, "befriend")
    _lock_pair(user.pk, friend.pk)
    if _inactive_among(user.pk, friend.pk):
        raise Conflict("A deactivated user cannot make friends; reactivate them first.", code="inactive")
    if Block.objects.filter(Q(blocker=user, blocked=friend) | Q(blocker=friend, blocked=user)).exists():
        raise Conflict("One of these users blocks the other.", code="blocked")
    return _friendship_create_locked(user.pk, friend.pk)


def _friendship_remove_locked(a_id: int, b_id: int) -> bool:
    deleted, _ = Friendship.objects.filter(Q(user_id=a_id, friend_id=b_id) | Q(user_id=b_id, friend_id=a_id)).delete()
    if deleted:
        events.friendship_removed.emit(user_id=a_id, friend_id=b_id)
    return bool(deleted)


@transaction.atomic
def friendship_remove(*, user: AbstractBaseUser, friend: AbstractBaseUser) -> None:
    """Unfriend: both rows go in one transaction."""
    _lock_pair(user.pk, friend.pk)
    if not _friendship_remove_locked(user.pk, friend.pk):
        raise NotFound(f"You are not friends with {friend.username}.")


@transaction.atomic
def block_create(*, blocker: AbstractBaseUser, blocked: AbstractBaseUser) -> Block:
    """Block a user: ends the friendship and closes pending requests either way."""
    _check_not_self(blocker, blocked, "block")
    _lock_pair(blocker.pk, blocked.pk)
    block = Block.objects.filter(blocker=blocker, blocked=blocked).first()
    if block is not None:
        raise Conflict(f"You have already blocked {blocked.username}.", code="duplicate")
    block = Block.objects.create(blocker=blocker, blocked=blocked)
    _friendship_remove_locked(blocker.pk, blocked.pk)
    pending = FriendRequest.objects.filter(
        Q(from_user=blocker, to_user=blocked) | Q(from_user=blocked, to_user=blocker), state=Pending
    )
    for request in pending.select_for_update(no_key=True):
        _close_request(request, FriendRequest.State.CANCELLED, events.friend_request_cancelled)
    events.block_created.emit(blocker_id=blocker.pk, blocked_id=blocked.pk)
    return block


@transaction.atomic
def block_remove(*, blocker: AbstractBaseUser, blocked: AbstractBaseUser) -> None:
    _lock_pair(blocker.pk, blocked.pk)
    deleted, _ = Block.objects.filter(blocker=blocker, blocked=blocked).delete()
    if not deleted:
        raise NotFound(f"You have not blocked {blocked.username}.")
    events.block_removed.emit(blocker_id=blocker.pk, blocked_id=blocked.pk)


@transaction.atomic
def suggestion_dismiss(*, user: AbstractBaseUser, dismissed: AbstractBaseUser) -> SuggestionDismissal:
    """Never suggest `dismissed` to `user` again; dismissing twice is not an error.

    Raises:
        ServiceError: `dismissed` is the user (code `self`).
        Conflict: they are friends (code `already_friends`): a friend is never suggested, so there is
            nothing to dismiss, and a dismissal kept would outlive an unfriending unasked.
    """
    _check_not_self(user, dismissed, "dismiss")
    if Friendship.objects.filter(user=user, friend=dismissed).exists():
        raise Conflict(
            f"You are already friends with {dismissed.username}: only people you may know can be dismissed.",
            code="already_friends",
        )
    dismissal, created = SuggestionDismissal.objects.get_or_create(user=user, dismissed=dismissed)
    if created:
        events.suggestion_dismissed.emit(user_id=user.pk, dismissed_id=dismissed.pk)
    return dismissal
