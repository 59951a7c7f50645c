"""Rebuild everything derived from the friendship table in Redis."""

from django.core.management.base import BaseCommand
from tqdm import tqdm

from friends import cache
from friends.models import Friendship


class Command(BaseCommand):
    help = "Rebuild the Redis copy of the friend graph from the database (with a progress bar)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--no-progress", action="store_true", help="Do not draw a progress bar.")

    def handle(self, *args, no_progress: bool = False, **options) -> None:
        total = Friendship.objects.count()
        with tqdm(total=total, unit="row", desc="friend sets", disable=no_progress) as bar:
            rows = cache.friend_sets_rebuild(progress=bar.update)
        self.stdout.write(self.style.SUCCESS(f"Rebuilt friend sets from {rows} friendship rows."))
