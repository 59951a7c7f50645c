"""Log every failed log-in (page, admin, API token), without the password.

Django sends `user_login_failed` from `authenticate()` with the credentials already cleansed; this
receiver logs only the username as typed, the client address and the path, never the `credentials`
dict.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver

from . import ratelimits

logger = logging.getLogger("socialsite.auth")


@receiver(user_login_failed, dispatch_uid="socialsite.auth_log.login_failed")
def log_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    username = str(credentials.get("username") or "")[:150]
    where = ratelimits.client_ip(request) if request is not None else "-"
    path = getattr(request, "path", "-") if request is not None else "-"
    logger.warning("log-in failed for username=%r from %s at %s", username, where, path)
