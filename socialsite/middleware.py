"""Request plumbing shared by every page."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

from .error_views import is_api
from .ratelimits import RateLimited


class RateLimitMiddleware:
    """A `RateLimited` raised by a page (or the log-in's password check) becomes a readable 429 page.

    `Retry-After` says when to try again. Under `/api/` DRF answers it first (JSON); this only catches
    what got past DRF, and answers JSON there too.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, RateLimited):
            return None
        if is_api(request):
            detail = f"Request was throttled. Expected available in {exception.wait} seconds."
            response: HttpResponse = JsonResponse({"detail": detail, "code": "throttled"}, status=429)
        else:
            html = render_to_string("429.html", {"wait": exception.wait}, request=request)
            response = HttpResponse(html, status=429)
        response["Retry-After"] = str(exception.wait)
        return response


class MethodNotAllowedPageMiddleware:
    """A page's empty 405 (Django's `require_POST` answers with headers only: a blank page to someone who
    opened an action's address) becomes a readable page; `Allow` is kept. The API answers JSON itself."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code != 405 or response.content or is_api(request):
            return response
        page = HttpResponse(render_to_string("405.html", request=request), status=405)
        page["Allow"] = response.get("Allow", "")
        return page
