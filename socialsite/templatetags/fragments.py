"""`{% load fragments %}`: `{% rows "friends/friend_rows.html" page.rows unfriend=True %}` prints a list's
rows rendered by Jinja2 (`socialsite.fragments`), with the given keyword arguments as its context."""

from typing import Any

from django import template
from django.utils.safestring import SafeString

from socialsite import fragments

register = template.Library()


@register.simple_tag(name="rows")
def rows_tag(template_name: str, rows: Any, **context: Any) -> SafeString:
    """`fragments.render_rows(template_name, rows, **context)`: the rows' markup, safe to print here."""
    return fragments.render_rows(template_name, rows, **context)
