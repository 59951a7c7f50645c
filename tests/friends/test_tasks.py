"""Friend-graph subscribers, called directly: a duplicated or reordered event has one, right, effect."""

from friends import friend_sets, services
from friends.subscribers import update_graph_after_friendship as sync_friend_sets
from socialsite.models import OutboxEvent


def event(name, **payload):
    return {"id": "00000000-0000-0000-0000-000000000001", "name": name, "payload": payload, "created_at": ""}


def test_sync_friend_sets_twice_has_one_effect(db, alice, bob):
    services.friendship_create(user=alice, friend=bob)
    created = OutboxEvent.objects.get(name="friendship.created").as_message()
    sync_friend_sets(created)
    sync_friend_sets(created)
    assert friend_sets.friend_ids(alice.pk) == {bob.pk} and friend_sets.friend_ids(bob.pk) == {alice.pk}


def test_stale_created_event_after_removal_does_not_resurrect_the_friendship(db, alice, bob):
    services.friendship_create(user=alice, friend=bob)
    created = OutboxEvent.objects.get(name="friendship.created").as_message()
    services.friendship_remove(user=alice, friend=bob)
    removed = OutboxEvent.objects.get(name="friendship.removed").as_message()
    sync_friend_sets(removed)
    sync_friend_sets(created)  # arrives late (redelivery)
    assert friend_sets.friend_ids(alice.pk) == set() and friend_sets.friend_ids(bob.pk) == set()


def test_event_about_vanished_users_changes_no_friend_set(db):
    sync_friend_sets(event("friendship.created", user_id=999991, friend_id=999992))
    assert friend_sets.friend_ids(999991) == set() and friend_sets.friend_ids(999992) == set()
