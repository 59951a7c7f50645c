"""Give the demo account things to look at: requests both ways, an accepted request, friends' shares."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from friends.demo import demo_seed


class Command(BaseCommand):
    help = (
        "Make the demo account (default fb0, from load_graph) have friend requests both ways, an accepted "
        "request and friends' shares (pictures and links); notifications follow through the workers. "
        "Safe to run again: it keeps what is there."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--username", default="fb0", help="The demo account (default: %(default)s).")

    def handle(self, *args, username: str, **options) -> None:
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {username!r}: run `manage.py load_graph` first.")
        result = demo_seed(user=user)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo account {username}: {result.requests_sent} friend requests sent "
                f"({result.requests_accepted} accepted), {result.shares_created} shares by friends created."
            )
        )
