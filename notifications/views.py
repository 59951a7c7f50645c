"""Notification pages: the inbox (grouped, paginated) and the mark-read forms.

Every change is a CSRF-protected POST that calls one service and redirects back (POST/redirect/GET), so
the pages work without JavaScript; the header badge's live update (static/js/badge.js) is an extra.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from socialsite.pagination import paginate
from socialsite.redirects import local_next

from . import selectors, services

PAGE_SIZE = 50


def _back(request: HttpRequest) -> HttpResponse:
    """Back to the page the form was on (a local `next`), else the inbox."""
    return redirect(local_next(request, request.POST.get("next"), reverse("notifications")))


@require_safe
@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """My notifications, newest first, 50 to a page; several of one kind close together on one row.

    `?unread=1` shows unread ones only. Queries: the paginator's count and the page (actors joined),
    whatever the number of notifications; grouping is done in Python over the page.
    """
    unread_only = request.GET.get("unread") == "1"
    notifications = selectors.notifications_list(user=request.user, unread_only=unread_only)
    page = paginate(request, notifications, per_page=PAGE_SIZE)
    groups = selectors.group_notifications(list(page.object_list))
    return render(request, "notifications/inbox.html", {"page": page, "groups": groups, "unread_only": unread_only})


@require_POST
@login_required
def mark_read(request: HttpRequest) -> HttpResponse:
    """Mark the posted `id`s read (one notification, or the rows of a group); others' ids change nothing."""
    ids = [int(v) for v in request.POST.getlist("id") if v.isascii() and v.isdigit() and len(v) <= 18]
    if not ids:
        messages.error(request, "No notification was given to mark read.")
        return _back(request)
    services.notifications_mark_read(user=request.user, notification_ids=ids)
    return _back(request)


@require_POST
@login_required
def mark_all_read(request: HttpRequest) -> HttpResponse:
    count = services.notifications_mark_all_read(user=request.user)
    messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} read.")
    return _back(request)
