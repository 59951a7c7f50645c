"""The site's routes, read from the URL resolver, so tests that check "every route" see a route added later."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from django.urls import URLPattern, URLResolver, get_resolver


def url_patterns(patterns: list | None = None, prefix: str = "/") -> Iterator[tuple[str, Callable]]:
    """`(route, view)` for every URL pattern of the root URLconf (or of `patterns` under `prefix`), the
    route being the full pattern text from the site's root, e.g. "/api/v1/users/<str:username>/"."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            yield from url_patterns(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def routes() -> list[str]:
    """Every route of the site (see `url_patterns`), in URLconf order."""
    return [route for route, _ in url_patterns()]
