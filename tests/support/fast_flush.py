"""Emptying the test database after a transactional test with DELETE instead of TRUNCATE (PostgreSQL).

pytest-django empties the database after every test that commits (`transactional_db`, `live_server`, the
integration tier) with Django's `flush`, which on PostgreSQL is one `TRUNCATE` of every table: that makes
new files for every table and index, about half a second each time on this machine (measured 0.4-1.0 s
against 3-15 ms for the DELETEs, with a few rows in the tables). A test leaves a few rows, so DELETE is
the cheaper way to the same empty tables. Every foreign key of the schema is DEFERRABLE INITIALLY DEFERRED
(Django's, and friends' symmetric one), and `flush` runs in one transaction, so the order of the DELETEs
does not matter. With `reset_sequences` or `allow_cascade` asked for, Django's own statement is used.
"""

from __future__ import annotations

from django.db.backends.postgresql.operations import DatabaseOperations

_truncate = DatabaseOperations.sql_flush


def _sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
    if reset_sequences or allow_cascade or not tables:
        return _truncate(self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
    # One statement (one round trip); `flush` executes each item of the list separately.
    return ["; ".join(f"{style.SQL_KEYWORD('DELETE FROM')} {style.SQL_FIELD(self.quote_name(t))}" for t in tables)]


def install() -> None:
    """Use DELETE for `flush` in this process (the test process only: conftest calls it)."""
    DatabaseOperations.sql_flush = _sql_flush
