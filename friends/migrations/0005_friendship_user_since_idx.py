"""A friend list in its order, from the index: `friendships_of` orders by (-is_friend_since, friend_id)."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY: the friendship table keeps taking writes while the index builds; it
    # cannot run inside a transaction.
    atomic = False

    dependencies = [("friends", "0004_share")]

    operations = [
        AddIndexConcurrently(
            model_name="friendship",
            index=models.Index(
                models.F("user"),
                models.OrderBy(models.F("is_friend_since"), descending=True),
                models.F("friend"),
                name="friendship_user_since_idx",
            ),
        ),
    ]
