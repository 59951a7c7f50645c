"""Per-user settings. The user itself is Django's own `auth.User`.

A user without a `Profile` row has the defaults: rows are written only when someone changes a setting,
so sign-up, the demo-data load and the admin need not create one.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class FriendListVisibility(models.TextChoices):
    """Who, besides the owner, may see a user's friend list (and its count) on the profile and the API."""

    EVERYONE = "everyone", "Everyone"
    FRIENDS = "friends", "My friends"
    ONLY_ME = "only_me", "Only me"


# Friends, by default: a friend list says a lot about someone (who they know, where they work), so it
# is not shown to strangers until its owner chooses to.
DEFAULT_FRIEND_LIST_VISIBILITY = FriendListVisibility.FRIENDS


class Profile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="profile"
    )
    friend_list_visibility = models.CharField(
        max_length=16, choices=FriendListVisibility.choices, default=DEFAULT_FRIEND_LIST_VISIBILITY
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(friend_list_visibility__in=FriendListVisibility.values),
                name="accounts_profile_friend_list_visibility_valid",
            )
        ]

    def __str__(self) -> str:
        return f"settings of user {self.user_id}"
