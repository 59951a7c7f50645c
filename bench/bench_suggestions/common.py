"""What every part of the suggestions benchmark shares: the demo password, the users and queues it uses,
the targets, and how it logs."""

from __future__ import annotations

from tests.support.processes import ROOT

PASSWORD = "bench-demo-password-4"
BASELINE_USER = "bench_zero_friends"
WORKER_QUEUES = ("graph", "notifications", "default", "maintenance")
FACEBOOK = ROOT / "friends" / "data" / "facebook_combined.txt.gz"

TARGET_A = 25.0  # PG loop time / product time (issue 12; issue 4 asked for 10)
TARGET_B = 0.5  # one user's recompute in the worker / the PG single query for the same user (issue 12)
TARGET_C = 0.5  # page rps / baseline rps
TARGET_C_DRIFT = 0.10  # |ratio(larger) - ratio(fb)| / ratio(fb)
TARGET_D_P50_MS, TARGET_D_P99_MS = 250.0, 1000.0

Row = tuple[str, str, str, bool | None]
"""A summary row: (what, measured, target, ok); ok None when the issue gives no target."""


def log(message: str) -> None:
    print(message, flush=True)
