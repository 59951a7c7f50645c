from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """Accounts: sign-up, log-in and log-out pages, the API token, `me`. Users are Django's own model."""

    name = "accounts"
