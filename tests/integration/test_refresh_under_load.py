"""The full suggestions refresh of ego-Facebook: in batches, with progress in its task status, and while it
keeps the graph workers busy a notification is still handled promptly (its own queue and worker).

The delay is printed (run with -s to see it) and goes in the README; the test only bounds the wait.
"""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils import timezone

from friends import services
from friends.models import Friendship
from friends.tasks import refresh_all_suggestions
from notifications.models import Notification
from socialsite import queues
from socialsite.models import TaskRecord
from tests.integration.conftest import wait_for

pytestmark = pytest.mark.integration
User = get_user_model()
# Queued for the graph worker's 2 threads: both stay busy for several refreshes in a row. A refresh of
# ego-Facebook takes ~0.2 s on an idle machine, so two alone could both end before the notification.
REFRESHES = 12


def notification_delay_ms(sender, receiver) -> float:
    """Send a friend request and wait for the receiver's notification; returns request -> notification time."""
    assert not Friendship.objects.filter(user=sender, friend=receiver).exists()
    sent_at = timezone.now()
    services.friend_request_send(from_user=sender, to_user=receiver)  # committed: the event is published
    note = wait_for(
        lambda: Notification.objects.filter(recipient=receiver).first(),
        timeout=30,
        interval=0.01,
        what="the friend-request notification",
    )
    ms = lambda a, b: (b - a).total_seconds() * 1000  # noqa: E731
    print(f"\n  request -> notification {ms(sent_at, note.created_at):.0f} ms")
    return ms(sent_at, note.created_at)


def test_full_refresh_reports_batches_and_a_notification_is_handled_meanwhile(start_worker):
    call_command("load_graph", "--no-progress", "--no-cache")  # 4,039 users, 88,234 friendships
    users = User.objects.filter(is_active=True).count()
    start_worker(queue_names=(queues.NOTIFICATIONS,))  # as the Procfile: a process per queue group
    start_worker(queue_names=(queues.GRAPH,), threads=2)
    notification_delay_ms(User.objects.get(username="fb3"), User.objects.get(username="fb4036"))  # warm-up
    idle_ms = notification_delay_ms(User.objects.get(username="fb2"), User.objects.get(username="fb4037"))
    ids = [refresh_all_suggestions.send().message_id for _ in range(REFRESHES)]
    refreshes = TaskRecord.objects.filter(id__in=ids)

    progress_seen: set[tuple[str, int]] = set()

    def note_progress() -> int:
        """Remember each intermediate progress value seen; returns how many refreshes are done."""
        finished = 0
        for rid, state, done in refreshes.values_list("id", "state", "progress_done"):
            if state == "running" and 0 < done < users:
                progress_seen.add((str(rid), done))
            finished += state == "done"
        return finished

    wait_for(lambda: note_progress() is not None and progress_seen, timeout=60, what="a refresh reporting progress")

    receiver = User.objects.get(username="fb4038")
    delay_ms = notification_delay_ms(User.objects.get(username="fb1"), receiver)
    note = Notification.objects.get(recipient=receiver)
    busy = refreshes.filter(started_at__lte=note.created_at).exclude(finished_at__lt=note.created_at).count()
    print(f"\nnotification after {delay_ms:.0f} ms with {busy} full refresh(es) running; idle: {idle_ms:.0f} ms")
    assert busy >= 1, "no refresh was running when the notification was handled: the test proved nothing"

    started = time.monotonic()
    wait_for(
        lambda: note_progress() == REFRESHES,
        timeout=120,
        interval=0.02,
        what="every refresh done",
    )
    for record in refreshes:
        assert record.progress_done == record.progress_total == users
        assert record.result == users
    # Progress moved in steps (batches of users written), not only from 0 to the end.
    assert len({done for _, done in progress_seen}) >= 2, progress_seen
    print(f"the refreshes finished {time.monotonic() - started:.1f} s after the notification")
