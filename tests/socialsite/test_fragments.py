"""`socialsite.fragments`: the Jinja2 parts of the Django pages escape what they print, pass markup that is
already safe, fail loudly on a misspelt key, print dates as Django's engine does, and the header they
render marks the page shown."""

import re
from datetime import UTC, datetime

import jinja2
import pytest
from django.template import engines
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString

from socialsite.fragments import render_rows
from tests.support.pages import browser


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


def test_the_date_filter_prints_in_the_current_time_zone_as_djangos_does():
    # Django's engine hands `date` the value already in the current time zone; the fragments must too.
    moment = datetime(2026, 1, 2, 23, 30, tzinfo=UTC)
    django_date = engines["django"].from_string("{{ moment|date:'c' }} {{ moment|date:'j M' }}")
    fragment = engines["fragments"].from_string("{{ moment|date('c') }} {{ moment|date('j M') }}")
    with timezone.override("Asia/Tokyo"):
        assert fragment.render({"moment": moment}) == django_date.render({"moment": moment})
        assert fragment.render({"moment": moment}) == "2026-01-03T08:30:00+09:00 3 Jan"


@pytest.mark.django_db
def test_the_header_marks_the_page_shown_and_a_signed_out_header_offers_log_in(alice):
    signed_in = browser(alice)
    friends_page = signed_in.get(reverse("friends")).content.decode()
    assert re.findall(r'<a href="([^"]+)" aria-current="page">', friends_page) == [reverse("friends")]
    own = signed_in.get(reverse("profile", args=[alice.username])).content.decode()
    assert re.findall(r'<a href="([^"]+)" aria-current="page">', own) == [reverse("profile", args=[alice.username])]
    assert 'name="csrfmiddlewaretoken"' in own.split("</header>")[0]  # the log-out form's token
    login = browser().get(reverse("login")).content.decode()
    header = login.split("<header", 1)[1].split("</header>")[0]
    assert re.findall(r'<a href="([^"]+)" aria-current="page">', header) == [reverse("login")]
    assert "Log out" not in header and "unread-badge" not in header


@pytest.mark.django_db
def test_a_profiles_two_forms_carry_one_csrf_token_and_it_is_accepted(alice, bob):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    html = client.get(reverse("profile", args=[bob.username])).content.decode()
    tokens = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    assert len(tokens) == 2 and tokens[0] == tokens[1]  # the log-out form's and the actions' form's
    sent = client.post(reverse("send-request", args=[bob.username]), {"csrfmiddlewaretoken": tokens[1]})
    assert sent.status_code == 302
