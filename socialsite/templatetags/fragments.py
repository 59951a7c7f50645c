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


@register.simple_tag(name="fragment")
def fragment_tag(template_name: str, **context: Any) -> SafeString:
    """`{% fragment "friends/pagination.html" page=friends label="Friends pages" %}`: a Jinja2 fragment
    (`fragments.render_fragment`) rendered with the given keyword arguments alone, so one partial serves
    the Django pages and the Jinja2 ones. A name the page does not define arrives as ""."""
    return fragments.render_fragment(template_name, context)
