"""Rate limits: named budgets ("scopes") counted in Redis through django-ratelimit.

One counter per (scope, key) per window, incremented atomically *before* the work it guards
(`cache.add` then `INCR` on Redis), so fifty parallel requests can never all read "0 so far" and all
pass, as DRF's own read-then-write throttle history lets them. The API throttles
(`socialsite.throttles`), the credential check (`socialsite.backends`) and the pages all count here,
so a budget is one budget whichever door a client uses.

Rates come from `settings.RATE_LIMITS` (environment `RATE_LIMIT_<SCOPE>`), in django-ratelimit's
syntax: `N/P` with P one of s, m, h, d and an optional multiplier (`10/15m`). Windows are fixed (each
key's window starts at its own offset), so a client can spend at most twice a budget across one window
edge.

When Redis is down the limits fail open: the request goes on and a warning is logged. Redis also holds
every computed result of the site, so a Redis outage is already an incident that pages an operator;
refusing every log-in for its duration would turn it into a full outage, while the window it leaves
open for guessing lasts only as long as the outage.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import unicodedata
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest
from django_ratelimit import ALL
from django_ratelimit import core as ratelimit_core
from django_ratelimit.core import get_usage

from .redis import REDIS_DOWN

logger = logging.getLogger(__name__)


class RateLimited(Exception):
    """A budget is spent; `wait` is the number of seconds until its window ends (the `Retry-After`)."""

    def __init__(self, *, scope: str, wait: int) -> None:
        super().__init__(f"rate limit {scope!r} reached; retry in {wait} s")
        self.scope = scope
        self.wait = max(int(wait), 1)


def rate_of(scope: str) -> str | None:
    """The configured rate of a scope (`"10/15m"`), or None when that scope is unlimited."""
    return settings.RATE_LIMITS.get(scope) or None


_RATE = re.compile(r"[1-9]\d*/([1-9]\d*)?(s|sec|second|m|min|minute|h|hour|d|day)")


def validate_rate(rate: str) -> None:
    """Raise ValueError for a rate that is not `N/P` (django-ratelimit reads `10/x` as ten a second)."""
    if not isinstance(rate, str) or not _RATE.fullmatch(rate):
        raise ValueError(f"{rate!r} is not a rate like '10/m', '5/15m' or '100/hour'")


def client_ip(request: HttpRequest) -> str:
    """The client's address, trusting exactly `settings.NUM_PROXIES` proxies in front of the site.

    With no proxy (the default) it is the socket's peer, `REMOTE_ADDR`, and `X-Forwarded-For` is
    ignored: anyone can send that header. Behind N trusted proxies, each appends the address it saw,
    so the client is the N-th entry from the right; anything left of it was written by the client and
    is not trusted. This is DRF's `NUM_PROXIES` rule, which the API throttles also use.
    """
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.NUM_PROXIES
    if proxies:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if forwarded:
            candidate = forwarded[-min(proxies, len(forwarded))]
            try:
                return str(ipaddress.ip_address(candidate))
            except ValueError:
                logger.warning("ignoring a malformed X-Forwarded-For entry %r", candidate[:64])
    return remote


def ip_key(request: HttpRequest) -> str:
    """The rate-limit key of a client address: IPv6 clients by their /64, as one host usually holds one."""
    ip = client_ip(request)
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return str(address)


def account_key(username: str | None) -> str:
    """The key of an account name as typed: NFKC look-alikes (full-width letters) and case variants of
    one name share one budget."""
    return unicodedata.normalize("NFKC", username or "").casefold().strip()


def hit(*, request: HttpRequest | None, scope: str, key: str) -> int | None:
    """Count one attempt against `scope` for `key`; None if allowed, else the seconds to wait.

    The attempt counts even when refused, so hammering a spent budget does not shorten the wait.
    Redis errors fail open (None) with a warning.
    """
    rate = rate_of(scope)
    if rate is None or not settings.RATE_LIMITS_ENABLED:
        return None
    try:
        usage = get_usage(request, group=scope, key=lambda _group, _request: key, rate=rate, increment=True)
    except REDIS_DOWN as exc:
        logger.warning("rate limit %r not enforced: Redis unavailable (%s)", scope, type(exc).__name__)
        return None
    if usage is None or not usage["should_limit"]:
        return None
    return max(int(usage["time_left"]), 1)


def refund(*, scope: str, key: str) -> None:
    """Give back one attempt that `hit` counted against `scope` for `key` in the current window.

    For a credential check that succeeded: a right password is no guess, and counting it locked a busy
    account (the shared demo user, a user on several devices) out of its own log-ins. Zulip's
    authentication limit does the same (it clears a name's history on success); here only the one
    attempt is returned, so guesses made before it still count. The counter is django-ratelimit's,
    found as its `get_usage` finds it (`_get_window`, `_make_cache_key`: private, so the version is
    pinned and `tests/socialsite/test_rate_limits.py` checks the refund reaches the same counter).
    A missing counter (expired, or a window that just turned) is left alone; Redis errors are logged.
    """
    rate = rate_of(scope)
    if rate is None or not settings.RATE_LIMITS_ENABLED:
        return
    _, period = ratelimit_core._split_rate(rate)
    counter = ratelimit_core._make_cache_key(scope, ratelimit_core._get_window(key, period), rate, key, ALL)
    try:
        caches[getattr(settings, "RATELIMIT_USE_CACHE", "default")].decr(counter)
    except ValueError:  # no such counter any more
        return
    except REDIS_DOWN as exc:
        logger.warning("rate limit %r not refunded: Redis unavailable (%s)", scope, type(exc).__name__)


def enforce(*, request: HttpRequest | None, scope: str, key: str) -> None:
    """`hit`, raising `RateLimited` when the budget is spent."""
    wait = hit(request=request, scope=scope, key=key)
    if wait is not None:
        raise RateLimited(scope=scope, wait=wait)


def limit_page(scope: str, *, methods: tuple[str, ...] = ("POST",)) -> Callable:
    """Decorate a page view: each request with one of `methods` counts against `scope`.

    The key is the user for a logged-in request, the client address otherwise. A spent budget raises
    `RateLimited`, which `RateLimitMiddleware` answers with a 429 page and `Retry-After`.
    """

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if request.method in methods:
                enforce(request=request, scope=scope, key=user_or_ip_key(request))
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def user_or_ip_key(request: HttpRequest) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{ip_key(request)}"
