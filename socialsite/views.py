"""Plumbing pages: task status."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from .selectors import task_records_of


@login_required
def task_detail(request: HttpRequest, task_id: str) -> HttpResponse:
    """Refreshes itself (a meta refresh, no JavaScript needed) until the task has finished."""
    task = get_object_or_404(task_records_of(user=request.user), id=task_id)
    return render(request, "socialsite/task.html", {"task": task})
