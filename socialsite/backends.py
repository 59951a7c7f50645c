"""The one place a password is checked, limited per account and per client address.

Every credential check goes through `django.contrib.auth.authenticate()`: the page log-in
(`LoginView`), the admin log-in and the API's `auth/token/` all call it with the request. Limiting it
here gives the three doors one shared budget per account (`login_account`) and per address
(`login_ip`), and nobody can get more guesses by switching door. The attempt is counted before the
password is looked at, so parallel guesses cannot overtake the counter; a successful check gives its
attempt back (`ratelimits.refund`), so the budgets count wrong guesses, and logging in often (the shared
demo user, several devices) never locks an account out.

A spent budget raises `RateLimited` out of `authenticate()` (it lets only `PermissionDenied` through
as "wrong credentials"): the API answers 429 JSON with `Retry-After` (`socialsite.api`), pages a 429
page (`socialsite.middleware.RateLimitMiddleware`).

The name is NFKC-normalised first (as stored, see `accounts.usernames`), whichever door it came through.
"""

from __future__ import annotations

import logging
import unicodedata
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS
from django.http import HttpRequest

from accounts.usernames import named
from notifications import selectors as notifications_selectors

from . import ratelimits
from .prepared import PreparedQuery

logger = logging.getLogger("socialsite.auth")


def _field_names() -> list[str]:
    return [field.attname for field in get_user_model()._meta.concrete_fields]


# The logged-in user is loaded on every request: compiled once, as `PreparedQuery` explains. The unread
# badge's count comes in the same statement (the last column): every page draws the badge, and in a
# statement of its own it held home at 0.53 to 0.56 of the bare view's rate and the profile at 0.47 to 0.51,
# against 0.58 to 0.61 and 0.50 to 0.54 read here (`bench.bench_pages`, ego-Facebook, runs alternated).
_USER_BY_ID = PreparedQuery(
    lambda user_id: (
        get_user_model()
        ._default_manager.filter(pk=user_id)
        .annotate(unread_summary=notifications_selectors.unread_summary(user_id))
        .values_list(*_field_names(), "unread_summary")
    )
)


def _stored_name(username: str) -> str:
    """The stored name that `username` names ignoring letter case (`accounts.usernames.named`), or
    `username` itself when nobody has it: "Alice" logs in as alice, as `/u/Alice/` shows her profile."""
    stored = named(get_user_model()._default_manager.all(), username).values_list("username", flat=True).first()
    return stored or username


class RateLimitedModelBackend(ModelBackend):
    def get_user(self, user_id: Any) -> Any:
        """The session's user, as `ModelBackend.get_user` gives it (None if gone or inactive), with their
        unread notifications' count kept on it (`notifications.selectors.unread_preload`): one query."""
        model = get_user_model()
        try:
            user_id = model._meta.pk.to_python(user_id)
        except ValidationError:  # a malformed id in a session is nobody
            return None
        rows = _USER_BY_ID.rows(user_id)
        if not rows:
            return None
        *values, unread = rows[0]
        user = model.from_db(DEFAULT_DB_ALIAS, _field_names(), values)
        if not self.user_can_authenticate(user):
            return None
        notifications_selectors.unread_preload(user, unread)
        return user

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> Any:
        if username is None:
            username = kwargs.get("username")
        if isinstance(username, str):
            # Names are stored NFKC-normalised (accounts.usernames); the API's token endpoint does not fold
            # them as Django's log-in forms do, and a look-alike must not get a budget of its own.
            username = unicodedata.normalize("NFKC", username)
        checks = [("login_account", f"account:{ratelimits.account_key(username)}")]
        if request is not None:
            checks.append(("login_ip", f"ip:{ratelimits.ip_key(request)}"))
        for scope, key in checks:
            wait = ratelimits.hit(request=request, scope=scope, key=key)
            if wait is not None:
                logger.warning(
                    "log-in refused by rate limit %s for username=%r from %s (retry in %s s)",
                    scope,
                    (username or "")[:150],
                    ratelimits.client_ip(request) if request is not None else "-",
                    wait,
                )
                raise ratelimits.RateLimited(scope=scope, wait=wait)
        if isinstance(username, str) and username and "\x00" not in username:
            username = _stored_name(username)
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is not None:  # a right password is no guess: the attempt counted above is given back
            for scope, key in checks:
                ratelimits.refund(scope=scope, key=key)
        return user
