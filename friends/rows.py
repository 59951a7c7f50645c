"""Rows of the friend pages, ready to print: names, links, dates and button targets as plain strings.

A page shows as many as 50 people; with a `{% url %}`, an `{% include %}` and a `{% csrf_token %}` per
row, rendering cost more than reading the data (a `/friends/` of 50 friends: ~50 ms in-process). Here
each link is filled from a pattern reversed once per page (`socialsite.routes.Route`) and each date is
formatted once, so a template row only prints dict entries; the buttons of a list share one form (one
CSRF token) and name their own target with `formaction`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.utils import dateformat, timezone

from accounts import people
from socialsite.routes import Route


def _date(value: datetime) -> str:
    """As `{{ value|date:"j M Y" }}` prints it (in the current time zone)."""
    return dateformat.format(timezone.localtime(value), "j M Y")


def _iso(value: datetime) -> str:
    """As `{{ value|date:"c" }}` prints it."""
    return timezone.localtime(value).isoformat()


class Links:
    """The routes a page's rows use, each reversed once for the page."""

    def __init__(self) -> None:
        self.profile = Route("profile", str)
        self.unfriend = Route("unfriend", str)
        self.unblock = Route("unblock", str)
        self.send_request = Route("send-request", str)
        self.dismiss = Route("dismiss-suggestion", str)
        self.request_action = Route("request-action", int, str)

    def person(self, user: AbstractBaseUser) -> dict[str, str]:
        """The user's handle, profile link, display name and the linked "Name @handle" markup
        (`accounts.people`, built with the page's one profile pattern)."""
        username = user.get_username()
        url = self.profile(username)
        return {
            "username": username,
            "url": url,
            "name": people.display_name(user),
            "person": people.person_html(user, url),
        }


def friend_rows(friendships: Iterable, links: Links, *, with_unfriend: bool) -> list[dict]:
    """Friendships (`friend` selected) as rows: the friend, since when, and the unfriend target."""
    rows = []
    for f in friendships:
        name = f.friend.username
        row = {**links.person(f.friend), "since": _date(f.is_friend_since), "since_iso": _iso(f.is_friend_since)}
        if with_unfriend:
            row["unfriend_url"] = links.unfriend(name)
        rows.append(row)
    return rows


def incoming_rows(requests: Iterable, links: Links) -> list[dict]:
    """Requests to me: the sender, when, and the accept and decline targets."""
    return [
        {
            **links.person(r.from_user),
            "asked": _date(r.created_at),
            "accept_url": links.request_action(r.id, "accept"),
            "decline_url": links.request_action(r.id, "decline"),
        }
        for r in requests
    ]


def outgoing_rows(requests: Iterable, links: Links) -> list[dict]:
    """My requests: the receiver, when, and the cancel target."""
    return [
        {
            **links.person(r.to_user),
            "sent": _date(r.created_at),
            "cancel_url": links.request_action(r.id, "cancel"),
        }
        for r in requests
    ]


def block_rows(blocks: Iterable, links: Links) -> list[dict]:
    """People I block: the name (no link: a blocked profile is not for me), since when, the unblock target."""
    return [
        {
            "username": b.blocked.username,
            "name": people.display_name(b.blocked),
            "since": _date(b.created_at),
            "unblock_url": links.unblock(b.blocked.username),
        }
        for b in blocks
    ]


def suggestion_rows(suggestions: Iterable, links: Links) -> list[dict]:
    """`selectors.SuggestionView`s as rows: the person, the mutual-friend count and sample, the add-friend
    and dismiss targets."""
    rows = []
    for s in suggestions:
        name = s.user.username
        rows.append(
            {
                **links.person(s.user),
                "mutual_count": s.mutual_count,
                "plural": "" if s.mutual_count == 1 else "s",
                "sample": [links.person(m) for m in s.mutual_sample],
                "add_url": links.send_request(name),
                "dismiss_url": links.dismiss(name),
            }
        )
    return rows


def people_rows(users: Iterable, links: Links) -> list[dict]:
    """Users as linked names (mutual friends)."""
    return [links.person(u) for u in users]
