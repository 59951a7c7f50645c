"""Regular jobs end to end: the real scheduler process (`manage.py crontab`) against the real Redis lock,
RabbitMQ and worker.

Schedules here use the seconds field (``* * * * * *`` = every second, set through SCHEDULE_<JOB> like any
schedule), so a test sees several scheduled runs in a few seconds instead of minutes; the code path is the
one a minute schedule takes.
"""

from __future__ import annotations

import itertools
import re
import signal
import time
from datetime import datetime

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from friends import friend_sets, services
from friends.models import Share
from socialsite.models import SiteCounters, TaskRecord
from socialsite.redis import get_redis
from tests.integration.conftest import only_job, wait_for

pytestmark = pytest.mark.integration
JOB = "update_site_counters"


def runs(actor: str = JOB) -> list[datetime]:
    """The scheduled time of every run the scheduler enqueued (from the task records), in order."""
    messages = TaskRecord.objects.filter(actor_name=actor).values_list("message", flat=True)
    return sorted(
        datetime.fromisoformat(m["options"]["scheduled_for"]) for m in messages if "scheduled_for" in m["options"]
    )


def test_scheduled_counters_run_in_a_worker_and_show_on_the_stats_page_and_api(
    worker, start_scheduler, make_user, api_as
):
    alice, bob = make_user("alice"), make_user("bob")
    services.friendship_create(user=alice, friend=bob)
    Share.objects.create(owner=alice, url="https://example.com/x")
    before = timezone.now()

    start_scheduler(only_job(JOB, "*/2 * * * * *"))

    row = wait_for(
        lambda: SiteCounters.objects.filter(computed_at__gte=before).first(), timeout=30, what="scheduled counters"
    )
    assert (row.users, row.friendships, row.shares, row.notifications) == (2, 1, 1, 0)
    # The counters are committed by the task, its record says done just after it: wait for that.
    record = wait_for(
        lambda: TaskRecord.objects.filter(actor_name=JOB, state="done").first(), timeout=10, what="the run's record"
    )
    assert "scheduled_for" in record.message["options"]  # the scheduler sent it

    body = api_as(alice).get("/api/v1/stats/").json()
    assert body["status"] == "ready" and body["users"] == 2 and body["friendships"] == 1 and body["shares"] == 1

    make_user("carol")
    wait_for(lambda: SiteCounters.objects.filter(users=3).exists(), timeout=30, what="a later run counts carol")
    body = api_as(alice).get("/api/v1/stats/").json()
    shown = SiteCounters.objects.get(computed_at=datetime.fromisoformat(body["updated_at"]))
    assert body["users"] == shown.users == 3 and shown.computed_at > row.computed_at
    page = Client()
    page.force_login(alice)
    html = page.get("/stats/").content.decode()
    stamp = re.search(r'Computed <time datetime="([^"]+)"', html).group(1)
    shown = SiteCounters.objects.get(computed_at=datetime.fromisoformat(stamp))
    assert shown.users == 3 and f'<strong class="figure">{shown.users}</strong>' in html and "<svg" in html


def test_two_schedulers_fire_each_run_exactly_once_and_the_standby_takes_over(start_scheduler):
    env = only_job(JOB, "* * * * * *", SCHEDULER_LOCK_TIMEOUT="3", SCHEDULER_LOCK_REFRESH="1")
    first, second = start_scheduler(env, wait=False), start_scheduler(env, wait=False)
    wait_for(lambda: first.started or second.started, timeout=60, what="one scheduler takes the lock")
    leader, standby = (first, second) if first.started else (second, first)

    wait_for(lambda: len(runs()) >= 3, timeout=20, what="three scheduled runs")
    assert not standby.started and standby.proc.poll() is None and "Acquiring lock" in standby.output

    leader.kill()  # no clean-up: the lock expires after SCHEDULER_LOCK_TIMEOUT
    led = runs()
    wait_for(lambda: standby.started, timeout=20, what="the standby takes over")
    wait_for(lambda: len(runs()) >= len(led) + 2, timeout=20, what="runs by the new leader")
    standby.stop()

    every = runs()
    assert len(every) == len(set(every)), "a scheduled time was enqueued twice"
    steps = {(b - a).total_seconds() for a, b in itertools.pairwise(led)}
    assert steps == {1.0}, f"while two schedulers ran, runs were missed or doubled: {led}"
    assert every[len(led)].timestamp() >= standby.started_at - 1  # the new leader replays nothing


