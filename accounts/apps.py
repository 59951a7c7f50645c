from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Accounts: sign-up, log-in and log-out pages, the API token, `me`. Users are Django's own model."""

    name = "accounts"

    def ready(self) -> None:
        # The user's lifecycle events (`accounts.events`), emitted on every save or delete of a user.
        from . import signals

        signals.connect()
