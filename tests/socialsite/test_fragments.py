"""`socialsite.fragments`: the Jinja2 rows inside the Django pages escape what they print, pass markup that
is already safe, and fail loudly on a misspelt key."""

import jinja2
import pytest
from django.template import engines
from django.utils.safestring import SafeString

from socialsite.fragments import render_rows


def test_plain_values_are_escaped_and_safe_markup_passes_as_it_is():
    html = render_rows("friends/people_rows.html", ["<script>x</script> & 'q'"])
    assert "<script>" not in html and "&lt;script&gt;x&lt;/script&gt; &amp; &#39;q&#39;" in html
    html = render_rows("friends/people_rows.html", [SafeString('<a href="/u/eve/">Eve</a>')])
    assert '<li><a href="/u/eve/">Eve</a></li>' in html


def test_the_result_is_safe_for_a_django_template():
    html = render_rows("friends/people_rows.html", ["<b>"])
    page = engines["django"].from_string("<ul>{{ rows }}</ul>").render({"rows": html})
    assert page == "<ul><li>&lt;b&gt;</li>\n</ul>"


def test_a_missing_key_raises_instead_of_printing_nothing():
    with pytest.raises(jinja2.UndefinedError):
        render_rows("friends/friend_rows.html", [{"person": "x"}], unfriend=False)
