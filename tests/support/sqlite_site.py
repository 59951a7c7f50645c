"""Code run on SQLite, the demo's database (`scripts/run.sh` without DATABASE_URL), from a suite that runs
on PostgreSQL: a child process migrates a new SQLite file and runs a script in `manage.py shell`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_on_new_sqlite(tmp_path: Path, script: str, *, timeout: float = 300) -> str:
    """Migrates `tmp_path/db.sqlite3` and runs `script` there (test settings: the StubBroker, so nothing
    leaves the process); returns what it printed.

    Raises:
        AssertionError: the migration or the script failed (with its standard error).
    """
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "socialsite.test_settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    env.pop("SOCIALSITE_TEST_BROKER", None)

    def manage(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
        )

    migrated = manage("migrate", "--noinput")
    assert migrated.returncode == 0, migrated.stderr
    done = manage("shell", "-c", script)
    assert done.returncode == 0, done.stderr
    return done.stdout
