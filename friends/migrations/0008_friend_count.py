"""Every user's number of active friends (`FriendCount`), kept by triggers in the database.

A friend list's count was a count of the owner's friendship rows on every page that shows it: a hub's
3,083 rows read for one number on the 40k-user graph's profile. The triggers keep the number right
whoever writes (the services, the bulk loader, the admin, a user's deletion or deactivation), in the
writing statement's own transaction, so no code path can forget it:

- a friendship row inserted or deleted adds or takes one from its `user_id`'s count when its friend is
  active (PostgreSQL: once per statement, from the statement's transition table, the users in id order;
  SQLite: once per row);
- a user activated or deactivated adds or takes one from each of their friends' counts;
- the count rows a statement changes are locked in user id order (an insert's upsert goes in that
  order; a delete or a (de)activation locks them first, ordered), so two such statements touching the
  same users, such as two deactivations of users with friends in common, wait for each other instead of
  deadlocking;
- a friendship row's users never change (a trigger refuses it: delete the row and insert another), and
  emptying the table with TRUNCATE (PostgreSQL) empties the counts.

Backfilled from the table in the same migration, after the triggers exist (creating them locks the
table against writes until the migration commits, so none is missed or counted twice).

On SQLite, Django rebuilds a table to alter it (a later migration of `friends_friendship` or `auth_user`)
and the rebuild drops the table's triggers: `tests/friends/test_friend_count.py` checks the counts follow
every write on a database migrated from scratch, on both engines.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

_POSTGRESQL = [
    (
        """
        CREATE FUNCTION friends_friendcount_added() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO friends_friendcount AS c (user_id, friends)
            SELECT a.user_id, count(*) FILTER (WHERE u.is_active)
            FROM added a LEFT JOIN auth_user u ON u.id = a.friend_id
            GROUP BY a.user_id ORDER BY a.user_id
            ON CONFLICT (user_id) DO UPDATE SET friends = c.friends + EXCLUDED.friends;
            RETURN NULL;
        END $$
        """,
        'DROP FUNCTION friends_friendcount_added()',
    ),
    (
        """
        CREATE TRIGGER friendcount_added AFTER INSERT ON friends_friendship
            REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION friends_friendcount_added()
        """,
        'DROP TRIGGER friendcount_added ON friends_friendship',
    ),
    (
        """
        CREATE FUNCTION friends_friendcount_removed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM 1 FROM friends_friendcount WHERE user_id IN (SELECT user_id FROM removed)
                ORDER BY user_id FOR NO KEY UPDATE;
            UPDATE friends_friendcount AS c SET friends = c.friends - r.n
            FROM (
                SELECT d.user_id, count(*) AS n FROM removed d JOIN auth_user u ON u.id = d.friend_id AND u.is_active
                GROUP BY d.user_id
            ) AS r
            WHERE c.user_id = r.user_id;
            RETURN NULL;
        END $$
        """,
        'DROP FUNCTION friends_friendcount_removed()',
    ),
    (
        """
        CREATE TRIGGER friendcount_removed AFTER DELETE ON friends_friendship
            REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION friends_friendcount_removed()
        """,
        'DROP TRIGGER friendcount_removed ON friends_friendship',
    ),
    (
        """
        CREATE FUNCTION friends_friendcount_cleared() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM friends_friendcount;
            RETURN NULL;
        END $$
        """,
        'DROP FUNCTION friends_friendcount_cleared()',
    ),
    (
        """
        CREATE TRIGGER friendcount_cleared AFTER TRUNCATE ON friends_friendship
            FOR EACH STATEMENT EXECUTE FUNCTION friends_friendcount_cleared()
        """,
        'DROP TRIGGER friendcount_cleared ON friends_friendship',
    ),
    (
        """
        CREATE FUNCTION friends_friendcount_user_active() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM 1 FROM friends_friendcount
                WHERE user_id IN (SELECT user_id FROM friends_friendship WHERE friend_id = NEW.id)
                ORDER BY user_id FOR NO KEY UPDATE;
            UPDATE friends_friendcount AS c SET friends = c.friends + CASE WHEN NEW.is_active THEN 1 ELSE -1 END
            FROM friends_friendship f WHERE f.friend_id = NEW.id AND c.user_id = f.user_id;
            RETURN NULL;
        END $$
        """,
        'DROP FUNCTION friends_friendcount_user_active()',
    ),
    (
        """
        CREATE TRIGGER friendcount_user_active AFTER UPDATE OF is_active ON auth_user
            FOR EACH ROW WHEN (OLD.is_active IS DISTINCT FROM NEW.is_active)
            EXECUTE FUNCTION friends_friendcount_user_active()
        """,
        'DROP TRIGGER friendcount_user_active ON auth_user',
    ),
    (
        """
        CREATE FUNCTION friends_friendship_pair_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'a friendship''s users never change (friends_friendcount counts by them): delete the row and insert another'
                USING ERRCODE = 'integrity_constraint_violation';
        END $$
        """,
        'DROP FUNCTION friends_friendship_pair_fixed()',
    ),
    (
        """
        CREATE TRIGGER friendship_pair_fixed BEFORE UPDATE OF user_id, friend_id ON friends_friendship
            FOR EACH ROW WHEN (OLD.user_id IS DISTINCT FROM NEW.user_id OR OLD.friend_id IS DISTINCT FROM NEW.friend_id)
            EXECUTE FUNCTION friends_friendship_pair_fixed()
        """,
        'DROP TRIGGER friendship_pair_fixed ON friends_friendship',
    ),
    (
        """
        INSERT INTO friends_friendcount (user_id, friends)
        SELECT f.user_id, count(*) FILTER (WHERE u.is_active)
        FROM friends_friendship f JOIN auth_user u ON u.id = f.friend_id
        GROUP BY f.user_id
        """,
        '',
    ),
]

_SQLITE = [
    (
        """
        CREATE TRIGGER friendcount_added AFTER INSERT ON friends_friendship BEGIN
            INSERT INTO friends_friendcount (user_id, friends)
            VALUES (NEW.user_id, COALESCE((SELECT is_active FROM auth_user WHERE id = NEW.friend_id), 0))
            ON CONFLICT (user_id) DO UPDATE SET friends = friends + excluded.friends;
        END
        """,
        "DROP TRIGGER friendcount_added",
    ),
    (
        """
        CREATE TRIGGER friendcount_removed AFTER DELETE ON friends_friendship
        WHEN (SELECT is_active FROM auth_user WHERE id = OLD.friend_id) BEGIN
            UPDATE friends_friendcount SET friends = friends - 1 WHERE user_id = OLD.user_id;
        END
        """,
        "DROP TRIGGER friendcount_removed",
    ),
    (
        """
        CREATE TRIGGER friendcount_user_active AFTER UPDATE OF is_active ON auth_user
        WHEN OLD.is_active IS NOT NEW.is_active BEGIN
            UPDATE friends_friendcount SET friends = friends + (CASE WHEN NEW.is_active THEN 1 ELSE -1 END)
            WHERE user_id IN (SELECT user_id FROM friends_friendship WHERE friend_id = NEW.id);
        END
        """,
        "DROP TRIGGER friendcount_user_active",
    ),
    (
        """
        CREATE TRIGGER friendship_pair_fixed BEFORE UPDATE OF user_id, friend_id ON friends_friendship
        WHEN OLD.user_id IS NOT NEW.user_id OR OLD.friend_id IS NOT NEW.friend_id BEGIN
            SELECT RAISE(ABORT, 'a friendship''s users never change (friends_friendcount counts by them): delete the row and insert another');
        END
        """,
        "DROP TRIGGER friendship_pair_fixed",
    ),
    (
        """
        INSERT INTO friends_friendcount (user_id, friends)
        SELECT f.user_id, SUM(u.is_active) FROM friends_friendship f JOIN auth_user u ON u.id = f.friend_id
        GROUP BY f.user_id
        """,
        "",
    ),
]


def _run(apps, schema_editor, *, forward: bool) -> None:
    statements = {"postgresql": _POSTGRESQL, "sqlite": _SQLITE}.get(schema_editor.connection.vendor)
    if statements is None:
        raise NotImplementedError(f"friend counts have triggers for PostgreSQL and SQLite, not {schema_editor.connection.vendor}")
    for create, drop in statements if forward else reversed(statements):
        if sql := (create if forward else drop).strip():
            schema_editor.execute(sql, params=None)


def install(apps, schema_editor) -> None:
    _run(apps, schema_editor, forward=True)


def uninstall(apps, schema_editor) -> None:
    _run(apps, schema_editor, forward=False)


class Migration(migrations.Migration):
    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("friends", "0007_redundant_fk_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="FriendCount",
            fields=[
                (
                    "user",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                ("friends", models.PositiveIntegerField(default=0)),
            ],
        ),
        migrations.RunPython(install, uninstall),
    ]
