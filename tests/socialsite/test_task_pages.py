"""The task pages: my tasks (list) and one task, only ever the owner's."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse
from django.utils import timezone

from socialsite.models import TaskRecord
from tests.support.pages import browser

pytestmark = pytest.mark.django_db


def _task(owner, actor="compute_suggestions", **fields) -> TaskRecord:
    return TaskRecord.objects.create(
        id=uuid.uuid4(), actor_name=actor, queue_name="graph", owner=owner, message={}, **fields
    )


def test_my_tasks_lists_mine_newest_first_with_readable_names(alice, bob):
    older = _task(alice, enqueued_at=timezone.now() - timezone.timedelta(minutes=5), state="done")
    newer = _task(alice, actor="compute_mutual_friends", state="running", progress_done=1, progress_total=3)
    _task(bob, actor="update_site_counters")
    html = browser(alice).get(reverse("task-list")).content.decode()
    assert html.index(str(newer.id)) < html.index(str(older.id))
    assert "Mutual friends for a profile" in html and "Friend suggestions for you" in html and "1/3" in html
    assert "Site counters" not in html


def test_no_tasks_says_where_they_come_from(alice):
    html = browser(alice).get(reverse("task-list")).content.decode()
    assert "No tasks yet." in html


def test_a_running_task_page_follows_it_with_a_script_and_refreshes_without_one(alice):
    task = _task(alice, state="running", progress_done=2, progress_total=5, progress_message="step 2 of 5")
    html = browser(alice).get(reverse("task-detail", args=[task.id])).content.decode()
    assert f'data-task-url="/api/v1/tasks/{task.id}/"' in html and "js/task.js" in html
    assert '<noscript><meta http-equiv="refresh" content="2"></noscript>' in html
    assert "2/5 step 2 of 5" in html
    task.state = "done"
    task.save()
    html = browser(alice).get(reverse("task-detail", args=[task.id])).content.decode()
    assert "js/task.js" not in html and "refresh" not in html


def test_someone_elses_task_is_not_found(alice, bob):
    assert browser(bob).get(reverse("task-detail", args=[_task(alice).id])).status_code == 404
