"""The API's pagination, in a module of its own: DRF imports it while `rest_framework.generics` loads."""

from __future__ import annotations

from typing import Any

from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    """DRF's page-number pagination (`count/next/previous/results`), except that `?page=` (empty) is an
    invalid page (404, as `?page=abc`) rather than silently the first one."""

    def get_page_number(self, request: Any, paginator: Any) -> Any:
        page_number = request.query_params.get(self.page_query_param, 1)
        return paginator.num_pages if page_number in self.last_page_strings else page_number