def test_a_scheduler_that_missed_runs_fires_none_of_them_late(start_scheduler):
    env = only_job(JOB, "* * * * * *", SCHEDULER_LOCK_TIMEOUT="30", SCHEDULER_LOCK_REFRESH="2")
    first = start_scheduler(env)
    wait_for(runs, timeout=20, what="a first run")

    # Paused (a stalled VM): the runs it slept through are coalesced into one, never replayed one by one.
    first.signal(signal.SIGSTOP)
    paused = time.time()
    wait_for(lambda: time.time() >= paused + 4, interval=0.1, what="four scheduled times pass")
    first.signal(signal.SIGCONT)
    resumed = time.time()
    wait_for(lambda: runs()[-1].timestamp() > resumed, timeout=20, what="runs after the pause")
    slept = [r for r in runs() if paused + 1 < r.timestamp() < resumed - 1]
    assert slept == [], f"runs missed while paused were fired late: {slept}"

    # Down (stopped, restarted later): it fires none of the runs it missed.
    first.stop()
    stopped = time.time()
    last_before = runs()[-1]
    wait_for(lambda: time.time() >= stopped + 3.3, interval=0.1, what="three more scheduled times pass")
    restart = time.time()
    missed = [t for t in range(int(stopped) + 1, int(restart) + 1) if t < restart]  # scheduled times while down
    assert len(missed) >= 3
    start_scheduler(env)
    wait_for(lambda: runs()[-1] > last_before, timeout=20, what="a run after the restart")
    late = [r for r in runs() if last_before < r and r.timestamp() < restart]
    assert late == [], f"runs missed while down were fired after the restart: {late}"


def test_run_now_in_admin_enqueues_the_job_and_its_status_reaches_done(worker, make_user):
    root = get_user_model().objects.create_superuser("root", "root@example.com", "admin-pass-123")
    client = Client()
    client.force_login(root)

    response = client.post(f"/admin/socialsite/scheduledjob/{JOB}/run/", follow=True)
    record = TaskRecord.objects.get(actor_name=JOB)
    assert f'href="/tasks/{record.id}/"' in response.content.decode()
    done = wait_for(lambda: TaskRecord.objects.filter(id=record.id, state="done").first(), timeout=20, what="done")
    assert done.result["users"] == 1 and done.owner == root
    assert "Done" in client.get(f"/tasks/{record.id}/").content.decode()
    listing = client.get("/admin/socialsite/scheduledjob/").content.decode()
    assert f"/admin/socialsite/taskrecord/{record.id}/change/" in listing

    # The consistency check, run now against drift made on purpose, reports the repair in its result.
    alice, bob = make_user("alice"), make_user("bob")
    services.friendship_create(user=alice, friend=bob)
    wait_for(lambda: friend_sets.friend_ids(alice.pk) == {bob.pk}, timeout=20, what="the event path syncs the sets")
    get_redis().sadd(friend_sets.friend_set_key(alice.pk), root.pk)
    client.post("/admin/socialsite/scheduledjob/check_graph_consistency/run/")
    check = TaskRecord.objects.get(actor_name="check_graph_consistency")
    done = wait_for(lambda: TaskRecord.objects.filter(id=check.id, state="done").first(), timeout=30, what="check")
    assert done.result["repairs"]["friend_set_extra_member"]["user_ids"] == [alice.pk]
    assert done.progress_done == done.progress_total == 4
    assert friend_sets.friend_ids(alice.pk) == {bob.pk}
