"""Rebuild everything derived from the friendship table in Redis."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from tqdm import tqdm

from friends.graph_cache import graph_cache_rebuild
from friends.models import Friendship


class Command(BaseCommand):
    help = "Rebuild the Redis friend sets, every user's suggestions and the mutual-friend cache (progress bars)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--no-progress", action="store_true", help="Do not draw progress bars.")

    def handle(self, *args, no_progress: bool = False, **options) -> None:
        rows = Friendship.objects.count()
        users = get_user_model().objects.filter(is_active=True).count()
        with (
            tqdm(total=rows, unit="row", desc="friend sets", disable=no_progress) as rows_bar,
            tqdm(total=users, unit="user", desc="suggestions", disable=no_progress) as users_bar,
        ):
            result = graph_cache_rebuild(
                friend_progress=rows_bar.update,
                suggestion_progress=lambda done, _total: users_bar.update(done - users_bar.n),
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Rebuilt friend sets from {result['friendship_rows']} rows, suggestions of {result['users']} "
                f"users; cleared {result['mutual_entries_cleared']} mutual-friend entries."
            )
        )
