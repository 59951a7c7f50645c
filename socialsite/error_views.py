"""Error pages that answer in the API's JSON format under `/api/`, and as HTML pages everywhere else.

Some failures never reach a DRF view, so DRF's exception handler cannot format them: a path that
matches no route (an unknown endpoint, or an id the route's converter refuses, such as
`tasks/not-a-uuid/`), a request Django refuses before any view (bad Host header, oversize form body)
and a crash. Django sends those to `handler400/403/404/500` (set in `socialsite.urls`); these answer
`{"detail", "code"}` with the right status for API paths, like Sentry's and DRF's JSON error views,
and leave the site's own pages alone.
"""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.decorators.csrf import requires_csrf_token

API_PREFIX = "/api/"


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def _json(status: int, detail: str, code: str) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": code}, status=status)


@requires_csrf_token
def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        if isinstance(exception, RequestDataTooBig):
            return _json(413, "Request body too large.", "too_large")
        return _json(400, "Malformed request.", "bad_request")
    return defaults.bad_request(request, exception)


@requires_csrf_token
def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return _json(403, "You do not have permission to perform this action.", "permission_denied")
    return defaults.permission_denied(request, exception)


@requires_csrf_token
def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api(request):
        return _json(404, "Not found.", "not_found")
    return defaults.page_not_found(request, exception)


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    if is_api(request):
        return _json(500, "Server error.", "error")
    return defaults.server_error(request)
