"""Usernames unique ignoring letter case, in the database: a unique index on LOWER(username) of auth_user.

`auth.User` is Django's model, not ours, so its constraints cannot be declared here; the index is plain
SQL that PostgreSQL and SQLite both accept (expression indexes). Two sign-ups of "Bob" and "bob" at the
same moment both pass the service's Python check; this index lets exactly one of them commit.
"""

from django.db import migrations

INDEX = "accounts_user_username_lower_uniq"


def refuse_existing_duplicates(apps, schema_editor):
    """Say which names clash instead of failing inside CREATE INDEX with a bare IntegrityError."""
    User = apps.get_model("auth", "User")
    seen: dict[str, str] = {}
    clashes = []
    for name in User.objects.order_by("id").values_list("username", flat=True).iterator():
        key = name.lower()
        if key in seen:
            clashes.append(f"{seen[key]!r} / {name!r}")
        else:
            seen[key] = name
    if clashes:
        raise RuntimeError(
            "These usernames differ only in letter case; rename one of each pair, then migrate again: "
            + ", ".join(clashes[:20])
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_profile"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(refuse_existing_duplicates, migrations.RunPython.noop),
        migrations.RunSQL(
            f"CREATE UNIQUE INDEX {INDEX} ON auth_user (LOWER(username))",
            reverse_sql=f"DROP INDEX {INDEX}",
        ),
    ]
