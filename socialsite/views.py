"""Plumbing pages: task status (one task, and the list of mine), the site's stats, and `/favicon.ico`."""

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect
from django.shortcuts import get_object_or_404, render
from django.templatetags.static import static

from . import charts, selectors, services
from .selectors import task_records_of

STATS_HISTORY_DAYS = 7
COUNTER_LABELS = {
    "users": "Users",
    "friendships": "Friendships",
    "shares": "Shares",
    "notifications": "Notifications",
    "friendships_last_24h": "New friendships (24 h)",
    "active_users_last_24h": "Active users (24 h)",
}


# What a task is, in the words of its owner; actors not named here show their name.
TASK_LABELS = {
    "compute_suggestions": "Friend suggestions for you",
    "compute_mutual_friends": "Mutual friends for a profile",
    "refresh_all_suggestions": "Full refresh of everyone's suggestions",
    "update_site_counters": "Site counters",
    "check_graph_consistency": "Graph cache consistency check",
    "process_share": "Processing of a share (file checksum and thumbnail)",
    "prune_task_records": "Pruning of old task records",
    "prune_read_notifications": "Pruning of old read notifications",
    "relay_outbox": "Outbox relay",
}
TASK_PAGE_SIZE = 50


@login_required
def task_detail(request: HttpRequest, task_id: str) -> HttpResponse:
    """Refreshes itself (a meta refresh, no JavaScript needed) until the task has finished."""
    task = get_object_or_404(task_records_of(user=request.user), id=task_id)
    label = TASK_LABELS.get(task.actor_name, task.actor_name)
    return render(request, "socialsite/task.html", {"task": task, "label": label})


@login_required
def task_list(request: HttpRequest) -> HttpResponse:
    """My tasks, newest first, 50 to a page (a count and a slice)."""
    page = Paginator(task_records_of(user=request.user).order_by("-enqueued_at"), TASK_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    page.prev_query = f"page={page.number - 1}" if page.has_previous() else None
    page.next_query = f"page={page.number + 1}" if page.has_next() else None
    for task in page.object_list:
        task.label = TASK_LABELS.get(task.actor_name, task.actor_name)
    return render(request, "socialsite/tasks.html", {"page": page})


@login_required
def stats_page(request: HttpRequest) -> HttpResponse:
    """The latest site counters, when they were computed, and a chart of each one over the last week.

    On a fresh site with no counters yet it asks for them once (shared by every reader) and says so;
    the page reloads itself until they are there.
    """
    latest = selectors.site_counters_latest()
    if latest is None:
        return render(
            request,
            "socialsite/stats.html",
            {"latest": None, "task_id": services.site_counters_request(user=request.user)},
        )
    history = selectors.site_counters_history(days=STATS_HISTORY_DAYS)
    counters = [
        {
            "name": name,
            "label": label,
            "value": getattr(latest, name),
            "chart": charts.line_chart_svg(
                [(row.computed_at, getattr(row, name)) for row in history],
                title=f"{label}, last {STATS_HISTORY_DAYS} days",
                chart_id=f"chart-{name}",
            ),
        }
        for name, label in COUNTER_LABELS.items()
    ]
    return render(
        request,
        "socialsite/stats.html",
        {
            "latest": latest,
            "counters": counters,
            "recent": list(reversed(history[-10:])),
            "labels": COUNTER_LABELS,
            "days": STATS_HISTORY_DAYS,
            "retention_days": settings.SITE_COUNTERS_HISTORY_DAYS,
        },
    )


def favicon(request: HttpRequest) -> HttpResponse:
    """`/favicon.ico`: the site's icon (a hashed static file). Browsers ask for this address on every page
    that names no icon (the admin's, a JSON answer), which otherwise logged a 404 each time."""
    return HttpResponsePermanentRedirect(static("favicon.svg"))
