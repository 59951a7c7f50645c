"""Factories for friend graphs: users in bulk, friendships in bulk or through the services, and the
derived Redis data filled by the product's own computations.

Two ways to make friends, on purpose:

- `befriend(*pairs)` writes both friendship rows of each pair in one `bulk_create`, as the bulk import
  (`friends.bulk`) does: no event, no Redis. Fast, for tests that set a scene and then read it.
- `make_graph(..., through="services")` calls `friendship_create` per edge: each friendship emits its
  event, for tests about what the events do (deliver them with the `deliver_events` fixture, or let a
  real worker take them in the integration tier).

The fixtures of the same names in tests/conftest.py hand these out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from friends import services
from friends.models import FriendRequest, Friendship

User = get_user_model()

Pair = tuple[AbstractBaseUser, AbstractBaseUser]
Edge = str | tuple[str, str]
"""An edge between two users by name: ("alice", "bob"), or "ab" for one-letter names."""


def make_users(n: int, prefix: str = "user") -> list[AbstractBaseUser]:
    """`n` users `<prefix>0000`… in one statement, without a usable password (they never log in)."""
    return User.objects.bulk_create([User(username=f"{prefix}{i:04}", password="!") for i in range(n)])


def befriend(*pairs: Pair) -> None:
    """Both rows of each friendship, in one bulk statement; no event is emitted and Redis is not touched."""
    since = timezone.now()
    Friendship.objects.bulk_create(
        [Friendship(user=a, friend=b, is_friend_since=since) for a, b in pairs]
        + [Friendship(user=b, friend=a, is_friend_since=since) for a, b in pairs]
    )


def give_friends(user: AbstractBaseUser, n: int) -> list[AbstractBaseUser]:
    """`n` new friends for `user` (named `<username>-friend0000`…), written in bulk; returns them."""
    friends = make_users(n, f"{user.username}-friend")
    befriend(*[(user, friend) for friend in friends])
    return friends


def make_graph(
    edges: Iterable[Edge],
    *,
    make_user: Callable[[str], AbstractBaseUser],
    names: Sequence[str] = (),
    through: str = "bulk",
) -> dict[str, AbstractBaseUser]:
    """Users by name and the friendships between them; returns every user by name.

    `names` are created first, in that order (user ids follow it, and ids break ranking ties), then
    any other name in the order the edges mention it. `through="bulk"` writes the rows with
    `befriend`; `through="services"` calls `friendship_create` per edge, so each one emits its event.
    """
    if through not in ("bulk", "services"):
        raise ValueError(f"through must be 'bulk' or 'services', not {through!r}")
    pairs = [tuple(edge) for edge in edges]
    users: dict[str, AbstractBaseUser] = {}
    for name in [*names, *(name for pair in pairs for name in pair)]:
        if name not in users:
            users[name] = make_user(name)
    if through == "bulk":
        befriend(*[(users[x], users[y]) for x, y in pairs])
    else:
        for x, y in pairs:
            services.friendship_create(user=users[x], friend=users[y])
    return users


# --- What users do to each other, by verb ----------------------------------------------------------


def _accept(user: AbstractBaseUser, sender: AbstractBaseUser) -> object:
    request = FriendRequest.objects.get(from_user=sender, to_user=user, state=FriendRequest.State.PENDING)
    return services.friend_request_accept(request_id=request.pk, user=user)


ACTIONS: dict[str, Callable[[AbstractBaseUser, AbstractBaseUser], object]] = {
    "befriend": lambda a, b: services.friendship_create(user=a, friend=b),
    "unfriend": lambda a, b: services.friendship_remove(user=a, friend=b),
    "request": lambda a, b: services.friend_request_send(from_user=a, to_user=b),
    "accept": _accept,  # a accepts b's pending request
    "block": lambda a, b: services.block_create(blocker=a, blocked=b),
    "unblock": lambda a, b: services.block_remove(blocker=a, blocked=b),
    "dismiss": lambda a, b: services.suggestion_dismiss(user=a, dismissed=b),
}


def act(verb: str, a: AbstractBaseUser, b: AbstractBaseUser) -> object:
    """`a` does `verb` (a key of ACTIONS) to `b`, through the service the page or endpoint calls; returns
    what the service returns, and lets its ServiceError through."""
    return ACTIONS[verb](a, b)


# --- Derived data in Redis, filled by the product's own computations --------------------------------


def fill_suggestions(*users: AbstractBaseUser) -> None:
    """Fresh cached suggestions for these users: the Redis friend and exclusion sets rebuilt, then their
    recompute."""
    from friends import exclusions, friend_sets
    from friends.suggestions import compute

    friend_sets.friend_sets_rebuild()
    exclusions.exclusions_rebuild()
    compute.suggestions_recompute([u.pk for u in users])


def fill_mutual(a: AbstractBaseUser, b: AbstractBaseUser) -> None:
    """A fresh cached mutual-friends entry for the pair."""
    from friends import friend_sets
    from friends.suggestions import compute

    friend_sets.friend_sets_rebuild()
    compute.mutual_recompute(a.pk, b.pk)


def crowd(alice: AbstractBaseUser, bob: AbstractBaseUser, n: int) -> None:
    """alice and bob share `n` friends; each of those has one more friend alice does not know, so alice
    has n + 1 suggestions (bob first, with n mutual friends). Her suggestions and the pair's mutual
    friends are cached."""
    from friends.suggestions import compute

    friends, strangers = make_users(n, "f"), make_users(n, "s")
    befriend(*[(alice, f) for f in friends], *[(bob, f) for f in friends], *zip(friends, strangers, strict=True))
    fill_suggestions(alice)
    compute.mutual_recompute(alice.pk, bob.pk)
