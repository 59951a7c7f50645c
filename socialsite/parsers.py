"""Request body parsers of the API (a module apart: DRF imports it while `rest_framework.views` loads)."""

from __future__ import annotations

import io
from typing import Any

from django.conf import settings
from rest_framework import exceptions, parsers, status


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body too large."
    default_code = "too_large"


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser with the two limits it lacks.

    - Size: DRF reads the body straight from the socket, past Django's `DATA_UPLOAD_MAX_MEMORY_SIZE`;
      here at most that many bytes are read, and a longer body is a 413.
    - Depth: `json` raises `RecursionError` (not a `ValueError`) on deep nesting such as 100 KB of
      `[`, which DRF lets through as a 500; here it is a 400 like any malformed JSON.
    """

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and stream is not None:
            body = stream.read(limit + 1)
            if len(body) > limit:
                raise RequestTooLarge()
            stream = io.BytesIO(body)
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise exceptions.ParseError("JSON parse error - nested too deeply.") from exc
