"""The live friend graph: the friendships between two active users.

A deactivated user keeps its friendship rows (a reactivation brings them back), but is treated like a
deleted one everywhere: shown nowhere, and absent from everything derived from the graph — the Redis
friend sets, suggestions (neither suggested nor a mutual friend, nor a bridge between its friends) and
mutual friends. Every reader that derives data from the friendship table reads it through
`live_friendships` (the pair sync, the friend-set rebuild, the consistency check), so they all agree on
what the graph is; the full suggestions rebuild applies the same rule to the table's rows itself, against
the active users' ids (`friends.suggestions.rebuild.friendship_arrays`: the joins were its slowest step).
"""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Friendship


def live_friendships() -> QuerySet[Friendship]:
    """Friendship rows (both directions, as stored) whose two users are active: one join on the user table."""
    return Friendship.objects.filter(user__is_active=True, friend__is_active=True)
