"""Plumbing data shared by every app: the event outbox and task records."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class OutboxEvent(models.Model):
    """A domain event, written in the same transaction as the change that caused it.

    The row is the event's durable copy: it is handed to RabbitMQ after commit, and the relay re-sends
    anything whose `published_at` is still empty, so an event survives a broker outage.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=100, db_index=True)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(fields=["created_at"], condition=Q(published_at__isnull=True), name="outbox_pending_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.id}"

    def as_message(self) -> dict:
        """The JSON a subscriber receives: ids and small data only."""
        return {
            "id": str(self.id),
            "name": self.name,
            "payload": self.payload,
            "created_at": self.created_at.isoformat(),
        }


class TaskRecord(models.Model):
    """The state of one Dramatiq message, kept by `TaskStatusMiddleware`."""

    class State(models.TextChoices):
        ENQUEUED = "enqueued"
        RUNNING = "running"
        RETRYING = "retrying"
        DONE = "done"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True)  # the Dramatiq message id
    actor_name = models.CharField(max_length=200, db_index=True)
    queue_name = models.CharField(max_length=100)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE)
    state = models.CharField(max_length=10, choices=State.choices, default=State.ENQUEUED, db_index=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    progress_message = models.CharField(max_length=200, blank=True)
    result = models.JSONField(null=True, blank=True)
    error = models.TextField(blank=True, help_text="Short, shown to the owner: exception class and message.")
    traceback = models.TextField(blank=True, help_text="For admins only (paths, hosts): never shown to the owner.")
    retries = models.PositiveIntegerField(default=0)
    message = models.JSONField(help_text="The message as sent, kept so a failed task can be re-enqueued.")
    enqueued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-enqueued_at"]

    def __str__(self) -> str:
        return f"{self.actor_name} {self.id} ({self.state})"

    @property
    def is_finished(self) -> bool:
        return self.state in (self.State.DONE, self.State.FAILED)


class DeadLetter(TaskRecord):
    """Failed tasks (retries exhausted): the dead letters, listed on their own admin page."""

    class Meta:
        proxy = True
        verbose_name = "dead letter"


class SiteCounters(models.Model):
    """The site's counters as computed by one run of `update_site_counters`: one row per run (history).

    Kept `SITE_COUNTERS_HISTORY_DAYS`, then pruned by the same job. "Active" users (last 24 h) are users
    who logged in to a page, or did something: sent or answered a friend request, shared, blocked someone,
    or read a notification (token-authenticated API clients never "log in", so actions count too).
    """

    computed_at = models.DateTimeField(db_index=True, help_text="When the counts were taken.")
    users = models.PositiveIntegerField(help_text="Active accounts.")
    friendships = models.PositiveIntegerField(help_text="Pairs of friends (one per pair, not per row).")
    shares = models.PositiveIntegerField()
    notifications = models.PositiveIntegerField()
    friendships_last_24h = models.PositiveIntegerField(help_text="Pairs that became friends in the 24 h before.")
    active_users_last_24h = models.PositiveIntegerField(help_text="Users who logged in or acted in the 24 h before.")
    duration_ms = models.PositiveIntegerField(default=0, help_text="How long counting took.")

    class Meta:
        ordering = ["-computed_at"]
        verbose_name_plural = "site counters"

    COUNTERS = (
        "users",
        "friendships",
        "shares",
        "notifications",
        "friendships_last_24h",
        "active_users_last_24h",
    )

    def __str__(self) -> str:
        return f"counters at {self.computed_at:%Y-%m-%d %H:%M}"

    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.COUNTERS}


class ScheduledJob(TaskRecord):
    """An admin page, not data: the operator's view of the regular jobs (schedule, last and next run, run
    now). The jobs themselves are in settings (`SOCIALSITE_SCHEDULES`); runs are task records."""

    class Meta:
        proxy = True
        verbose_name = "scheduled job"
