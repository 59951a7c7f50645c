"""Usernames: one normal form, names nobody may sign up with, and names that make a working link.

Why NFKC: a full-width "alice" (U+FF41...), "fiona" typed with the "fi" ligature (U+FB01) and "alice"
with a superscript two look like, or are typed as, "alice", "fiona" and "alice2". Django's log-in form
and admin forms already fold names to NFKC, so an account stored under an un-normalised name could
never log in through them; every path that stores or looks up a name (sign-up on the page and the API,
the admin, every log-in) therefore uses `username_normalize`.

Uniqueness ignoring letter case is enforced by the database (a unique index on `LOWER(username)`,
migration `accounts.0002_username_lower_unique`); the checks here only give a readable message first.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import QuerySet, Value
from django.db.models.functions import Lower

from socialsite.errors import ServiceError

User = get_user_model()
MAX_LENGTH = User._meta.get_field("username").max_length

# Names of the site's own paths and roles: a user called "admin", "api" or "settings" would look like
# the site speaking (and `/u/me/` like a page of mine). Compared after NFKC and case folding.
RESERVED = frozenset(
    {
        "admin",
        "administrator",
        "root",
        "api",
        "static",
        "media",
        "login",
        "logout",
        "signup",
        "u",
        "me",
        "settings",
        "notifications",
        "shares",
        "stats",
        "tasks",
        "healthz",
        "friends",
        "requests",
        "suggestions",
        "staff",
        "support",
        "security",
        "system",
        "anonymous",
    }
)
# `.` and `..` (and any all-dot name) are path segments a browser or proxy collapses: `/u/../` would not
# reach the profile. Everything else Django's validator allows (letters, digits, `@.+-_`) is safe in a
# path segment.
_ONLY_DOTS = re.compile(r"^\.+$")


def named(queryset: QuerySet, name: Any) -> QuerySet:
    """The users of `queryset` named `name` whatever the letter case (`/u/ALICE/` is alice, "Alice" logs
    in as alice, "ALICE" is taken at sign-up): `LOWER(username) = LOWER(name)`, the expression of the
    unique index of migration 0002, which the look-up uses (Django's `iexact` compares UPPER() and reads
    the whole table). `name` may be a value or an expression (a prepared query's sentinel)."""
    return queryset.alias(username_lower=Lower("username")).filter(username_lower=Lower(Value(name)))


def username_normalize(name: str) -> str:
    """The stored form of a typed name: NFKC, surrounding white space removed."""
    return unicodedata.normalize("NFKC", name).strip()


def username_is_reserved(name: str) -> bool:
    return username_normalize(name).casefold() in RESERVED


def username_check(name: str) -> None:
    """Refuse a (normalised) name that may not be signed up with; says why in a sentence.

    Raises:
        ServiceError: code "username": empty, too long, characters Django's validator refuses, reserved,
            or not usable in a `/u/<name>/` link.
    """
    if not name:
        raise ServiceError("A username is required.", code="username")
    if len(name) > MAX_LENGTH:
        raise ServiceError(f"A username has at most {MAX_LENGTH} characters.", code="username")
    try:
        User.username_validator(name)
    except ValidationError as exc:
        raise ServiceError(" ".join(exc.messages), code="username") from exc
    if _ONLY_DOTS.match(name):
        raise ServiceError("A username cannot be made of dots only.", code="username")
    if name.casefold() in RESERVED:
        raise ServiceError("That username is reserved.", code="username")
