"""The friend graph of the lecture's case study; every rule that can live in the database does."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Greatest, Least
from django.utils import timezone


def distinct_pair_constraints(first: str, second: str, *, prefix: str, verb: str) -> list[models.BaseConstraint]:
    """The constraints of a relation from one user to another: each ordered pair at most once
    (`<prefix>_unique_pair`), and never a user with themselves (`<prefix>_not_self`). A form that
    validates the model (the admin's) says the service's refusal, "You cannot <verb> yourself.", not the
    constraint's name."""
    return [
        models.UniqueConstraint(fields=[first, second], name=f"{prefix}_unique_pair"),
        models.CheckConstraint(
            condition=~Q(**{first: F(second)}),
            name=f"{prefix}_not_self",
            violation_error_message=f"You cannot {verb} yourself.",
        ),
    ]


class Friendship(models.Model):
    """`friendship(user_id, friend_id, is_friend_since)`: one row per direction.

    Both rows are written in one transaction. On PostgreSQL a deferred composite foreign key
    (migration 0002) makes a one-sided friendship impossible to commit.
    """

    # No index of its own (`db_index=False`): `friendship_unique_pair` (user, friend) leads with it, and a
    # second index made the planner read a hub's friendships from the heap instead of index-only.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="friendships", db_index=False
    )
    friend = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    is_friend_since = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = distinct_pair_constraints("user", "friend", prefix="friendship", verb="befriend")
        # A friend list's order (`friends.selectors.friendships_of`): a page of a hub's list reads its
        # rows from the index in order instead of sorting all of them.
        indexes = [models.Index(F("user"), F("is_friend_since").desc(), F("friend"), name="friendship_user_since_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} -> {self.friend_id}"


class FriendCount(models.Model):
    """How many active friends a user has: their friendship rows whose friend is active. Kept by database
    triggers (migration 0008), so it is right after every write, whoever writes: the services, the bulk
    loader, the admin, a user's deletion or (de)activation. Never written by Python.

    A friend list's count (`friends.selectors.listed_friend_count`) reads it instead of counting a
    hub's thousands of rows on every page that shows the count; the rows exist for users who have or
    had a friend (none: 0).
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="+")
    friends = models.PositiveIntegerField(default=0)  # a CHECK (>= 0): a wrong trigger fails loudly

    def __str__(self) -> str:
        return f"{self.user_id}: {self.friends} friends"


class FriendRequest(models.Model):
    class State(models.TextChoices):
        PENDING = "pending"
        ACCEPTED = "accepted"
        DECLINED = "declined"
        CANCELLED = "cancelled"

    # Indexed by the (user, state) indexes of Meta, which lead with each (a second index is only written).
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sent_requests", db_index=False
    )
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="received_requests", db_index=False
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    created_at = models.DateTimeField(default=timezone.now)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_user=F("to_user")),
                name="friend_request_not_self",
                violation_error_message="You cannot send a friend request to yourself.",
            ),
            # One pending request per unordered pair: a crossing request becomes a friendship instead.
            models.UniqueConstraint(
                Least("from_user", "to_user"),
                Greatest("from_user", "to_user"),
                condition=Q(state="pending"),
                name="friend_request_one_pending_per_pair",
            ),
        ]
        indexes = [models.Index(fields=["to_user", "state"]), models.Index(fields=["from_user", "state"])]

    def __str__(self) -> str:
        return f"{self.from_user_id} -> {self.to_user_id} ({self.state})"


class Block(models.Model):
    # Indexed by `block_unique_pair` (blocker, blocked), which leads with it.
    blocker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="blocks", db_index=False
    )
    blocked = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="blocked_by")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = distinct_pair_constraints("blocker", "blocked", prefix="block", verb="block")

    def __str__(self) -> str:
        return f"{self.blocker_id} blocks {self.blocked_id}"


class SuggestionDismissal(models.Model):
    """ "Not interested": the dismissed user is never suggested to this user again."""

    # Indexed by `dismissal_unique_pair` (user, dismissed), which leads with it.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="dismissals", db_index=False
    )
    dismissed = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = distinct_pair_constraints("user", "dismissed", prefix="dismissal", verb="dismiss")

    def __str__(self) -> str:
        return f"{self.user_id} dismissed {self.dismissed_id}"


def share_upload_to(instance: "Share", filename: str) -> str:
    """Random server-side name: the client's name is kept only as `original_name`, never as a path."""
    import uuid

    return f"shares/{uuid.uuid4().hex}"


class Share(models.Model):
    """What a user shares with their friends: a file and/or an http(s) URL, with a caption.

    Visible to the owner and to the owner's friends *at the time of viewing*. The file is written
    through Django's storage API under a random name; `original_name` is only for the download's
    Content-Disposition. Processing (checksum, thumbnail) runs in a worker after `share.created`.
    """

    class State(models.TextChoices):
        PROCESSING = "processing"
        READY = "ready"
        FAILED = "failed"

    # Indexed by `share_owner_created_idx` (owner, -created_at), which leads with it.
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="shares", db_index=False)
    caption = models.CharField(max_length=500, blank=True)
    url = models.URLField(max_length=2000, blank=True)
    file = models.FileField(upload_to=share_upload_to, blank=True, max_length=200)
    original_name = models.CharField(max_length=255, blank=True)
    content_type = models.CharField(max_length=100, blank=True, help_text="Detected from the content, not the name.")
    size = models.PositiveBigIntegerField(default=0, help_text="Bytes.")
    checksum = models.CharField(max_length=64, blank=True, help_text="SHA-256 of the file, hex.")
    thumbnail = models.FileField(upload_to="thumbnails/", blank=True, max_length=200)
    state = models.CharField(max_length=12, choices=State.choices, default=State.PROCESSING)
    failure_reason = models.CharField(max_length=300, blank=True)
    processing_task_id = models.UUIDField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(file="") | ~Q(url=""), name="share_has_file_or_url"),
        ]
        indexes = [models.Index(fields=["owner", "-created_at"], name="share_owner_created_idx")]

    def __str__(self) -> str:
        return f"share {self.pk} by {self.owner_id}"
