"""Dramatiq middleware with Socialsite's defaults, referenced by path from `DRAMATIQ_BROKER`."""

from dramatiq import middleware


class Retries(middleware.Retries):
    """Exponential backoff from 1 s, capped at 5 min (well under RabbitMQ's 30-min consumer timeout),
    then the message is dead-lettered. Actors override `max_retries` where it makes sense."""

    def __init__(self) -> None:
        super().__init__(max_retries=8, min_backoff=1_000, max_backoff=300_000)


class TimeLimit(middleware.TimeLimit):
    """No task may run longer than 10 minutes unless its actor says so."""

    def __init__(self) -> None:
        super().__init__(time_limit=600_000)
