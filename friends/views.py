"""Pages of the friend graph: thin views that read through selectors and write through services.

Every change is a POST (CSRF-protected) that calls one service, reports its outcome with
`django.contrib.messages` and redirects (POST/redirect/GET). A refused action (`ServiceError`) changes
nothing, because each service is one transaction.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from socialsite.errors import NotFound, ServiceError
from socialsite.ratelimits import hit, limit_page, user_or_ip_key

from . import selectors, services
from .forms import SignUpForm

PAGE_SIZE = 50
HOME_SUGGESTIONS = 5  # the home panel shows the best few; the suggestions page shows all (TOP_K)


class LoginView(auth_views.LoginView):
    redirect_authenticated_user = True


LogoutView = auth_views.LogoutView  # POST only (Django 5)


# --- helpers -----------------------------------------------------------------------------------------


def _user_or_404(username: str) -> AbstractBaseUser:
    """Unknown or inactive usernames are 404s, like any missing page."""
    try:
        return selectors.user_get(username=username)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _paginate(request: HttpRequest, queryset: QuerySet, param: str = "page") -> Page:
    """One page of a list (two bounded queries: count and slice), with links that keep other params.

    `page.prev_query` / `page.next_query` are ready-made query strings, so a page with several lists
    can page each one independently.
    """
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get(param))
    page.param = param
    for attr, has, number in (
        ("prev_query", page.has_previous, page.number - 1),
        ("next_query", page.has_next, page.number + 1),
    ):
        query = None
        if has():
            params = request.GET.copy()
            params[param] = number
            query = params.urlencode()
        setattr(page, attr, query)
    return page


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


# --- pages -------------------------------------------------------------------------------------------


@limit_page("sign_up")  # per client address, one budget with the API's sign-up
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.user_sign_up(
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
                email=form.cleaned_data["email"],
            )
        except ServiceError as exc:
            form.add_service_error(exc)
        else:
            login(request, user, backend="socialsite.backends.RateLimitedModelBackend")
            messages.success(request, f"Welcome, {user.username}! Your account is ready.")
            return redirect("home")
    return render(request, "signup.html", {"form": form})


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Counters and the best few suggestions (cached; "computing…" fills in by itself on a miss)."""
    found = selectors.suggestions_get(user=request.user)
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
            mutual = selectors.mutual_friends_get(viewer=request.user, other=shown.user)
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
    found = selectors.suggestions_get(user=request.user)
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


@login_required
@require_POST
@limit_page("friend_requests")  # per user, one budget with the API's friend requests
def send_request(request: HttpRequest, username: str) -> HttpResponse:
    other = _user_or_404(username)
    return _act(
        request,
        lambda: services.friend_request_send(from_user=request.user, to_user=other),
        success=f"Friend request sent to {other.username}.",
        fallback=reverse("friends"),
    )


@login_required
@require_POST
def unfriend(request: HttpRequest, username: str) -> HttpResponse:
    other = _user_or_404(username)
    return _act(
        request,
        lambda: services.friendship_remove(user=request.user, friend=other),
        success=f"You are no longer friends with {other.username}.",
        fallback=reverse("friends"),
    )


@login_required
@require_POST
def block(request: HttpRequest, username: str) -> HttpResponse:
    other = _user_or_404(username)
    return _act(
        request,
        lambda: services.block_create(blocker=request.user, blocked=other),
        success=f"You blocked {other.username}.",
        fallback=reverse("friends"),
    )


@login_required
@require_POST
def unblock(request: HttpRequest, username: str) -> HttpResponse:
    other = _user_or_404(username)
    return _act(
        request,
        lambda: services.block_remove(blocker=request.user, blocked=other),
        success=f"You unblocked {other.username}.",
        fallback=reverse("friends"),
    )


@login_required
@require_POST
def dismiss_suggestion(request: HttpRequest, username: str) -> HttpResponse:
    other = _user_or_404(username)
    return _act(
        request,
        lambda: services.suggestion_dismiss(user=request.user, dismissed=other),
        success=f"{other.username} will not be suggested to you again.",
        fallback=reverse("suggestions"),
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
