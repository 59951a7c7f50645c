from django.apps import AppConfig


class FriendsConfig(AppConfig):
    """The friend graph: friendships, requests, blocks, and what is derived from them."""

    name = "friends"

    def ready(self) -> None:
        # Subscriber actors must be registered in every process that emits events (web and workers);
        # jobs in every process that enqueues them.
        from . import subscribers, tasks  # noqa: F401
        from .shares import tasks as share_tasks  # noqa: F401
