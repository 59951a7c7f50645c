"""The operator's view in admin: every regular job with its schedule, next and last run, and "run now"."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from socialsite.models import TaskRecord
from socialsite.redis import get_redis

URL = "/admin/socialsite/scheduledjob/"


def row_of(html: str, job: str) -> str:
    match = re.search(rf'<tr class="job-{job}">(.*?)</tr>', html, re.S)
    assert match, f"no row for {job}"
    return match.group(1)


def test_every_job_is_listed_with_schedule_next_run_and_last_run(admin_browser, settings):
    settings.SOCIALSITE_SCHEDULES = {**settings.SOCIALSITE_SCHEDULES, "check_graph_consistency": "off"}
    started = timezone.now() - timedelta(minutes=3)
    TaskRecord.objects.create(
        id=uuid.uuid4(),
        actor_name="update_site_counters",
        queue_name="maintenance",
        state="done",
        message={"options": {"scheduled_for": started.isoformat()}},
        enqueued_at=started,
        started_at=started,
        finished_at=started + timedelta(seconds=1.25),
        result={"users": 42},
    )
    html = admin_browser.get(URL).content.decode()
    for job in settings.SOCIALSITE_SCHEDULES:
        assert f'<tr class="job-{job}">' in html
    counters = row_of(html, "update_site_counters")
    assert "<code>*/10 * * * *</code>" in counters
    assert "Count users, friendships, shares and notifications" in counters and "Queue: maintenance" in counters
    next_run = re.findall(r"<td>(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)</td>", counters)[0]
    assert next_run.endswith("0:00")  # a multiple of ten minutes
    assert f"{timezone.localtime(started):%Y-%m-%d %H:%M:%S}" in counters
    assert "done" in counters and "1.25 s" in counters and "{&quot;users&quot;: 42}" in counters
    assert "switched off" in row_of(html, "check_graph_consistency")
    assert "never" in row_of(html, "prune_task_records")
    assert "No scheduler is running" in html
    get_redis().set("dramatiq-scheduler", "token", ex=10)
    assert "A scheduler is running" in admin_browser.get(URL).content.decode()


def test_run_now_enqueues_the_job_and_links_to_its_task_status(admin_browser, stub_broker):
    response = admin_browser.post(f"{URL}update_site_counters/run/", follow=True)
    assert response.status_code == 200
    record = TaskRecord.objects.get(actor_name="update_site_counters")
    assert record.owner == admin_browser.user and record.message["options"]["run_now"] is True
    assert stub_broker.queues["maintenance"].qsize() == 1
    html = response.content.decode()
    assert f'href="/tasks/{record.id}/"' in html
    assert f'href="/admin/socialsite/taskrecord/{record.id}/change/"' in html
    assert "(run now)" in row_of(html, "update_site_counters")
    assert admin_browser.get(f"/tasks/{record.id}/").status_code == 200  # the owner's status page


def test_run_now_of_an_unknown_job_says_so_and_enqueues_nothing(admin_browser, stub_broker):
    html = admin_browser.post(f"{URL}no_such_job/run/", follow=True).content.decode()
    assert "No scheduled job is called" in html
    assert not TaskRecord.objects.exists()


def test_run_now_is_post_only_and_needs_the_change_permission(admin_browser, django_user_model):
    assert admin_browser.get(f"{URL}update_site_counters/run/").status_code == 405
    viewer = django_user_model.objects.create_user("viewer", password="x-pass-123", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_scheduledjob"))
    client = Client()
    client.force_login(viewer)
    html = client.get(URL).content.decode()
    assert "update_site_counters" in html and "Run now" not in html
    client.post(f"{URL}update_site_counters/run/")
    assert not TaskRecord.objects.exists()
    nobody = django_user_model.objects.create_user("staff", password="x-pass-123", is_staff=True)
    client.force_login(nobody)
    assert "update_site_counters" not in client.get(URL, follow=True).content.decode()
