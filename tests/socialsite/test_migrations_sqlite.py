"""The demo's default database is SQLite (`scripts/run.sh` without DATABASE_URL): every migration must apply
there too, PostgreSQL-only operations included (they fall back to their plain form)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_migration_applies_and_unapplies_on_a_new_sqlite_database(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "socialsite.settings",
        "DJANGO_DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    for args in (["migrate", "--noinput"], ["migrate", "friends", "0004", "--noinput"], ["migrate", "--noinput"]):
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stdout + done.stderr
