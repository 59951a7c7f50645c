"""Pages of shares: the new-share form, a share's page, downloads and previews, delete; the home feed.

Thin views: reads through `selectors` (whose one rule says who may see a share), writes through
`services`. A share someone may not see is a 404, exactly like one that does not exist.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from notifications import services as notifications_services
from socialsite.errors import NotFound, ServiceError
from socialsite.pagination import paginate

from ..models import Share
from . import responses, selectors, services
from .forms import ShareForm
from .uploads import upload_refusal
from .validation import UploadRefused

FEED_PAGE_SIZE = 20


def _visible_or_404(request: HttpRequest, share_id: int) -> Share:
    try:
        return selectors.share_get(viewer=request.user, share_id=share_id)
    except NotFound as exc:
        raise Http404(exc.message) from exc


def feed_context(request: HttpRequest) -> dict:
    """The home page's feed: one page of my friends' and my shares (a count and a slice, whatever the
    number of friends or shares), with links that keep the page's other parameters."""
    page = paginate(request, selectors.shares_feed(viewer=request.user), per_page=FEED_PAGE_SIZE, param="shares")
    return {"feed": page}


@login_required
def share_new(request: HttpRequest) -> HttpResponse:
    """The new-share form. A refusal re-shows the form with the reason next to its field, keeping what
    was typed; nothing is stored. Success goes to the share's page, which shows its processing."""
    if request.method != "POST":
        return render(request, "friends/shares/new.html", {"form": ShareForm()})
    form = ShareForm(request.POST, request.FILES)
    status = 400
    if refusal := upload_refusal(request):  # the upload was stopped while it streamed in
        form.is_valid()
        form.add_refusal(refusal)
        status = refusal.status_code
    elif form.is_valid():
        try:
            share = services.share_create(
                owner=request.user,
                file=form.cleaned_data["file"],
                url=form.cleaned_data["url"],
                caption=form.cleaned_data["caption"],
            )
        except UploadRefused as exc:
            form.add_refusal(exc)
            status = exc.status_code
        else:
            messages.success(request, "Shared with your friends.")
            return redirect("share-detail", share_id=share.pk)
    return render(request, "friends/shares/new.html", {"form": form}, status=status)


@login_required
@require_safe
def share_detail(request: HttpRequest, share_id: int) -> HttpResponse:
    """A share: "processing…" with its task (for the owner) until ready, then the preview; refreshes
    itself while processing (no JavaScript needed). Opening it reads the viewer's notifications about it
    (before the page is drawn, so its unread badge already counts them out)."""
    share = _visible_or_404(request, share_id)
    if request.method == "GET":  # opened, not a HEAD asking about it
        notifications_services.notifications_mark_read_about_share(user=request.user, share_id=share.pk)
    return render(
        request, "friends/shares/detail.html", {"share": share, "is_owner": share.owner_id == request.user.pk}
    )


@login_required
@require_safe
def share_download(request: HttpRequest, share_id: int) -> HttpResponse:
    return responses.download_response(_visible_or_404(request, share_id))


@login_required
@require_safe
def share_thumbnail(request: HttpRequest, share_id: int) -> HttpResponse:
    return responses.thumbnail_response(_visible_or_404(request, share_id))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def share_delete(request: HttpRequest, share_id: int) -> HttpResponse:
    """POST deletes (the owner's only); GET is the page that asks first, which the share's "Delete this
    share" link opens: a deletion cannot be undone. Someone else's share answers as the POST would."""
    if request.method in ("GET", "HEAD"):
        share = _visible_or_404(request, share_id)
        if share.owner_id != request.user.pk:
            messages.error(request, "Only the person who shared this can delete it.")
            return redirect("share-detail", share_id=share.pk)
        return render(
            request,
            "friends/confirm_action.html",
            {
                "question": "Delete this share?",
                "consequence": "The share and its file are deleted for you and your friends; this cannot be undone.",
                "label": "Delete",
                "danger": True,
                "next": reverse("share-detail", args=[share.pk]),
            },
        )
    try:
        services.share_delete(share_id=share_id, user=request.user)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except ServiceError as exc:
        messages.error(request, exc.message)
        return redirect("share-detail", share_id=share_id)
    messages.success(request, "The share and its file were deleted.")
    return redirect("home")
