"""A friend list in its order, from the index: `friendships_of` orders by (-is_friend_since, friend_id)."""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class AddIndexConcurrentlyOnPostgreSQL(AddIndexConcurrently):
    """CREATE INDEX CONCURRENTLY on PostgreSQL; a plain CREATE INDEX elsewhere (SQLite, the demo's default,
    has no CONCURRENTLY, and Django's operation would fail there)."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_backwards(self, app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    # CREATE INDEX CONCURRENTLY: the friendship table keeps taking writes while the index builds; it
    # cannot run inside a transaction.
    atomic = False

    dependencies = [("friends", "0004_share")]

    operations = [
        AddIndexConcurrentlyOnPostgreSQL(
            model_name="friendship",
            index=models.Index(
                models.F("user"),
                models.OrderBy(models.F("is_friend_since"), descending=True),
                models.F("friend"),
                name="friendship_user_since_idx",
            ),
        ),
    ]
