"""Pages of the friend graph: thin views that read through selectors and write through services.

Every change is a POST (CSRF-protected) that calls one service, reports its outcome with
`django.contrib.messages` and redirects (POST/redirect/GET). A refused action (`ServiceError`) changes
nothing, because each service is one transaction.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser
from django.core.paginator import Page
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from socialsite.errors import NotFound, ServiceError
from socialsite.pagination import paginate
from socialsite.ratelimits import hit, limit_page, user_or_ip_key

from . import selectors, services
from .shares import views as shares_views
from .suggestions import enqueue

PAGE_SIZE = 50
HOME_SUGGESTIONS = 5  # the home panel shows the best few; the suggestions page shows all (TOP_K)


# --- helpers -----------------------------------------------------------------------------------------


def _visible_or_404(request: HttpRequest, username: str) -> AbstractBaseUser:
    """The user named in the URL if the viewer may see them (`selectors.user_visible_to`), else a 404 like
    any missing page: unknown, inactive and "blocks you" look the same."""
    try:
        return selectors.user_visible_to(viewer=request.user, username=username)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _paginate(request: HttpRequest, queryset: QuerySet, param: str = "page") -> Page:
    """One page of a list, PAGE_SIZE to a page, with links that keep other params (`socialsite.pagination`)."""
    return paginate(request, queryset, per_page=PAGE_SIZE, param=param)


def _next_url(request: HttpRequest, fallback: str) -> str:
    """Where to go after an action: the form's `next` when it is a local URL, else `fallback`."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return target
    return fallback


def _act(request: HttpRequest, action: Callable[[], object], *, success: str, fallback: str) -> HttpResponse:
    """Run one service; show its refusal or `success`, then redirect (POST/redirect/GET)."""
    try:
        action()
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success)
    return redirect(_next_url(request, fallback))


def _suggestions(request: HttpRequest) -> selectors.Cached:
    """The viewer's cached suggestions, or "computing" after asking for them (never computed here)."""
    me = request.user
    return selectors.suggestions_get(user=me) or enqueue.suggestions_request_computation_rollback_unsafe(user=me)


# --- pages -------------------------------------------------------------------------------------------


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Counters and the best few suggestions (cached; "computing…" fills in by itself on a miss)."""
    found = _suggestions(request)
    return render(
        request,
        "friends/home.html",
        {
            "friend_count": selectors.friend_count(user=request.user),
            "incoming_count": selectors.friend_requests_of(user=request.user, direction="incoming").count(),
            "suggestions": found,
            "top_suggestions": found.results[:HOME_SUGGESTIONS],
            "computing_task_id": found.task_id,
            "computing": found.status == "computing",
            **shares_views.feed_context(request),
        },
    )


@login_required
def profile(request: HttpRequest, username: str) -> HttpResponse:
    """A user's friends (paginated) and what the viewer can do; hidden from users the owner blocks."""
    try:
        shown = selectors.user_profile(viewer=request.user, username=username)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    friends = _paginate(request, selectors.friendships_of(user=shown.user))
    context = {"owner": shown.user, "rel": shown.relationship, "friend_count": shown.friend_count, "friends": friends}
    if not shown.relationship.is_self:
        # A cold look-up enqueues work: one per-user budget with the API's mutual-friends look-ups.
        # Spent, the profile still shows; only its mutual friends wait.
        wait = hit(request=request, scope="mutual_friends", key=user_or_ip_key(request))
        if wait is not None:
            context["mutual_wait"] = wait
        else:
            # Always the viewer's own pair: nobody sees the mutual friends of two other people.
            mutual = selectors.mutual_friends_get(
                viewer=request.user, other=shown.user
            ) or enqueue.mutual_friends_request_computation_rollback_unsafe(viewer=request.user, other=shown.user)
            context.update(
                mutual=mutual,
                mutual_more=(mutual.count or 0) - len(mutual.results),
                computing=mutual.status == "computing",
                computing_task_id=mutual.task_id,
            )
    return render(request, "friends/profile.html", context)


