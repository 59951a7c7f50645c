"""Pagination: the API's (`Pagination`, in a module of its own: DRF imports it while `rest_framework.generics`
loads) and the pages' (`paginate`: one page of a queryset, with ready-made links that keep the other
parameters; used by every paginated page and drawn by templates/fragments/friends/pagination.html)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest
from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    """DRF's page-number pagination (`count/next/previous/results`), except that `?page=` (empty) is an
    invalid page (404, as `?page=abc`) rather than silently the first one."""

    def get_page_number(self, request: Any, paginator: Any) -> Any:
        page_number = request.query_params.get(self.page_query_param, 1)
        return paginator.num_pages if page_number in self.last_page_strings else page_number


def paginate(request: HttpRequest, queryset: QuerySet, *, per_page: int, param: str = "page") -> Page:
    """One page of `queryset` (two bounded queries: count and slice), the page number read from `param`.

    `page.prev_query` / `page.next_query` are query strings (None at either end) that change `param` and
    keep every other parameter, so a page with several lists can page each one independently.
    """
    return _with_links(request, Paginator(queryset, per_page).get_page(request.GET.get(param)), param)


def asked_page(request: HttpRequest, param: str = "page") -> int:
    """The page number `param` asks for, as `Paginator.get_page` reads it before it knows the count: 1 for
    a missing or unreadable value or one below 1 (a page past the end is the caller's to cap)."""
    try:
        number = int(request.GET.get(param, 1))
    except (TypeError, ValueError):
        return 1
    return max(number, 1)


def page_of_counted(request: HttpRequest, count: int, *, per_page: int, param: str = "page") -> Page:
    """The page of `asked_page`, capped at the last one, of a list of `count` rows whose rows come with
    their count (one query for both, read at the asked page's offset), with the links of `paginate`. Its
    `object_list` is the caller's to fill: the rows read, or, when `number` differs from the asked page
    (past the end), the rows of that page."""
    return _with_links(request, Paginator(range(count), per_page).get_page(asked_page(request, param)), param)


def _with_links(request: HttpRequest, page: Page, param: str) -> Page:
    page.param = param
    for attr, has, number in (
        ("prev_query", page.has_previous, page.number - 1),
        ("next_query", page.has_next, page.number + 1),
    ):
        query = None
        if has():
            if request.GET:
                params = request.GET.copy()  # a deep copy: only when there are other parameters to keep
                params[param] = number
                query = params.urlencode()
            else:
                query = urlencode({param: number})
        setattr(page, attr, query)
    return page
