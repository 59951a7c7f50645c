"""`manage.py events`: the whole event map (event -> payload -> subscribers -> queue)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from socialsite.events import event_map, event_map_markdown


class Command(BaseCommand):
    help = "Print every domain event with its payload fields, subscriber actors and their queues."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--format", choices=("markdown", "json"), default="markdown")

    def handle(self, *args: Any, format: str, **options: Any) -> None:
        if format == "json":
            self.stdout.write(json.dumps(event_map(), indent=2))
        else:
            self.stdout.write(event_map_markdown())
