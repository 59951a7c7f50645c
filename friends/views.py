"""Pages of the friend graph: thin views that read through selectors and write through services.

Every change is a POST (CSRF-protected) that calls one service, reports its outcome with
`django.contrib.messages` and redirects (POST/redirect/GET). A refused action (`ServiceError`) changes
nothing, because each service is one transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import AbstractBaseUser
from django.core.paginator import Page
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import FriendListVisibility
from accounts.people import display_name
from accounts.selectors import friend_list_visibility_of
from socialsite import fragments
from socialsite.errors import NotFound, ServiceError
from socialsite.pagination import asked_page, page_of_counted, paginate
from socialsite.ratelimits import hit, limit_page, user_or_ip_key
from socialsite.redirects import local_next

from . import drawing, pages_queries, rows, selectors, services
from .shares import selectors as shares_selectors
from .shares import views as shares_views
from .suggestions import enqueue

PAGE_SIZE = 50  # rows per list page: ~350 friends of the demo user are 7 pages
HOME_SUGGESTIONS = 5  # the home panel shows the best few; the suggestions page shows all (TOP_K)
PROFILE_SHARES_PAGE_SIZE = 10  # a profile shows the owner's latest shares; the home feed shows 20 a page
# Friends a profile shows (the newest); the whole list is a page of its own, as the mutual friends'
# (`selectors.MUTUAL_PREVIEW` on the profile). 100 rows made the profile the site's costliest page.
PROFILE_PREVIEW = 12


# --- helpers -----------------------------------------------------------------------------------------


def _visible_or_404(request: HttpRequest, username: str) -> AbstractBaseUser:
    """The user named in the URL if the viewer may see them (`selectors.user_visible_to`), else a 404 like
    any missing page: unknown, inactive and "blocks you" look the same."""
    try:
        return selectors.user_visible_to(viewer=request.user, username=username)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _paginate(request: HttpRequest, queryset: QuerySet | pages_queries.Listed, param: str = "page") -> Page:
    """One page of a list, PAGE_SIZE to a page, with links that keep other params (`socialsite.pagination`)."""
    return paginate(request, queryset, per_page=PAGE_SIZE, param=param)


def _next_url(request: HttpRequest, fallback: str, *, source: QueryDict | None = None) -> str:
    """Where to go after an action: the form's `next` (or `source`'s) when it is a local URL, else `fallback`."""
    return local_next(request, (request.POST if source is None else source).get("next"), fallback)


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
    """Counters, the feed and the best few suggestions (cached; "computing…" fills in by itself on a miss).

    Someone without friends has no friends of friends: nothing to compute, nothing to wait for (the
    newcomer's first page shows how to find a first friend at once, and does not reload itself).
    The three counts (friends and incoming requests as `/friends/` lists them, the feed's shares) are one
    query (`pages_queries`); the feed's page of shares one more when there are any.
    """
    me = request.user.pk
    friend_count, incoming_count, feed_count = pages_queries.counts(
        (pages_queries.FRIENDS, (me, me)), (pages_queries.INCOMING, (me,)), (pages_queries.FEED, (me,))
    )
    found = _suggestions(request) if friend_count else selectors.Cached(status="ready")
    feed = pages_queries.Listed.queryset(lambda: shares_selectors.shares_feed(viewer=request.user), feed_count)
    return render(
        request,
        "friends/home.html",
        {
            "friend_count": friend_count,
            "incoming_count": incoming_count,
            "suggestions": found,
            "top_suggestions": rows.suggestion_rows(found.results[:HOME_SUGGESTIONS], rows.Links()),
            "computing_task_id": found.task_id,
            "computing": found.status == "computing",
            "feed": paginate(request, feed, per_page=shares_views.FEED_PAGE_SIZE, param="shares"),
        },
    )


def _profile_or_response(request: HttpRequest, username: str) -> selectors.Profile | HttpResponse:
    """The profile named in the URL as the viewer may see it (`selectors.user_profile`: one query), or a
    permanent redirect to the same page under the name's own spelling (`/u/ALICE/`: names ignore letter
    case, one page has one address).

    Raises:
        Http404: the user is not visible to the viewer (unknown, inactive and "blocks you" look the same).
    """
    try:
        shown = selectors.user_profile(viewer=request.user, username=username)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    if shown.user.username != username:
        canonical = reverse(request.resolver_match.url_name, args=[shown.user.username])
        query = request.META.get("QUERY_STRING", "")
        return redirect(f"{canonical}?{query}" if query else canonical, permanent=True)
    return shown


def _friends_listed(request: HttpRequest, shown: selectors.Profile) -> pages_queries.Listed:
    """The owner's friend list as the viewer is shown it, for a slice or a paginator: its count is the
    profile's own (`user_profile` read it), so only the rows asked for are fetched. The caller has
    checked `shown.friends_visible`."""
    return pages_queries.Listed.compiled(
        pages_queries.FRIENDS,
        (request.user.pk, shown.user.pk),
        shown.friend_count,
        pages_queries.ListedFriendship.of,
    )


def _mutual_lookup(request: HttpRequest, shown: selectors.Profile, *, limit: int, offset: int = 0) -> dict:
    """The context of a list of the viewer's mutual friends with the profile's owner (always the viewer's
    own pair: nobody sees the mutual friends of two other people): `mutual` (a `selectors.Cached`: `limit` people
    from the `offset`-th on), `computing` and `computing_task_id`, or `mutual_wait` (seconds) when a
    cold look-up would exceed the per-user budget. Only a cold look-up enqueues work, so only a cold one
    spends the budget shared with the API's mutual-friends look-ups; spent, the page still shows, only
    this list waits. `shown` is the profile the page read first: its `friendships_version` lets the
    database's confirmation of the list, kept in the cache, stand until either user's friends change."""
    other = shown.user
    mutual = selectors.mutual_friends_get(
        viewer=request.user, other=other, limit=limit, offset=offset, version=shown.friendships_version
    )
    if mutual is None:
        wait = hit(request=request, scope="mutual_friends", key=user_or_ip_key(request))
        if wait is not None:
            return {"mutual_wait": wait}
        mutual = enqueue.mutual_friends_request_computation_rollback_unsafe(viewer=request.user, other=other)
    return {"mutual": mutual, "computing": mutual.status == "computing", "computing_task_id": mutual.task_id}


@login_required
def profile(request: HttpRequest, username: str) -> HttpResponse:
    """A user as the viewer may see them: what the two are to each other and what the viewer can do, a
    preview of the mutual friends (drawn, and the first few listed) and of the friends (the newest few,
    if the owner shows them to the viewer), the latest shares for friends; the whole lists have their own
    pages (`profile_friends`, `profile_mutual_friends`). A 404 for users who block the viewer."""
    shown = _profile_or_response(request, username)
    if isinstance(shown, HttpResponse):
        return shown
    links = rows.Links()
    owner, rel = shown.user, shown.relationship
    context = {
        "owner": owner,
        "owner_name": display_name(owner),
        "rel": rel,
        "friend_count": shown.friend_count,
        "friends_visible": shown.friends_visible,
        "share_count": shown.share_count,
    }
    # The owner's choice of who sees their friend list; never anyone who blocks the viewer, nor inactive users.
    if shown.friends_visible and shown.friend_count:
        context["friend_rows"] = rows.friend_rows(_friends_listed(request, shown)[:PROFILE_PREVIEW], links)
    if shown.share_count is not None:
        # The count came with the profile; the page of shares is read only when there are any.
        owned = pages_queries.Listed.queryset(
            lambda: shares_selectors.shares_of(viewer=request.user, owner=owner), shown.share_count
        )
        context["shares"] = paginate(request, owned, per_page=PROFILE_SHARES_PAGE_SIZE, param="shares")
    if rel.friend_since:
        context["friend_since"], context["friend_since_iso"] = links.date(rel.friend_since)
    if rel.is_self:
        visibility = friend_list_visibility_of(user=request.user)
        context["my_visibility"] = FriendListVisibility(visibility).label.lower()
        return _render_profile(request, context)
    # The buttons' targets (the one form names each by `formaction`), from the page's reversed routes;
    # Unfriend and Block are links to pages that ask first, and come back here.
    back = rows.next_query(request.get_full_path())
    context["action_urls"] = {
        "unblock": links.unblock(owner.username),
        "unfriend": f"{links.unfriend(owner.username)}?{back}",
        "block": f"{links.block(owner.username)}?{back}",
        "send_request": links.send_request(owner.username),
        "accept": rel.incoming_request_id and links.request_action(rel.incoming_request_id, "accept"),
        "decline": rel.incoming_request_id and links.request_action(rel.incoming_request_id, "decline"),
        "cancel": rel.outgoing_request_id and links.request_action(rel.outgoing_request_id, "cancel"),
    }
    context.update(_mutual_lookup(request, shown, limit=selectors.MUTUAL_PREVIEW))
    mutual = context.get("mutual")
    if mutual is not None and mutual.status == "ready":
        context["mutual_rows"] = rows.people_rows(mutual.results, links)
        if (mutual.count or 0) > len(mutual.results):
            context["mutual_all_url"] = reverse("profile-mutual-friends", args=[owner.username])
        context["mutual_drawn"] = min(len(mutual.results), drawing.SAMPLE)
        context["mutual_drawing"] = drawing.mutual_friends_svg(
            viewer=request.user,
            owner=owner,
            mutual=mutual.results,
            mutual_count=mutual.count or 0,
            are_friends=rel.is_friend,
        )
    return _render_profile(request, context)


# What the profile's content may print, each None unless the view sets it (Jinja2's undefined is strict).
_PROFILE_CONTENT_KEYS = (
    "friend_rows",
    "shares",
    "friend_since",
    "friend_since_iso",
    "my_visibility",
    "action_urls",
    "mutual",
    "mutual_wait",
    "computing",
    "computing_task_id",
    "mutual_rows",
    "mutual_all_url",
    "mutual_page",
    "mutual_drawn",
    "mutual_drawing",
)


def _render_profile(request: HttpRequest, context: dict) -> HttpResponse:
    """The profile page: its content rendered by Jinja2 (`templates/fragments/friends/profile.html`), in
    the site's layout. In the Django engine each of its dozens of variables resolved through the context
    stack and was localized and escaped through lazy-aware wrappers: in-process, the profile's CPU ÷ the
    bare view's went 1.89 → 1.75 with Jinja2 (`bench.pages_profile --paired`)."""
    content = {key: None for key in _PROFILE_CONTENT_KEYS}
    content.update(
        context, user=request.user, csrf_input=fragments.csrf_input(request), full_path=request.get_full_path()
    )
    context["content"] = fragments.render_fragment("friends/profile.html", content)
    return render(request, "friends/profile.html", context)


@login_required
def profile_friends(request: HttpRequest, username: str) -> HttpResponse:
    """A user's whole friend list, `PAGE_SIZE` a page, newest friends first, if the owner shows it to the
    viewer (else the page says so); a 404 for users who block the viewer."""
    shown = _profile_or_response(request, username)
    if isinstance(shown, HttpResponse):
        return shown
    owner = shown.user
    context = {"owner": owner, "owner_name": display_name(owner), "is_self": shown.relationship.is_self}
    if shown.friends_visible:
        friends = _paginate(request, _friends_listed(request, shown))
        friends.rows = rows.friend_rows(friends.object_list, rows.Links())
        context.update(friends=friends, friend_count=shown.friend_count)
    return render(request, "friends/profile_friends.html", context)


@login_required
def profile_mutual_friends(request: HttpRequest, username: str) -> HttpResponse:
    """The viewer's mutual friends with a user, `selectors.MUTUAL_PAGE` a page, smallest ids first (the
    first page is the API's `users/{username}/mutual-friends/`); "computing" while the worker computes
    them. A 404 for users who block the viewer, and for the viewer's own name."""
    shown = _profile_or_response(request, username)
    if isinstance(shown, HttpResponse):
        return shown
    if shown.relationship.is_self:
        raise Http404("You have no mutual friends with yourself.")
    owner, per_page = shown.user, selectors.MUTUAL_PAGE
    asked = asked_page(request)
    context = {"owner": owner, "owner_name": display_name(owner)}
    context.update(_mutual_lookup(request, shown, limit=per_page, offset=(asked - 1) * per_page))
    mutual = context.get("mutual")
    if mutual is not None and mutual.status == "ready":
        page = page_of_counted(request, mutual.count or 0, per_page=per_page)
        if page.number != asked:  # past the end: the last page, as every paginated page answers
            again = selectors.mutual_friends_get(
                viewer=request.user,
                other=owner,
                limit=per_page,
                offset=(page.number - 1) * per_page,
                version=shown.friendships_version,
            )
            if again is not None and again.status == "ready":  # else (gone meanwhile) the empty page asked
                mutual = context["mutual"] = again
        page.object_list = context["mutual_rows"] = rows.people_rows(mutual.results, rows.Links())
        context["mutual_page"] = page
    return render(request, "friends/profile_mutual_friends.html", context)


@login_required
def suggestions_page(request: HttpRequest) -> HttpResponse:
    """People you may know, each with a few of your mutual friends; cached, "computing…" on a miss."""
    found = _suggestions(request)
    return render(
        request,
        "friends/suggestions.html",
        {
            "suggestions": found,
            "suggestion_rows": rows.suggestion_rows(found.results, rows.Links()),
            "computing": found.status == "computing",
            "computing_task_id": found.task_id,
        },
    )


@login_required
def find_person(request: HttpRequest) -> HttpResponse:
    """Go to someone's profile by username (`?username=`): the newcomer's way to a first friend, before any
    suggestion exists. Nobody visible by that name re-shows the form with the error, keeping what was
    typed; the answer is the same for an unknown, inactive or blocking user (`user_visible_to`)."""
    typed = request.GET.get("username", "")
    username = typed.strip().lstrip("@")
    error = ""
    if "username" in request.GET:
        if not username:
            error = "Type a username."
        elif "\x00" in typed:  # no name holds one (Django's fields refuse it), and the page must not echo it
            error = "Null characters are not allowed."
            typed = typed.replace("\x00", "")
        else:
            try:
                found = selectors.user_visible_to(viewer=request.user, username=username)
            except NotFound:
                error = f"Nobody is called @{username} here. Check the spelling (usernames are like fb12)."
            else:
                return redirect("profile", username=found.username)
    return render(request, "friends/find.html", {"username": typed, "error": error})


@login_required
def friends_page(request: HttpRequest) -> HttpResponse:
    """My friends, my incoming and outgoing requests and my blocks; each list pages on its own.

    Three queries whatever the lists' sizes: the four counts in one, and a page of rows for each
    non-empty list (`pages_queries`; an empty list costs no query beyond its count).
    """
    me = request.user.pk
    lists = {
        "page": (pages_queries.FRIENDS, (me, me)),
        "in": (pages_queries.INCOMING, (me,)),
        "out": (pages_queries.OUTGOING, (me,)),
        "blocks": (pages_queries.BLOCKS, (me,)),
    }
    counted = pages_queries.counts(*lists.values())
    friends, incoming, outgoing, blocks = (
        _paginate(request, pages_queries.Listed.compiled(query, ids, count, make), param)
        for (param, (query, ids)), count, make in zip(
            lists.items(), counted, (pages_queries.ListedFriendship.of, None, None, None), strict=True
        )
    )
    links = rows.Links()
    # A page's `object_list`, not the page: iterating a `Page` indexes it item by item (two checks each).
    friends.rows = rows.friend_rows(friends.object_list, links, unfriend_next=request.get_full_path())
    incoming.rows = rows.incoming_rows(incoming.object_list, links)
    outgoing.rows = rows.outgoing_rows(outgoing.object_list, links)
    blocks.rows = rows.block_rows(blocks.object_list, links)
    return render(
        request,
        "friends/friends.html",
        {"friends": friends, "incoming": incoming, "outgoing": outgoing, "blocks": blocks},
    )


# --- actions ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Confirm:
    """What the confirmation page of an action on a user says: `question` and `consequence` (with
    ``{name}``), and the button's `label`; `danger` marks a destructive one."""

    question: str
    consequence: str
    label: str
    danger: bool = False


def _confirm_page(request: HttpRequest, other: AbstractBaseUser, confirm: Confirm, fallback: str) -> HttpResponse:
    """The action's own page, for a GET of its address: a log-in that returns to it (its `next`), a link
    from a page that asks before acting (Block, Unfriend), or an address typed. One button that POSTs
    here, and a way back; nothing changes until it is pressed."""
    back = _next_url(request, fallback, source=request.GET)
    name = display_name(other)
    return render(
        request,
        "friends/confirm_action.html",
        {
            "question": confirm.question.format(name=name),
            "consequence": confirm.consequence.format(name=name),
            "label": confirm.label,
            "danger": confirm.danger,
            "next": back,
        },
    )


def _action_on_user(
    service: Callable[[AbstractBaseUser, AbstractBaseUser], object],
    *,
    success: str,
    fallback: str,
    confirm: Confirm,
    rate_limit_scope: str | None = None,
) -> Callable[[HttpRequest, str], HttpResponse]:
    """A page action on the user named in the URL. POST: `service(me, other)`, then `success` (with
    ``{other}``) or the service's refusal, then back to the form's `next` or `fallback` (a URL name).
    GET: its confirmation page (`confirm`), which changes nothing. A user the viewer may not see is a
    404 (`_visible_or_404`) either way, before any service runs. With `rate_limit_scope`, each POST counts
    against that per-user budget (shared with the API's)."""

    def view(request: HttpRequest, username: str) -> HttpResponse:
        other = _visible_or_404(request, username)
        if request.method in ("GET", "HEAD"):
            return _confirm_page(request, other, confirm, reverse(fallback))
        return _act(
            request,
            lambda: service(request.user, other),
            success=success.format(other=display_name(other)),  # as the pages name people
            fallback=reverse(fallback),
        )

    if rate_limit_scope is not None:
        view = limit_page(rate_limit_scope)(view)
    return login_required(require_http_methods(["GET", "HEAD", "POST"])(view))


send_request = _action_on_user(
    lambda me, other: services.friend_request_send(from_user=me, to_user=other),
    success="Friend request sent to {other}.",
    fallback="friends",
    confirm=Confirm("Send {name} a friend request?", "{name} will be asked to accept it.", "Send friend request"),
    rate_limit_scope="friend_requests",  # per user, one budget with the API's friend requests
)
# The other actions on a user: (service, success message, where to go without a `next`, its confirmation
# page), one view each.
unfriend, block, unblock, dismiss_suggestion = (
    _action_on_user(service, success=success, fallback=fallback, confirm=confirm)
    for service, success, fallback, confirm in (
        (
            lambda me, other: services.friendship_remove(user=me, friend=other),
            "You are no longer friends with {other}.",
            "friends",
            Confirm(
                "Unfriend {name}?",
                "You will no longer be friends: neither of you will see the other's shares. To be friends again,"
                " one of you sends a new request.",
                "Unfriend",
                danger=True,
            ),
        ),
        (
            lambda me, other: services.block_create(blocker=me, blocked=other),
            # What a block ends, said every time (found by a new user's trial: a friend blocked and then
            # unblocked silently stayed a stranger).
            "You blocked {other}. A block ends any friendship and pending request between you; unblocking "
            "does not bring them back.",
            "friends",
            Confirm(
                "Block {name}?",
                "A block ends any friendship and pending request between you, and unblocking does not bring"
                " them back. {name} will not be able to see your profile or send you requests.",
                "Block",
                danger=True,
            ),
        ),
        (
            lambda me, other: services.block_remove(blocker=me, blocked=other),
            "You unblocked {other}.",
            "friends",
            Confirm(
                "Unblock {name}?", "{name} will be able to see your profile and send you requests again.", "Unblock"
            ),
        ),
        (
            lambda me, other: services.suggestion_dismiss(user=me, dismissed=other),
            "{other} will not be suggested to you again.",
            "suggestions",
            Confirm("Stop suggesting {name}?", "{name} will not be suggested to you again.", "Not interested"),
        ),
    )
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
        messages.success(request, success.format(other=display_name(other)))
    return redirect(_next_url(request, reverse("friends")))
