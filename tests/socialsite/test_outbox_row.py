"""`DomainEvent.emit()` writes its outbox row with one precompiled INSERT (socialsite.events._insert):
the row must be exactly what `Model.save()` would have written, on PostgreSQL and on SQLite (the demo)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import transaction

from friends import events as friend_events
from socialsite.models import OutboxEvent

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_an_emitted_row_reads_back_equal_to_the_returned_event_and_is_saved_like_any_row():
    with transaction.atomic():
        event = friend_events.friendship_created.emit(user_id=1, friend_id=2)
    row = OutboxEvent.objects.get()
    assert (row.id, row.name, row.payload, row.created_at) == (
        event.id,
        "friendship.created",
        {"user_id": 1, "friend_id": 2},
        event.created_at,
    )
    assert (row.attempts, row.last_error) == (0, "")  # the StubBroker may have published it at commit
    # The instance knows it is stored: saving it again updates the row instead of inserting a duplicate.
    assert not event._state.adding
    event.last_error = "noted"
    event.save(update_fields=["last_error"])
    assert OutboxEvent.objects.get().last_error == "noted"


@pytest.mark.django_db
def test_a_rolled_back_emit_leaves_no_row():
    with pytest.raises(RuntimeError), transaction.atomic():
        friend_events.friendship_created.emit(user_id=1, friend_id=2)
        raise RuntimeError("the business write failed")
    assert not OutboxEvent.objects.exists()


SQLITE_SCRIPT = """
from django.db import transaction
from friends import events
from socialsite.models import OutboxEvent
with transaction.atomic():
    event = events.friendship_created.emit(user_id=3, friend_id=4)
row = OutboxEvent.objects.get(id=event.id)
print(row.name, row.payload, row.created_at == event.created_at, row.published_at is not None, row.attempts)
"""


def test_emit_writes_the_same_row_on_sqlite(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "socialsite.test_settings",  # the StubBroker: nothing leaves the process
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    env.pop("SOCIALSITE_TEST_BROKER", None)
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert migrate.returncode == 0, migrate.stderr
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SQLITE_SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert (
        done.stdout.split("\n")[-2] == "friendship.created {'user_id': 3, 'friend_id': 4} True True 0"
    )  # published at commit, marked
