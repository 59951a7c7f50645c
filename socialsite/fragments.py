"""Rows of the long lists rendered by Jinja2, for Django templates to print as one safe string.

A page of 50 people rendered by the Django engine cost more than reading them: every `{{ }}` resolves
through the context stack, localizes and escapes through lazy-aware wrappers (~5 µs each, five a row).
Jinja2 compiles a template to Python, so the same rows cost about a quarter (measured by
`bench.pages_profile`). Only the rows are Jinja2: the page around them (base layout, forms, CSRF token,
context processors) stays a Django template, so every page still extends one `base.html`.

A fragment is rendered with its rows alone, autoescaped (Django's Jinja2 backend turns it on; markup that
is already safe, like `accounts.people.name_html`, passes through by `__html__`). Fragments read rows by
subscript (`row["name"]`): Jinja2 tries an attribute first for `row.name`, which on a dict raises and
catches an error per lookup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.template import engines
from django.utils.safestring import SafeString


def render_rows(template_name: str, rows: Sequence[Any], **context: Any) -> SafeString:
    """`template_name` (under `templates/fragments/`) rendered with `rows` and `context`: the markup of
    a list's rows, safe to print in a Django template (`{{ html }}`).

    Raises:
        jinja2.UndefinedError: the fragment names a key the rows or the context do not have.
        django.template.TemplateDoesNotExist: no such fragment.
    """
    return SafeString(engines["fragments"].get_template(template_name).render({"rows": rows, **context}))
