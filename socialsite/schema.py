"""The OpenAPI schema documents the errors every operation can answer, not only its success.

drf-spectacular describes what a view returns when it succeeds. Everything under /api/ also answers
errors in one JSON format (`socialsite.api.exception_handler`, `socialsite.error_views`), and a client
(or a fuzzer checking the schema against the server, see `bench/bench_fuzz.py`) needs to know which
statuses to expect where. This post-processing hook adds them from what is true of every operation:

- 429 everywhere (every request is throttled), with its `Retry-After` header;
- 401 and 403 where authentication is required (no or bad credentials; CSRF with a session; a refusal
  such as deleting a friend's share or reading a hidden friend list);
- 400 where a body or a query is parsed; 413 and 415 where a body is;
- 404 where the path names something (a user, an id), where a body names a user, and on paginated lists
  (a page past the end);
- 409 where a service refuses a change because of the current state (`CONFLICTS`);
- 414 everywhere, as HTML: a request line longer than the HTTP server takes (gunicorn: 4 KiB) is refused
  by the server itself, before the application (and so its JSON error format) is reached.
"""

from __future__ import annotations

import re
from typing import Any

ERROR = "Error"
FIELD_ERRORS = "FieldErrors"
# (method, path pattern) of operations whose service may answer 409 Conflict (socialsite.errors.Conflict).
CONFLICTS = [
    ("post", re.compile(r"^/api/v1/friend-requests/$")),  # already friends, already asked, blocking them
    ("post", re.compile(r"^/api/v1/friend-requests/\{request_id\}/(accept|decline)/$")),  # no longer pending
    ("delete", re.compile(r"^/api/v1/friend-requests/\{request_id\}/$")),
    ("post", re.compile(r"^/api/v1/blocks/$")),  # already blocked
    ("post", re.compile(r"^/api/v1/suggestions/\{username\}/dismiss/$")),  # a friend: nothing to dismiss
]
# Operations that refuse a well-formed request about oneself with 400 (code "self"), besides those with a body.
SELF_REFUSED = [("get", re.compile(r"^/api/v1/users/\{username\}/mutual-friends/$"))]
NAMES_IN_BODY = {"username", "to_user"}
BODY_METHODS = {"post", "put", "patch"}

_DESCRIPTIONS = {
    "400": "Malformed body or query, or input refused (field errors, or `detail` and `code`).",
    "401": "No valid credentials.",
    "403": "Not allowed (also: CSRF check failed for a session-authenticated write).",
    "404": "Nothing by that name or id is visible to you.",
    "409": "Refused by the current state (e.g. already friends, already blocked, no longer pending).",
    "413": "Request body too large.",
    "415": "Unsupported content type.",
    "429": "Rate limit spent; retry after `Retry-After` seconds.",
}


def _content(ref: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}


def _body_names_a_user(operation: dict[str, Any], components: dict[str, Any]) -> bool:
    for media in (operation.get("requestBody") or {}).get("content", {}).values():
        ref = media.get("schema", {}).get("$ref", "")
        if NAMES_IN_BODY & set(components.get(ref.rsplit("/", 1)[-1], {}).get("properties", {})):
            return True
    return False


def _error_codes(path: str, method: str, operation: dict[str, Any], components: dict[str, Any]) -> set[str]:
    parameters = operation.get("parameters", [])
    in_path = any(p.get("in") == "path" for p in parameters)
    in_query = any(p.get("in") == "query" for p in parameters)
    has_body = method in BODY_METHODS
    authenticated = any(requirement for requirement in operation.get("security", [{}]))
    codes = {"429"}
    if authenticated:
        codes |= {"401", "403"}
    if has_body or in_query or any(method == m and pattern.match(path) for m, pattern in SELF_REFUSED):
        codes.add("400")
    if has_body:
        codes |= {"413", "415"}
    if in_path or any(p.get("name") == "page" for p in parameters) or _body_names_a_user(operation, components):
        codes.add("404")
    if any(method == m and pattern.match(path) for m, pattern in CONFLICTS):
        codes.add("409")
    return codes


def postprocess_error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular POSTPROCESSING_HOOKS entry: add the error responses described above."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components[ERROR] = {
        "type": "object",
        "description": "An error: a sentence for people and a code for programs.",
        "properties": {"detail": {"type": "string"}, "code": {"type": "string"}},
        "required": ["detail"],
    }
    components[FIELD_ERRORS] = {
        "type": "object",
        "description": "Input refused field by field: each field name maps to its messages "
        "(`non_field_errors` for the whole input); or an `Error`.",
        "additionalProperties": {},
    }
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            responses = operation.setdefault("responses", {})
            for code in sorted(_error_codes(path, method, operation, components)):
                response = responses.get(code) or {"description": _DESCRIPTIONS[code]}
                response.setdefault("content", _content(FIELD_ERRORS if code == "400" else ERROR))
                if code == "429":
                    response["headers"] = {
                        "Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}
                    }
                responses[code] = response
            responses.setdefault(
                "414",
                {
                    "description": "Request line too long: refused by the HTTP server, before the application.",
                    "content": {"text/html": {"schema": {"type": "string"}}},
                },
            )
    return result
