"""Start-up checks (Django's system check framework): `runserver`, `migrate` and `check` run them."""

from __future__ import annotations

from typing import Any

from django.core import checks


@checks.register("socialsite")
def event_contract_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """An emitted event with no subscriber (and not declared as such) is an error: its events would be lost."""
    from .events import check_event_contract

    return [checks.Error(problem, id="socialsite.E001") for problem in check_event_contract()]
