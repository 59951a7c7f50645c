"""Create the demo superuser if it does not exist (used by scripts/run.sh only)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the demo superuser `admin` with the given password, unless it exists."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", default="admin")
        parser.add_argument("--password", required=True)

    def handle(self, *args, username: str, password: str, **options) -> None:
        User = get_user_model()
        if User.objects.filter(username=username).exists():
            self.stdout.write(f"Demo admin {username!r} already exists.")
            return
        User.objects.create_superuser(username=username, email=f"{username}@localhost", password=password)
        self.stdout.write(self.style.SUCCESS(f"Created demo admin {username!r}."))
