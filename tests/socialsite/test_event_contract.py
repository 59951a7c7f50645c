"""The typed event contract: payloads are declared, subscribers bind to event objects, gaps fail start-up."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core import checks

from friends import events as friend_events
from socialsite import events
from socialsite.events import DomainEvent, EventContractError, subscriber

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def scratch_registry(monkeypatch):
    """Events and subscribers declared by a test vanish with it."""
    monkeypatch.setattr(events, "EVENTS", dict(events.EVENTS))
    monkeypatch.setattr(
        events, "_SUBSCRIBERS", events.defaultdict(list, {k: list(v) for k, v in events._SUBSCRIBERS.items()})
    )


def test_a_subscriber_naming_an_event_by_string_fails_at_declaration(scratch_registry):
    with pytest.raises(EventContractError, match=r"declared DomainEvent objects, got 'friendship\.created'"):
        subscriber("friendship.created")


def test_a_subscriber_naming_an_undeclared_event_object_fails(scratch_registry):
    stray = DomainEvent("stray.happened", fields={"x": int})
    events.EVENTS.pop("stray.happened")  # as if declared in a module that was never registered
    with pytest.raises(EventContractError, match=r"stray\.happened"):
        subscriber(stray)


def test_an_event_declared_twice_fails(scratch_registry):
    with pytest.raises(EventContractError, match="declared twice"):
        DomainEvent("friendship.created", fields={"user_id": int, "friend_id": int})


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"user_id": 1}, r"missing field\(s\) \['friend_id'\]"),
        ({"user_id": 1, "friend_id": 2, "extra": 3}, r"unexpected field\(s\) \['extra'\]"),
        ({"user_id": "1", "friend_id": 2}, "user_id='1' is not int"),
        ({"user_id": True, "friend_id": 2}, "user_id=True is not int"),
    ],
)
def test_emit_refuses_a_payload_that_does_not_match_the_declaration(payload, message):
    from socialsite.models import OutboxEvent

    with pytest.raises(TypeError, match=message):
        friend_events.friendship_created.emit(**payload)
    assert not OutboxEvent.objects.exists()


def test_an_emitted_event_without_subscriber_fails_the_start_up_check(scratch_registry):
    DomainEvent("orphan.happened", fields={"x": int})
    DomainEvent("quiet.happened", fields={"x": int}, without_subscribers=True)
    errors = checks.run_checks(tags=["socialsite"])
    assert [e.id for e in errors] == ["socialsite.E001"]
    assert "'orphan.happened' has no subscriber" in errors[0].msg


def test_the_project_event_map_passes_the_start_up_check():
    assert events.check_event_contract() == []


def test_a_worker_refuses_to_boot_with_an_event_lacking_subscribers(scratch_registry):
    import dramatiq

    from socialsite.broker import OutboxRelay

    DomainEvent("orphan.happened", fields={"x": int})
    with pytest.raises(EventContractError, match=r"orphan\.happened"):
        OutboxRelay().after_process_boot(dramatiq.get_broker())


def test_the_readme_event_map_is_the_one_the_code_declares():
    """`manage.py events` (production settings, so no test-only events) prints the README's table."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "socialsite.settings", "DJANGO_DEBUG": "true"}
    printed = subprocess.run(
        [sys.executable, "manage.py", "events"], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    ).stdout.strip()
    readme = (ROOT / "README.md").read_text()
    table = re.search(r"<!-- event-map -->\n(.*?)\n<!-- /event-map -->", readme, re.S)
    assert table, "README.md has no <!-- event-map --> section"
    assert table.group(1).strip() == printed


def test_a_subscriber_owner_field_must_be_an_int_field_of_its_events(scratch_registry):
    with pytest.raises(EventContractError, match=r"owner_field='user' is not an int field of 'friendship\.created'"):
        subscriber(friend_events.friendship_created, owner_field="user")


@pytest.mark.django_db
def test_a_subscriber_with_an_owner_field_sends_messages_its_owner_may_track(scratch_registry):
    owned = DomainEvent("owned.happened", fields={"who": int, "what": int})

    @subscriber(owned, owner_field="who", max_retries=0)
    def handle_owned(event):
        return None

    @subscriber(owned, max_retries=0)
    def handle_unowned(event):
        return None

    event = owned.emit(who=7, what=8)
    assert events.subscriber_message(event, handle_owned).options == {"event_id": str(event.id), "owner_id": 7}
    assert events.subscriber_message(event, handle_unowned).options == {"event_id": str(event.id)}
    assert events.subscriber_message(event, handle_owned).message_id == str(
        events.subscriber_message_id(event, handle_owned)
    )
