"""Paginated lists on pages: one page of a queryset, with ready-made links that keep the other parameters.

Used by every paginated page (friends, requests, blocks, a profile's friends, the share feed, the
notification inbox) and drawn by templates/friends/_pagination.html.
"""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest


def paginate(request: HttpRequest, queryset: QuerySet, *, per_page: int, param: str = "page") -> Page:
    """One page of `queryset` (two bounded queries: count and slice), the page number read from `param`.

    `page.prev_query` / `page.next_query` are query strings (None at either end) that change `param` and
    keep every other parameter, so a page with several lists can page each one independently.
    """
    page = Paginator(queryset, per_page).get_page(request.GET.get(param))
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
