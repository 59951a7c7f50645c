from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """Notifications and their fan-out from domain events."""

    name = "notifications"

    def ready(self) -> None:
        from . import tasks  # noqa: F401
