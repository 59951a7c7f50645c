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
