"""Start-up checks (Django's system check framework): `runserver`, `migrate`, `check`, `crontab` and
`rundramatiq` run them."""

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


@checks.register("socialsite")
def schedules_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """A regular job whose cron expression does not parse (or names no actor) would silently never run."""
    from django.conf import settings

    from .schedule import schedule_problems

    problems = [checks.Error(problem, id="socialsite.E003") for problem in schedule_problems()]
    lock = getattr(settings, "DRAMATIQ_CRONTAB", {})
    if lock.get("LOCK_REFRESH_INTERVAL", 5) >= lock.get("LOCK_TIMEOUT", 10):
        problems.append(
            checks.Error(
                "SCHEDULER_LOCK_REFRESH must be shorter than SCHEDULER_LOCK_TIMEOUT, or the scheduler's lock "
                "expires between refreshes and a standby scheduler takes over while the first still fires.",
                id="socialsite.E004",
            )
        )
    return problems
