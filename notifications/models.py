from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Notification(models.Model):
    """Something a user should know about, made by a subscriber from a domain event.

    The target is what the notification is about: a share or a friend request, as nullable foreign keys
    (one per target type) so the database keeps them consistent and a deleted share takes its
    notifications with it instead of leaving links to a 404.
    """

    class Kind(models.TextChoices):
        # Values are the names of the events they come from (rows made before kinds were declared agree).
        FRIEND_REQUEST_RECEIVED = "friend_request.sent", "Friend request received"
        FRIEND_REQUEST_ACCEPTED = "friend_request.accepted", "Friend request accepted"
        SHARE_CREATED = "share.created", "Share created"

    # No index of its own: (recipient, created_at) below leads with it. Every index here is paid once per
    # friend on each share's fan-out, so there are no redundant ones.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", db_index=False
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=50, choices=Kind.choices)
    text = models.CharField(max_length=300)
    url = models.CharField(max_length=300, blank=True)
    share = models.ForeignKey(
        "friends.Share", null=True, blank=True, on_delete=models.CASCADE, related_name="+", help_text="Target share."
    )
    friend_request = models.ForeignKey(
        "friends.FriendRequest",
        null=True,
        blank=True,
        db_index=False,  # partial index below: share notifications (the many) leave it NULL
        on_delete=models.CASCADE,
        related_name="+",
        help_text="Target friend request.",
    )
    event_id = models.UUIDField(help_text="The domain event this came from; one notification per event and recipient.")
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Delivery is at-least-once: a redelivered event must not notify twice.
            models.UniqueConstraint(fields=["event_id", "recipient"], name="notification_once_per_event"),
            models.CheckConstraint(
                condition=~Q(kind="share.created") | Q(share__isnull=False), name="notification_share_has_target"
            ),
        ]
        indexes = [
            models.Index(fields=["recipient", "created_at"]),
            # The badge's count reads only this partial index.
            models.Index(fields=["recipient"], condition=Q(read_at__isnull=True), name="notification_unread_idx"),
            models.Index(
                fields=["friend_request"],
                condition=Q(friend_request__isnull=False),
                name="notification_request_idx",
            ),
            # Pruning finds old read rows without scanning unread ones.
            models.Index(
                fields=["created_at"], condition=Q(read_at__isnull=False), name="notification_read_created_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"to {self.recipient_id}: {self.text}"

    @property
    def is_unread(self) -> bool:
        return self.read_at is None

    @property
    def target(self) -> dict | None:
        """`{"type": "share" | "friend_request", "id": int}`, or None for a notification without one."""
        if self.share_id is not None:
            return {"type": "share", "id": self.share_id}
        if self.friend_request_id is not None:
            return {"type": "friend_request", "id": self.friend_request_id}
        return None
