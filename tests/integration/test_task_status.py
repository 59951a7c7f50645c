"""Task status through the API, retries with backoff, dead letters in admin and re-enqueueing them."""

from django.contrib.auth import get_user_model
from django.test import Client

from socialsite.models import TaskRecord
from socialsite.taskstatus import send_tracked
from tests.support.tasks import always_fails, count_steps
from tests.support.waiting import wait_for


def test_task_status_moves_through_states_with_progress_visible_to_its_owner_only(worker, alice, bob, api_as):
    message = send_tracked(count_steps, 4, 0.4, owner_id=alice.pk)
    url = f"/api/v1/tasks/{message.message_id}/"
    client = api_as(alice)
    seen_states, seen_progress = [], []

    def finished():
        body = client.get(url).json()
        seen_states.append(body["state"])
        if body["progress"]:
            seen_progress.append(body["progress"]["done"])
        return body["state"] == "done" and body

    body = wait_for(finished, timeout=20, interval=0.05, what="task done")
    assert body["result"] == {"steps": 4}
    assert body["actor"] == "count_steps" and body["finished_at"] and body["error"] == ""
    assert "running" in seen_states
    assert seen_states.index("running") < seen_states.index("done")
    assert len(set(seen_progress)) >= 2 and seen_progress == sorted(seen_progress)

    assert api_as(bob).get(url).status_code == 404
    page = Client()
    page.force_login(bob)
    assert page.get(f"/tasks/{message.message_id}/").status_code == 404
    page.force_login(alice)
    assert "Done" in page.get(f"/tasks/{message.message_id}/").content.decode()


def test_always_failing_task_is_retried_then_dead_lettered_then_requeued_from_admin(worker):
    message = always_fails.send("dl-1")
    record = wait_for(
        lambda: TaskRecord.objects.filter(id=message.message_id, state="failed").first(), timeout=20, what="dead letter"
    )
    assert record.retries == 2  # the actor's max_retries
    # Backoff: at least the two minimum delays (200 ms, then doubled) passed between the attempts.
    assert (record.finished_at - record.enqueued_at).total_seconds() >= 0.2 + 0.4 * 0.5
    assert "probe dl-1 failed on purpose" in record.error
    assert "retry" in worker.output.lower()

    admin = get_user_model().objects.create_superuser("root", "root@example.com", "admin-pass-123")
    client = Client()
    client.force_login(admin)
    listing = client.get("/admin/socialsite/deadletter/")
    assert listing.status_code == 200 and str(record.id) in listing.content.decode()
    assert "probe dl-1 failed on purpose" in listing.content.decode()

    response = client.post(
        "/admin/socialsite/deadletter/", {"action": "requeue", "_selected_action": [str(record.id)]}, follow=True
    )
    assert "Re-enqueued 1 task" in response.content.decode()
    first_finish = record.finished_at
    rerun = wait_for(
        lambda: TaskRecord.objects.filter(id=record.id, state="failed", finished_at__gt=first_finish).first(),
        timeout=20,
        what="the re-enqueued run to fail again",
    )
    assert rerun.started_at > first_finish


def test_a_failed_tasks_owner_sees_a_short_error_and_admins_the_traceback(worker, alice, api_as):
    """The owner learns what failed, not where the site runs: no traceback, no hosts, ports or paths."""
    tag = "redis://10.1.2.3:6379/0 via db.internal:5432 in /srv/socialsite/friends/graph.py"
    message = send_tracked(always_fails, tag, owner_id=alice.pk)
    record = wait_for(
        lambda: TaskRecord.objects.filter(id=message.message_id, state="failed").first(), timeout=20, what="failure"
    )

    body = api_as(alice).get(f"/api/v1/tasks/{message.message_id}/").json()
    assert body["state"] == "failed"
    assert body["error"] == "ProbeFailure: probe <url> via <host> in <path> failed on purpose"
    page = Client()
    page.force_login(alice)
    html = page.get(f"/tasks/{message.message_id}/").content.decode()
    assert "ProbeFailure: probe &lt;url&gt; via &lt;host&gt; in &lt;path&gt; failed on purpose" in html
    for leak in ("Traceback", "10.1.2.3", "6379", "db.internal", "/srv/", "tests/support/tasks.py"):
        assert leak not in str(body) and leak not in html, leak

    assert record.traceback.startswith("Traceback") and "tests/support/tasks.py" in record.traceback
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "admin-pass-123")
    page.force_login(admin)
    change = page.get(f"/admin/socialsite/taskrecord/{record.id}/change/").content.decode()
    assert "Traceback" in change and "10.1.2.3" in change
