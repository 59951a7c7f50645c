"""The unread badge on every page: one query, and only on pages that actually show it."""

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from . import selectors


def unread_notifications(request: HttpRequest) -> dict:
    """`unread_notifications` (a `selectors.UnreadState`: `.count`, `.etag`) for the header badge.

    Lazy, so it costs its one query only when a template reads it (the base template does, for
    logged-in users), and nothing for anonymous users. The ETag goes into the page so the badge's
    first poll is already a 304 when nothing changed.
    """
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"unread_notifications": None}
    return {"unread_notifications": SimpleLazyObject(lambda: selectors.unread_state(user=user))}
