"""`manage.py account deactivate|reactivate|delete <username>...`: an operator's way to change accounts,
through the same services as the admin, so every change emits its event (`accounts.events`)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from accounts import services

ACTIONS = {
    "deactivate": (services.user_deactivate, "deactivated", "was already inactive"),
    "reactivate": (services.user_reactivate, "reactivated", "was already active"),
    "delete": (services.user_delete, "deleted", ""),
}


class Command(BaseCommand):
    help = (
        "Deactivate, reactivate or delete accounts by username, through the services (each emits its event, "
        "so suggestions and mutual friends follow)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=sorted(ACTIONS))
        parser.add_argument("usernames", nargs="+", metavar="username")

    def handle(self, *args, action: str, usernames: list[str], **options) -> None:
        service, done, unchanged = ACTIONS[action]
        users = {u.username: u for u in get_user_model().objects.filter(username__in=usernames)}
        missing = [name for name in usernames if name not in users]
        if missing:
            raise CommandError(f"No user named {', '.join(map(repr, missing))}; nothing was changed.")
        for name in usernames:
            changed = service(user=users[name])
            if changed is False:
                self.stdout.write(f"{name} {unchanged}.")
            else:
                self.stdout.write(self.style.SUCCESS(f"{name} {done}."))
