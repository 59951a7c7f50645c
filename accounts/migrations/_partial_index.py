"""An index on a column of `auth_user` for some of its rows, in plain SQL: `auth.User` is Django's model,
so its indexes cannot be declared in its `Meta`. The SQL is accepted by PostgreSQL and SQLite alike; on
PostgreSQL the index is built and dropped CONCURRENTLY, so sign-ups and log-ins go on meanwhile (the
migration using it must say `atomic = False`). Not a migration itself (Django skips modules named `_…`).
"""

from django.db import migrations


def partial_index(name: str, *, table: str, column: str, where: str) -> migrations.RunPython:
    """The operation creating `CREATE INDEX <name> ON <table> (<column>) WHERE <where>`, and dropping it
    when the migration is reversed."""

    def concurrently(schema_editor) -> str:
        return "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""

    def create(apps, schema_editor) -> None:
        schema_editor.execute(
            f"CREATE INDEX {concurrently(schema_editor)}IF NOT EXISTS {name} ON {table} ({column}) WHERE {where}"
        )

    def drop(apps, schema_editor) -> None:
        schema_editor.execute(f"DROP INDEX {concurrently(schema_editor)}IF EXISTS {name}")

    return migrations.RunPython(create, drop, elidable=False)
