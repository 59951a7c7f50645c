"""Security headers on every page and API answer; no inline script or style anywhere in the templates.

Page URLs are enumerated from the URL resolver (every route outside /api/ and /admin/), so a page
added later is checked without being listed here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from friends import services
from socialsite.models import TaskRecord
from tests.support.routes import routes

ROOT = Path(__file__).resolve().parents[2]
PARAM = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


PAGE_ROUTES = [r for r in routes() if not r.startswith(("/api/", "/admin/"))]
OTHER_URLS = [
    "/admin/",
    "/admin/login/",
    "/admin/socialsite/taskrecord/",
    "/api/v1/me/",
    "/api/v1/no-such-route/",
    "/api/schema/",
    "/api/docs/",
    "/no-such-page/",
]


@pytest.fixture
def world(make_user, django_user_model):
    """alice (staff, so admin pages answer), bob with a pending request to her, and a task of hers."""
    alice = make_user("alice", is_staff=True, is_superuser=True)
    bob = make_user("bob")
    request = services.friend_request_send(from_user=bob, to_user=alice)
    task = TaskRecord.objects.create(
        id="8c3f4cc2-6f0e-4b43-9bd5-5b1c5ad3e1a7", actor_name="probe", queue_name="default", owner=alice, message={}
    )
    return {"alice": alice, "username": "bob", "request_id": request.pk, "task_id": task.pk, "action": "accept"}


def page_url(route: str, world: dict) -> str:
    return PARAM.sub(lambda m: str(world.get(m["name"], "bob")), route)


def csp_directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {d.split()[0]: d.split()[1:] for d in (part.strip() for part in header.split(";")) if d}


def assert_security_headers(response, *, secure: bool) -> None:
    csp = csp_directives(response)
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"], "scripts from this site's files only: no inline, no eval"
    assert csp["frame-ancestors"] == ["'none'"] and response["X-Frame-Options"] == "DENY"
    assert csp["object-src"] == ["'none'"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"] and "geolocation=()" in response["Permissions-Policy"]
    if secure:
        assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"


def test_the_page_walk_sees_the_sites_pages():
    assert {"/", "/login/", "/signup/", "/u/<str:username>/", "/tasks/<uuid:task_id>/"} <= set(PAGE_ROUTES)


@pytest.mark.parametrize("route", PAGE_ROUTES)
@pytest.mark.parametrize("logged_in", [True, False], ids=["logged-in", "anonymous"])
def test_every_page_sends_the_security_headers_over_https(client, world, route, logged_in):
    if logged_in:
        client.force_login(world["alice"])
    url = page_url(route, world)
    for response in (client.get(url, secure=True), client.post(url, secure=True)):
        # /healthz answers 503 by design when a service is down (the unit tier may run without RabbitMQ).
        down_by_design = url == "/healthz" and response.status_code == 503
        assert response.status_code < 500 or down_by_design, (url, response.status_code)
        assert_security_headers(response, secure=True)


@pytest.mark.parametrize("url", OTHER_URLS)
def test_admin_api_and_error_answers_send_the_security_headers_too(api_as, client, world, url):
    client.force_login(world["alice"])
    response = client.get(url, secure=True)
    assert response.status_code < 500, (url, response.status_code)
    if url == "/api/docs/":
        csp = csp_directives(response)
        assert csp["script-src"] == ["'self'"]  # Swagger UI's start-up script is a file here
        assert "'unsafe-inline'" in csp["style-src"]  # its own widgets set inline styles
        response["Content-Security-Policy"] = response["Content-Security-Policy"].replace(" 'unsafe-inline'", "")
    assert_security_headers(response, secure=True)


def test_token_api_answers_send_the_headers(api_as, make_user):
    response = api_as(make_user("carol")).get("/api/v1/me/", secure=True)
    assert response.status_code == 200
    assert_security_headers(response, secure=True)


def test_hsts_is_not_sent_over_plain_http_nor_trusted_from_a_forwarded_header(client, db):
    """No TLS proxy is declared by default, so a client's own `X-Forwarded-Proto: https` proves nothing."""
    response = client.get("/login/", HTTP_X_FORWARDED_PROTO="https")
    assert "Strict-Transport-Security" not in response
    assert_security_headers(response, secure=False)


def test_a_declared_tls_proxy_is_trusted_for_https(client, db, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    response = client.get("/login/", HTTP_X_FORWARDED_PROTO="https")
    assert response["Strict-Transport-Security"].startswith("max-age=31536000")


# --- no inline script or style ----------------------------------------------------------------------------

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
INLINE_STYLE = re.compile(r"<style\b|\sstyle=|\son[a-z]+=", re.I)
TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT / "templates")))
def test_templates_have_no_inline_script_style_or_event_handler(template):
    text = re.sub(r"{%.*?%}|{#.*?#}", "", template.read_text())  # the HTML, not the template language
    assert not INLINE_SCRIPT.search(text), "move the script to static/js/"
    assert not INLINE_STYLE.search(text), "move the style to static/css/ (or use a class)"


@pytest.mark.parametrize("route", PAGE_ROUTES)
def test_rendered_pages_have_no_inline_script_or_style(client, world, route, make_user):
    client.force_login(world["alice"])
    response = client.get(page_url(route, world))
    html = response.content.decode()
    assert not INLINE_SCRIPT.search(html) and not INLINE_STYLE.search(html), route


def test_the_computing_placeholder_loads_its_script_and_the_site_its_css_as_files(client, make_user):
    from django.contrib.staticfiles import finders

    client.force_login(make_user("alice"))
    html = client.get("/suggestions/").content.decode()
    assert "computing…" in html
    assert re.search(r'<script src="/static/js/computing\.js" defer data-task-url="/api/v1/tasks/[0-9a-f-]+/">', html)
    assert '<link rel="stylesheet" href="/static/css/site.css">' in html
    assert finders.find("js/computing.js") and finders.find("css/site.css")
