"""Rows of the friend pages, ready to print: names, links, dates and button targets as plain strings.

A page shows as many as 50 people; with a `{% url %}`, an `{% include %}` and a `{% csrf_token %}` per
row, rendering cost more than reading the data (a `/friends/` of 50 friends: ~50 ms in-process). Here
each link is filled from a pattern reversed once per page (`socialsite.routes.Route`) and each date is
formatted once, so a template row only prints dict entries; the buttons of a list share one form (one
CSRF token) and name their own target with `formaction`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from functools import lru_cache
from urllib.parse import urlencode

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone, translation
from django.utils.dates import MONTHS_3
from django.utils.safestring import SafeString
from markupsafe import escape

from accounts import people
from socialsite.routes import Route


@lru_cache(maxsize=16)
def _months(language: str | None) -> dict[int, str]:
    # Translated once per language for the process (twelve look-ups through the translation catalogue).
    return {number: str(name).title() for number, name in MONTHS_3.items()}


class Dates:
    """Dates as `{{ value|date:"j M Y" }}` and `{{ value|date:"c" }}` print them (current time zone and
    language), with the month names translated once per page: `dateformat.format` parses its format and
    translates the month on every call (~60 µs; 100 calls on a friends page)."""

    def __init__(self) -> None:
        self._months = _months(translation.get_language())
        # Read once: the current time zone lives in a context-local (asgiref), ~2 µs a read.
        self._zone = timezone.get_current_timezone()

    def __call__(self, value: datetime) -> tuple[str, str]:
        """("4 Mar 2026", "2026-03-04T10:00:00+00:00")."""
        if value.tzinfo is None:  # SQLite's raw rows (prepared queries) hold UTC without its zone
            value = value.replace(tzinfo=UTC)
        local = value.astimezone(self._zone)
        return f"{local.day} {self._months[local.month]} {local.year:04d}", local.isoformat()


class Links:
    """The routes a page's rows use, each reversed once for the page."""

    def __init__(self) -> None:
        self.profile = Route("profile", str)
        self.unfriend = Route("unfriend", str)
        self.unblock = Route("unblock", str)
        self.block = Route("block", str)
        self.send_request = Route("send-request", str)
        self.dismiss = Route("dismiss-suggestion", str)
        self.request_action = Route("request-action", int, str)
        self.date = Dates()

    def person(self, user: AbstractBaseUser) -> dict[str, str]:
        """The user's handle, profile link, display name and the linked "Name @handle" markup
        (`accounts.people`, built with the page's one profile pattern)."""
        return self.named(user.get_username(), people.display_name(user))

    def named(self, username: str, name: str) -> dict[str, str]:
        """`person` from the handle and the display name (`people.display_name`)."""
        url = self.profile(username)
        return {"username": username, "url": url, "name": name, "person": people.name_html(name, username, url)}

    def listed(self, username: str, first_name: str, last_name: str) -> dict[str, str]:
        """`person` from a list query's name columns (`people.NAME_FIELDS`)."""
        return self.named(username, people.name_of(username, first_name, last_name))


def next_query(path: str) -> str:
    """`next=<path>`, quoted: the query that sends a confirmation page back to `path` once it is done."""
    return urlencode({"next": path})


def friend_rows(friendships: Iterable, links: Links, *, unfriend_next: str | None = None) -> list[dict]:
    """Friendships (`pages_queries.ListedFriendship`s) as rows: the friend and since when; with
    `unfriend_next` (the page's path), also `unfriend_url`: the Unfriend confirmation page, which returns
    to that path. An unfriend always asks first, from a list as from a profile: one click on a list of 50
    names must not end a friendship."""
    back = None if unfriend_next is None else next_query(unfriend_next)
    rows = []
    for f in friendships:
        friend = f.friend
        username = friend.username
        row = links.listed(username, friend.first_name, friend.last_name)
        row["since"], row["since_iso"] = links.date(f.is_friend_since)
        if back is not None:
            row["unfriend_url"] = f"{links.unfriend(username)}?{back}"
        rows.append(row)
    return rows


def incoming_rows(requests: Iterable[tuple], links: Links) -> list[dict]:
    """`pages_queries.INCOMING` rows (id, username, first name, last name, sent at): the sender, when, and
    the accept and decline targets."""
    return [
        {
            **links.listed(username, first, last),
            "asked": links.date(at)[0],
            "accept_url": links.request_action(pk, "accept"),
            "decline_url": links.request_action(pk, "decline"),
        }
        for pk, username, first, last, at in requests
    ]


def outgoing_rows(requests: Iterable[tuple], links: Links) -> list[dict]:
    """`pages_queries.OUTGOING` rows: the receiver, when, and the cancel target."""
    return [
        {
            **links.listed(username, first, last),
            "sent": links.date(at)[0],
            "cancel_url": links.request_action(pk, "cancel"),
        }
        for pk, username, first, last, at in requests
    ]


def block_rows(blocks: Iterable[tuple], links: Links) -> list[dict]:
    """`pages_queries.BLOCKS` rows (username, first name, last name, since): the name (no link: a blocked
    profile is not for me), since when, the unblock target."""
    return [
        {
            "username": username,
            "name": people.name_of(username, first, last),
            "since": links.date(at)[0],
            "unblock_url": links.unblock(username),
        }
        for username, first, last, at in blocks
    ]


def suggestion_rows(suggestions: Iterable, links: Links) -> list[dict]:
    """`selectors.SuggestionView`s as rows: the person, the add-friend and dismiss targets, and the
    mutual friends as text, "3 mutual friends" (`mutual`) and with the sample named and linked, "3 mutual
    friends: Ana Díaz, Bo Li" (`mutual_sampled`, markup), each one string: a template row prints it
    instead of looping over the sample."""
    rows = []
    for s in suggestions:
        name = s.user.username
        mutual = f"{s.mutual_count} mutual friend{'' if s.mutual_count == 1 else 's'}"
        sample = [links.person(m) for m in s.mutual_sample]
        sampled = ", ".join(f'<a href="{escape(m["url"])}">{escape(m["name"])}</a>' for m in sample)
        rows.append(
            {
                **links.person(s.user),
                "mutual_count": s.mutual_count,
                "mutual": mutual,
                "mutual_sampled": SafeString(f"{mutual}: {sampled}" if sample else mutual),
                "sample": sample,
                "add_url": links.send_request(name),
                "dismiss_url": links.dismiss(name),
            }
        )
    return rows


def people_rows(persons: Iterable, links: Links) -> list[SafeString]:
    """`selectors.Person`s (the listed columns: username and names) as linked names, the markup alone (a
    list of mutual friends prints nothing else of a person)."""
    profile = links.profile
    return [
        people.name_html(people.name_of(p.username, p.first_name, p.last_name), p.username, profile(p.username))
        for p in persons
    ]
