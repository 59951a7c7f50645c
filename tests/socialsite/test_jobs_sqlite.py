"""Every regular job runs on SQLite, the demo's database (`scripts/run.sh` without DATABASE_URL).

The suite runs on PostgreSQL; a query SQLite refuses (an ORDER BY inside a UNION, from a model's default
ordering) once made `update_site_counters` fail on every run of the demo, retried forever, unnoticed.
Here each job in `SOCIALSITE_SCHEDULES` runs once in a child process on a new SQLite database with a
little data: friends, a pending and an answered request, a block, a read notification.
"""

from __future__ import annotations

from tests.support.sqlite_site import run_on_new_sqlite

SCRIPT = """
import dramatiq
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone
from friends import services
from notifications.models import Notification

User = get_user_model()
ana, bo, cy, di, ed = [User.objects.create_user(n, password="x" * 12) for n in ("ana", "bo", "cy", "di", "ed")]
ana.last_login = timezone.now()
ana.save()
services.friendship_create(user=ana, friend=bo)
services.friendship_create(user=bo, friend=cy)
request = services.friend_request_send(from_user=di, to_user=ana)
services.friend_request_accept(request_id=request.pk, user=ana)
services.friend_request_send(from_user=ed, to_user=bo)
services.block_create(blocker=cy, blocked=ed)
Notification.objects.filter(recipient=ana).update(read_at=timezone.now())
broker = dramatiq.get_broker()
for job in sorted(settings.SOCIALSITE_SCHEDULES):
    broker.get_actor(job).fn()
    print("ran", job)
"""


def test_every_scheduled_job_runs_on_a_new_sqlite_database(tmp_path):
    printed = run_on_new_sqlite(tmp_path, SCRIPT)
    from django.conf import settings

    assert [line for line in printed.splitlines() if line.startswith("ran ")] == [
        f"ran {job}" for job in sorted(settings.SOCIALSITE_SCHEDULES)
    ]
