from django.apps import AppConfig


class SocialsiteConfig(AppConfig):
    """Shared plumbing: event outbox, task status, broker helpers."""

    name = "socialsite"
    verbose_name = "Socialsite plumbing"

    def ready(self) -> None:
        # Registers the maintenance actors (outbox relay, pruning) on the broker, the start-up checks and
        # the failed log-in logger.
        from . import auth_log, checks, tasks  # noqa: F401
