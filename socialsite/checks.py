"""Start-up checks (Django's system check framework): `runserver`, `migrate` and `check` run them."""

from __future__ import annotations

from typing import Any

from django.core import checks


@checks.register("socialsite")
def event_contract_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """An emitted event with no subscriber (and not declared as such) is an error: its events would be lost."""
    from .events import check_event_contract

    return [checks.Error(problem, id="socialsite.E001") for problem in check_event_contract()]


@checks.register("socialsite")
def rate_limits_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """A rate the limiter cannot read would be taken as something else (`10/x` is ten a second)."""
    from django.conf import settings

    from .ratelimits import validate_rate

    problems = []
    for scope, rate in settings.RATE_LIMITS.items():
        if not rate:
            continue  # empty: that scope is not limited
        try:
            validate_rate(rate)
        except ValueError as exc:
            problems.append(checks.Error(f"RATE_LIMIT_{scope.upper()}: {exc}", id="socialsite.E002", obj="RATE_LIMITS"))
    return problems