@login_required
def suggestions_page(request: HttpRequest) -> HttpResponse:
    """People you may know, each with a few of your mutual friends; cached, "computing…" on a miss."""
    found = _suggestions(request)
    return render(
        request,
        "friends/suggestions.html",
        {"suggestions": found, "computing": found.status == "computing", "computing_task_id": found.task_id},
    )


@login_required
def friends_page(request: HttpRequest) -> HttpResponse:
    """My friends, my incoming and outgoing requests and my blocks; each list pages on its own."""
    me = request.user
    return render(
        request,
        "friends/friends.html",
        {
            "friends": _paginate(request, selectors.friendships_of(user=me), "page"),
            "incoming": _paginate(request, selectors.friend_requests_of(user=me, direction="incoming"), "in"),
            "outgoing": _paginate(request, selectors.friend_requests_of(user=me, direction="outgoing"), "out"),
            "blocks": _paginate(request, selectors.blocks_of(user=me), "blocks"),
        },
    )


# --- actions (POST only) -----------------------------------------------------------------------------


def _action_on_user(
    service: Callable[[AbstractBaseUser, AbstractBaseUser], object],
    *,
    success: str,
    fallback: str,
    rate_limit_scope: str | None = None,
) -> Callable[[HttpRequest, str], HttpResponse]:
    """A POST-only page action on the user named in the URL: `service(me, other)`, then `success`
    (with ``{other}``) or the service's refusal, then back to the form's `next` or `fallback` (a URL name).
    A user the viewer may not see is a 404 (`_visible_or_404`), before any service runs. With
    `rate_limit_scope`, each POST counts against that per-user budget (shared with the API's)."""

    def view(request: HttpRequest, username: str) -> HttpResponse:
        other = _visible_or_404(request, username)
        return _act(
            request,
            lambda: service(request.user, other),
            success=success.format(other=other.username),
            fallback=reverse(fallback),
        )

    if rate_limit_scope is not None:
        view = limit_page(rate_limit_scope)(view)
    return login_required(require_POST(view))


send_request = _action_on_user(
    lambda me, other: services.friend_request_send(from_user=me, to_user=other),
    success="Friend request sent to {other}.",
    fallback="friends",
    rate_limit_scope="friend_requests",  # per user, one budget with the API's friend requests
)
unfriend = _action_on_user(
    lambda me, other: services.friendship_remove(user=me, friend=other),
    success="You are no longer friends with {other}.",
    fallback="friends",
)
block = _action_on_user(
    lambda me, other: services.block_create(blocker=me, blocked=other),
    success="You blocked {other}.",
    fallback="friends",
)
unblock = _action_on_user(
    lambda me, other: services.block_remove(blocker=me, blocked=other),
    success="You unblocked {other}.",
    fallback="friends",
)
dismiss_suggestion = _action_on_user(
    lambda me, other: services.suggestion_dismiss(user=me, dismissed=other),
    success="{other} will not be suggested to you again.",
    fallback="suggestions",
)


_REQUEST_ACTIONS = {
    "accept": (services.friend_request_accept, "You are now friends with {other}."),
    "decline": (services.friend_request_decline, "You declined the request from {other}."),
    "cancel": (services.friend_request_cancel, "You cancelled your request to {other}."),
}


@login_required
@require_POST
def request_action(request: HttpRequest, request_id: int, action: str) -> HttpResponse:
    """Accept, decline or cancel a request. Someone else's request is a 404, as if it did not exist."""
    if action not in _REQUEST_ACTIONS:
        raise Http404("Unknown action.")
    service, success = _REQUEST_ACTIONS[action]
    try:
        done = service(request_id=request_id, user=request.user)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except ServiceError as exc:
        messages.error(request, exc.message)
    else:
        other = done.to_user if done.from_user_id == request.user.pk else done.from_user
        messages.success(request, success.format(other=other.username))
    return redirect(_next_url(request, reverse("friends")))
