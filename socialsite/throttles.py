"""DRF throttles counted atomically in Redis (`socialsite.ratelimits`), one class per kind of budget.

DRF's `SimpleRateThrottle` reads a request history, decides, then writes it back: parallel requests
all read the same history and all pass. These classes keep DRF's interface (`allow_request`, `wait`,
429 with `Retry-After` rendered by DRF) and count with one atomic increment instead.

- `AnonThrottle`: every anonymous request, per client address (`anon`).
- `UserThrottle`: every authenticated request, per user (`user`).
- `ScopedThrottle`: a view's own budget, per user (or address when anonymous), for the methods the
  view names: `throttle_scopes = {"POST": "friend_requests"}`. Used for work-enqueueing reads and
  writes that fan out (friend requests, mutual-friend look-ups, shares, sign-up).

Credential checks (`auth/token/`, page and admin log-in) are limited per account and per address by
the authentication backend, `socialsite.backends.RateLimitedModelBackend`, so all three doors share
one budget.
"""

from __future__ import annotations

from typing import Any

from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from . import ratelimits


class _CountingThrottle(BaseThrottle):
    def __init__(self) -> None:
        self._wait: int | None = None

    def scope_and_key(self, request: Request, view: Any) -> tuple[str, str] | None:
        raise NotImplementedError

    def allow_request(self, request: Request, view: Any) -> bool:
        found = self.scope_and_key(request, view)
        if found is None:
            return True
        scope, key = found
        self._wait = ratelimits.hit(request=request._request, scope=scope, key=key)
        return self._wait is None

    def wait(self) -> float | None:
        return self._wait

    def get_ident(self, request: Request) -> str:
        """The client address under the trusted-proxy rule (never a raw `X-Forwarded-For`)."""
        return ratelimits.ip_key(request._request)


class AnonThrottle(_CountingThrottle):
    def scope_and_key(self, request: Request, view: Any) -> tuple[str, str] | None:
        if request.user and request.user.is_authenticated:
            return None
        return "anon", self.get_ident(request)


class UserThrottle(_CountingThrottle):
    def scope_and_key(self, request: Request, view: Any) -> tuple[str, str] | None:
        if not (request.user and request.user.is_authenticated):
            return None
        return "user", str(request.user.pk)


class ScopedThrottle(_CountingThrottle):
    def scope_and_key(self, request: Request, view: Any) -> tuple[str, str] | None:
        scope = getattr(view, "throttle_scopes", {}).get(request.method)
        if scope is None:
            return None
        return scope, ratelimits.user_or_ip_key(request)
