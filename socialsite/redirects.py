"""Where a form goes back to: its `next`, when that is a page of this site."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme


def local_next(request: HttpRequest, value: str | None, fallback: str) -> str:
    """`value` (a form's or a link's `next`) when it is a URL of this site (Django's
    `url_has_allowed_host_and_scheme`: no other host, no `//host`, no scheme but http(s)), else `fallback`.

    Surrounding whitespace goes first: a browser drops it from a link, but a redirect to " /friends/"
    is quoted as `%20/friends/`, a path relative to the page that answers 404.
    """
    target = (value or "").strip()
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback
