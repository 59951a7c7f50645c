from django.apps import AppConfig


class FriendsConfig(AppConfig):
    """The friend graph: friendships, requests, blocks, and what is derived from them."""

    name = "friends"

    def ready(self) -> None:
        # Subscriber actors must be registered in every process that emits events (web and workers);
        # jobs in every process that enqueues them. `read_your_writes`: every graph event also brings
        # the writer's own results up to date after its commit.
        from . import read_your_writes, subscribers, tasks  # noqa: F401
        from .shares import tasks as share_tasks  # noqa: F401

        read_your_writes.connect()
