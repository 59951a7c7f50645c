"""Parts of pages rendered by Jinja2, for Django templates to print as one safe string.

A page of 50 people rendered by the Django engine cost more than reading them: every `{{ }}` resolves
through the context stack, localizes and escapes through lazy-aware wrappers (~5 µs each, five a row).
Jinja2 compiles a template to Python, so the same rows cost about a quarter (measured by
`bench.pages_profile`). Jinja2 renders, under `templates/fragments/`:
- the long lists' rows (`render_rows`, `{% rows %}`);
- the layout's header, on every page (`{% site_header %}`);
- the profile's content (`friends.views.profile`), the one page under half the bare view's rate
  (issue 12): the whole page rendered alone took 2.3 to 2.7 ms in the Django engine, a Jinja2 copy 0.8 to 1.1;
- the partials both kinds of template print (the pager, the "computing" placeholder, a share, the mutual
  friends' list), through `{% fragment %}` from a Django template and `{% include %}` from a fragment.
The pages around them stay Django templates, so every page still extends one `base.html` and its
context processors, forms and messages work as Django documents them.

A fragment is rendered with the context it is given alone, autoescaped (Django's Jinja2 backend turns it
on; markup that is already safe, like `accounts.people.name_html`, passes through by `__html__`), with
`StrictUndefined`: a key the caller did not give fails loudly instead of printing nothing. Fragments read
rows by subscript (`row["name"]`): Jinja2 tries an attribute first for `row.name`, which on a dict raises
and catches an error per lookup.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import jinja2
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.http import HttpRequest
from django.template import defaultfilters, engines
from django.template.backends import utils as backend_utils
from django.urls import reverse
from django.utils.safestring import SafeString
from django.utils.timezone import template_localtime

from accounts import people


def render_fragment(template_name: str, context: dict[str, Any]) -> SafeString:
    """`template_name` (under `templates/fragments/`) rendered with `context` alone (no request, no
    context processors): markup safe to print in a Django template (`{{ html }}`).

    Raises:
        jinja2.UndefinedError: the fragment names a key the context does not have.
        django.template.TemplateDoesNotExist: no such fragment.
    """
    return SafeString(engines["fragments"].get_template(template_name).render(context))


def csrf_input(request: HttpRequest) -> SafeString:
    """The hidden CSRF field for the forms a page's fragments print, the same for every form of the
    request, as Django's `{% csrf_token %}` prints one token per page: each `get_token` call masks the
    secret anew (64 random draws), and the profile prints two forms (log-out, the actions)."""
    field = getattr(request, "_fragments_csrf_input", None)
    if field is None:
        field = backend_utils.csrf_input(request)
        request._fragments_csrf_input = field
    return field


def render_rows(template_name: str, rows: Sequence[Any], **context: Any) -> SafeString:
    """`template_name` (under `templates/fragments/`) rendered with `rows` and `context`: the markup of
    a list's rows (`render_fragment`)."""
    return render_fragment(template_name, {"rows": rows, **context})


def _local_date(value: datetime | None, arg: str | None = None) -> str:
    # Django's `date` filter gets the value in the current time zone from its template engine
    # (`expects_localtime`); Jinja2 has no such step, so it is taken here.
    return defaultfilters.date(template_localtime(value), arg)


def environment(**options: Any) -> jinja2.Environment:
    """The fragments' Jinja2 environment (`TEMPLATES[...]["OPTIONS"]["environment"]`): Django's helpers the
    fragments print with, under their Django names, so a fragment reads like the template it replaced.

    Globals: `url(name, *args)` (`reverse`), `person(user)` (a linked name, `accounts.people.person_html`),
    `rows(template_name, rows, **context)` (`render_rows`). Filters: Django's `date` (in the current time
    zone), `naturaltime`, `linebreaksbr`, `truncatechars`, `filesizeformat` and `pluralize`.
    """
    env = jinja2.Environment(**options)
    env.globals.update(url=lambda name, *args: reverse(name, args=args), person=people.person_html, rows=render_rows)
    env.filters.update(
        date=_local_date,
        naturaltime=naturaltime,
        linebreaksbr=lambda value: defaultfilters.linebreaksbr(value, autoescape=True),
        truncatechars=defaultfilters.truncatechars,
        filesizeformat=defaultfilters.filesizeformat,
        pluralize=defaultfilters.pluralize,
    )
    return env
