"""The ids of active users as an index of their own (partial: `WHERE is_active`).

Every list a viewer is shown keeps only active users (`friends.selectors`, `friends.live_graph`): a friend
list, its count, the people of a suggestion or a mutual-friends list join `auth_user` for `is_active`.
Without this index PostgreSQL answered a user with 1,602 friends by reading the whole user table (40,000
rows) for each count; with it, it probes the small index once per friend and never reads the table (an
index-only scan): 12 → 4.7 ms for the `/friends/` counts on the 40k-user graph. `auth.User` is Django's
model, so the index is plain SQL, accepted by PostgreSQL and SQLite alike; on PostgreSQL it is built
CONCURRENTLY, so sign-ups and log-ins go on while it builds.
"""

from django.db import migrations

from ._partial_index import partial_index


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction (see _partial_index)

    dependencies = [("accounts", "0002_username_lower_unique")]

    operations = [partial_index("accounts_user_active_id", table="auth_user", column="id", where="is_active")]
