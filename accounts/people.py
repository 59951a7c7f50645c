"""How a person is named on the pages: a display name (first and last name) with the @username beside it.

Usernames are stable handles (`fb12`); the display name is what people read. A user without a name
(most sign-ups) is shown by username alone. One module, so every page names people the same way.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote

from django.contrib.auth.models import AbstractBaseUser
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.safestring import SafeString
from markupsafe import escape

# Fields a list of people needs loaded (selectors use it in `.only(...)`), so naming costs no query.
NAME_FIELDS = ("username", "first_name", "last_name")
_SENTINEL = "PERSON-SENTINEL"
_PATH_SAFE = "/:@!$&'()*+,;=-._~"  # what Django's reverse() leaves unquoted in a path argument


def display_name(user: AbstractBaseUser) -> str:
    """ "Ana Díaz", or the username when the user gave no name."""
    return name_of(user.get_username(), getattr(user, "first_name", ""), getattr(user, "last_name", ""))


def name_of(username: str, first_name: str, last_name: str) -> str:
    """`display_name` from the columns (`NAME_FIELDS`) a list query selects."""
    return f"{first_name} {last_name}".strip() or username


def short_name(user: AbstractBaseUser) -> str:
    """ "Ana D." for tight spaces (the mutual-friends drawing), or the username."""
    first, last = getattr(user, "first_name", "").strip(), getattr(user, "last_name", "").strip()
    if first and last:
        return f"{first} {last[0]}."
    return first or last or user.get_username()


@lru_cache(maxsize=8)
def _profile_url_parts(script_prefix: str, urlconf: str | None) -> tuple[str, str]:
    # One reversal per URL configuration, not one per person in a list of fifty.
    before, _, after = reverse("profile", args=[_SENTINEL]).partition(_SENTINEL)
    return before, after


def profile_url(username: str) -> str:
    """`/u/<username>/`, as `reverse("profile", args=[username])` gives it (same quoting), without a reversal."""
    before, after = _profile_url_parts(get_script_prefix(), get_urlconf())
    return f"{before}{quote(username, safe=_PATH_SAFE)}{after}"


def person_html(user: AbstractBaseUser, url: str | None = None) -> SafeString:
    """A link to the user's profile (`url`, default `profile_url`) named by display name, then `@username`
    when the two differ."""
    username = user.get_username()
    return name_html(display_name(user), username, profile_url(username) if url is None else url)


@lru_cache(maxsize=8192)
def name_html(name: str, username: str, url: str) -> SafeString:
    """`person_html` from the strings: what a list row calls 50 times a page (MarkupSafe's escape, in C,
    and one f-string: a tenth of `format_html`'s cost; the same markup but for the entity of a quote,
    `&#34;` instead of `&quot;`). Kept per process for the most recent 8,192 people (~2 MB): the same
    people fill a user's lists page after page, and the markup depends on these three strings alone."""
    if name == username:
        return SafeString(f'<a href="{escape(url)}">{escape(name)}</a>')
    return SafeString(f'<a href="{escape(url)}">{escape(name)}</a> <span class="handle">@{escape(username)}</span>')
