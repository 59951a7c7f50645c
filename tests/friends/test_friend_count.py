"""Every user's number of active friends (`friends.models.FriendCount`), kept by database triggers
(migration 0008), equals a count of the friendship table after every kind of write, on PostgreSQL and on
SQLite (the demo's database): the services, the bulk loader, queryset writes, a deactivation and a
reactivation, a user's deletion; a friendship's users cannot change, and TRUNCATE empties the counts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import Count
from django.utils import timezone

from accounts import services as accounts_services
from friends import bulk, services
from friends.models import FriendCount, Friendship
from tests.support.sqlite_site import run_on_new_sqlite

User = get_user_model()


def _agree(step: str) -> None:
    """The stored counts equal the table's: for each user, their friendship rows whose friend is active
    (a user without such a row has none, or a row holding 0)."""
    truth = dict(
        Friendship.objects.filter(friend__is_active=True)
        .values("user_id")
        .annotate(n=Count("*"))
        .values_list("user_id", "n")
    )
    stored = {user_id: n for user_id, n in FriendCount.objects.values_list("user_id", "friends") if n}
    assert stored == truth, f"after {step}: stored {stored}, table {truth}"


def scenario() -> str:
    """Every kind of write, each followed by the check; returns "ok". Run here on PostgreSQL and, by
    `run_on_new_sqlite`, in a child process on a new SQLite database."""
    a, b, c, d, e = (User.objects.create_user(name, password="x" * 12) for name in "abcde")
    z = User.objects.create_user("z", password="x" * 12, is_active=False)
    for one, other in ((a, b), (a, c), (a, d), (b, c)):
        services.friendship_create(user=one, friend=other)
    _agree("friendships made by the service")
    request = services.friend_request_send(from_user=e, to_user=a)
    services.friend_request_accept(request_id=request.pk, user=a)
    _agree("a request accepted")
    services.friendship_remove(user=a, friend=d)
    _agree("an unfriend")
    services.block_create(blocker=c, blocked=a)
    _agree("a block, which ends a friendship")
    accounts_services.user_deactivate(user=b)
    assert FriendCount.objects.get(user=a).friends == 1  # e only: b is inactive
    _agree("a deactivation")
    accounts_services.user_reactivate(user=b)
    _agree("a reactivation")
    User.objects.filter(pk__in=[b.pk, d.pk]).update(is_active=False)
    _agree("a queryset deactivating two users")
    User.objects.filter(pk__in=[b.pk, d.pk]).update(is_active=True)
    _agree("a queryset reactivating them")
    now = timezone.now()
    Friendship.objects.bulk_create(
        [Friendship(user=a, friend=z, is_friend_since=now), Friendship(user=z, friend=a, is_friend_since=now)]
    )
    _agree("rows written in bulk with an inactive friend")
    bulk.graph_load(edges=[(900, 901), (900, 902), (901, 902), (900, 903)], username_prefix="g")
    bulk.graph_load(edges=[(900, 901), (902, 904)], username_prefix="g")  # again: only the new pair counts
    _agree("the bulk loader, twice")
    Friendship.objects.filter(user__username="g900").delete()  # one side of three pairs, in one statement
    Friendship.objects.filter(friend__username="g900").delete()
    _agree("a queryset deleting rows of several users")
    Friendship.objects.filter(user=a, friend=e).update(is_friend_since=now - timedelta(days=3))
    _agree("a friendship's date changed")
    accounts_services.user_delete(user=e)
    _agree("a user deleted with their friendships")
    refused = False
    try:
        with transaction.atomic():
            Friendship.objects.filter(user=a, friend=b).update(friend=d)
    except IntegrityError as exc:
        refused = "never change" in str(exc)
    assert refused, "a friendship's users changed in place"
    _agree("a refused change of a friendship's users")
    return "ok"


@pytest.mark.django_db
def test_counts_follow_every_kind_of_write_on_postgresql():
    assert connection.vendor == "postgresql"
    assert scenario() == "ok"


@pytest.mark.django_db(transaction=True)
def test_truncating_the_friendships_empties_the_counts(alice, bob):
    services.friendship_create(user=alice, friend=bob)
    assert FriendCount.objects.filter(friends=1).count() == 2
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {Friendship._meta.db_table}")
    assert not FriendCount.objects.exists()
    services.friendship_create(user=alice, friend=bob)
    _agree("a truncation and a new friendship")


def test_counts_follow_every_kind_of_write_on_a_new_sqlite_database(tmp_path):
    script = "from tests.friends.test_friend_count import scenario; print(scenario())"
    assert run_on_new_sqlite(tmp_path, script).strip().splitlines()[-1] == "ok"
