"""A friendship row needs its mirror row in the same transaction (PostgreSQL).

A composite foreign key from (friend_id, user_id) to (user_id, friend_id), checked at commit, makes a
one-sided friendship impossible to commit, whoever writes it. SQLite cannot add such a key to an
existing table; there the services are the only writers (SQLite is the zero-configuration default only).
"""

from django.db import migrations

FORWARD = """
ALTER TABLE friends_friendship
    ADD CONSTRAINT friendship_symmetric
    FOREIGN KEY (friend_id, user_id) REFERENCES friends_friendship (user_id, friend_id)
    ON DELETE NO ACTION DEFERRABLE INITIALLY DEFERRED;
"""
BACKWARD = "ALTER TABLE friends_friendship DROP CONSTRAINT friendship_symmetric;"


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("friends", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
