"""The ids of inactive users as an index of their own (partial: `WHERE NOT is_active`).

A friend list and its count keep only active users by excluding the inactive ones
(`friends.selectors.friendships_listed_to`: `friend_id NOT IN (inactive ids)`), a set PostgreSQL reads
once per query and hashes, so a count reads only the friendship index, whatever the owner's degree. This
index makes reading that set cost a few pages, not a scan of the whole user table; inactive users are
few, so it stays small. Plain SQL for Django's `auth.User`, accepted by PostgreSQL and SQLite alike;
built CONCURRENTLY on PostgreSQL (see 0003).
"""

from django.db import migrations

from ._partial_index import partial_index


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction (see _partial_index)

    dependencies = [("accounts", "0003_active_user_ids_index")]

    operations = [partial_index("accounts_user_inactive_id", table="auth_user", column="id", where="NOT is_active")]
