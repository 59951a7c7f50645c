"""Load a SNAP edge list (by default the shipped ego-Facebook graph) as demo users and friendships."""

from __future__ import annotations

import os
import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from friends import bulk
from friends.graph_cache import graph_cache_rebuild
from friends.models import Friendship


class Command(BaseCommand):
    help = (
        "Create one demo user per node (fb<id>, with a reproducible name and join date) and both friendship rows "
        "(with a reproducible date) per edge of a SNAP edge list "
        "(plain or .gz; default: the shipped ego-Facebook graph), then rebuild the Redis friend sets and suggestions. "
        "Safe to run twice."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", nargs="?", default=str(bulk.SHIPPED_GRAPH), help="Edge list, plain or gzipped.")
        parser.add_argument("--limit-nodes", type=int, metavar="N", help="Only the N lowest node ids and their edges.")
        parser.add_argument(
            "--password",
            default=os.environ.get("DEMO_PASSWORD") or bulk.DEFAULT_DEMO_PASSWORD,
            help="Password of every new demo user (default: $DEMO_PASSWORD, else %(default)r).",
        )
        parser.add_argument("--prefix", default="fb", help="Username prefix (default: %(default)r).")
        parser.add_argument("--no-progress", action="store_true", help="Do not draw progress bars.")
        parser.add_argument("--no-cache", action="store_true", help="Do not rebuild the derived Redis data.")

    def handle(
        self,
        *args,
        path: str,
        limit_nodes: int | None,
        password: str,
        prefix: str,
        no_progress: bool,
        no_cache: bool,
        **options,
    ) -> None:
        if not Path(path).is_file():
            raise CommandError(f"No such edge list: {path}")
        if limit_nodes is not None and limit_nodes < 1:
            raise CommandError("--limit-nodes must be at least 1.")
        started = time.perf_counter()
        try:
            edges = list(bulk.read_edge_file(path))
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if limit_nodes is not None:
            edges = bulk.edges_among_first_nodes(edges, limit=limit_nodes)

        bars: dict[str, tqdm] = {}

        def progress(phase: str, done: int, total: int) -> None:
            bar = bars.get(phase)
            if bar is None:
                bar = bars[phase] = tqdm(total=total, desc=phase, unit="row", disable=no_progress)
            bar.update(done - bar.n)

        try:
            result = bulk.graph_load(edges=edges, username_prefix=prefix, password=password, progress=progress)
        finally:
            for bar in bars.values():
                bar.close()
        loaded = time.perf_counter()

        self.stdout.write(
            f"Users: {result.nodes} ({result.users_created} new"
            + (f", {result.users_named} named" if result.users_named else "")
            + "). "
            f"Friendships: {result.edges - result.skipped_blocked} = {result.rows} rows ({result.rows_created} new)."
        )
        skipped = {
            "self-loops": result.skipped_self_loops,
            "duplicate edges": result.skipped_duplicates,
            "blocked pairs": result.skipped_blocked,
        }
        if any(skipped.values()):
            self.stdout.write("Skipped: " + ", ".join(f"{n} {what}" for what, n in skipped.items() if n) + ".")
        self.stdout.write(f"Database load took {loaded - started:.2f} s.")

        if not no_cache:
            # A bulk load emits no per-row events, so every derived structure is rebuilt in one go instead.
            users = get_user_model().objects.filter(is_active=True).count()
            with (
                tqdm(total=Friendship.objects.count(), desc="friend sets", unit="row", disable=no_progress) as rows_bar,
                tqdm(total=users, desc="suggestions", unit="user", disable=no_progress) as users_bar,
            ):
                rebuilt = graph_cache_rebuild(
                    friend_progress=rows_bar.update,
                    suggestion_progress=lambda done, _total: users_bar.update(done - users_bar.n),
                )
            self.stdout.write(
                f"Rebuilt the Redis friend sets from {rebuilt['friendship_rows']} rows and the suggestions of "
                f"{rebuilt['users']} users in {time.perf_counter() - loaded:.2f} s."
            )
        self.stdout.write(self.style.SUCCESS(f"Done in {time.perf_counter() - started:.2f} s."))
