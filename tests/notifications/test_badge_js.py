"""The badge's live update, client side: static/js/badge.js run by Node against a fake page and fake
server answers (skipped where Node is not installed). The server side is in test_api.py / test_pages.py."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NODE = shutil.which("node")


def run_badge(responses: list[dict]) -> list[dict]:
    result = subprocess.run(
        [
            NODE,
            str(Path(__file__).parent / "js" / "badge_harness.js"),
            str(ROOT / "static/js/badge.js"),
            json.dumps(responses),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return {s["step"]: s for s in json.loads(result.stdout)}


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed")
def test_badge_polls_conditionally_every_4s_updates_on_change_and_slows_down_when_hidden():
    steps = run_badge(
        [
            {"status": 304},
            {"status": 200, "etag": '"n-new"', "body": {"unread_count": 3}},
            {"status": 304},
            {"status": 200, "etag": '"n-zero"', "body": {"unread_count": 0}},
        ]
    )
    loaded = steps["loaded"]
    assert loaded["next_poll_ms"] == 4000 and loaded["requests"] == 0  # within 5 s of any change
    # First poll sends the ETag the page was rendered with; unchanged -> nothing moves.
    assert steps["poll 1"]["last_if_none_match"] == '"n-page"'
    assert (steps["poll 1"]["text"], steps["poll 1"]["hidden"]) == ("0", True)
    # A new notification: the count appears without a reload.
    assert (steps["poll 2"]["text"], steps["poll 2"]["hidden"]) == ("3", False)
    assert steps["poll 2"]["label"] == "3 unread"  # the accessible name says the number, not just "unread"
    # The next poll revalidates with the new ETag.
    assert steps["poll 3"]["last_if_none_match"] == '"n-new"' and steps["poll 3"]["text"] == "3"
    # A hidden tab polls once a minute; coming back polls at once.
    assert steps["tab hidden"]["next_poll_ms"] == 60000 and steps["tab hidden"]["requests"] == 3
    back = steps["tab visible again"]
    assert back["requests"] == 4 and (back["text"], back["hidden"]) == ("0", True) and back["next_poll_ms"] == 4000


@pytest.mark.skipif(NODE is None, reason="Node.js is not installed")
def test_badge_stops_polling_once_logged_out():
    steps = run_badge([{"status": 403}, {"status": 200, "body": {"unread_count": 9}}, {"status": 200}, {"status": 200}])
    assert steps["poll 1"]["next_poll_ms"] is None and steps["poll 1"]["text"] == "0"
    assert steps["poll 3"]["requests"] == 1  # no further polls
