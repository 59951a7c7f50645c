"""Real-browser tests: Playwright drives Debian's Chromium against a live server, with a real worker,
RabbitMQ and Redis.

- One Chromium for all the browser tests (`chromium`), a fresh browser context per person (`open_context`):
  separate cookies, like two people on two machines.
- The site is pytest-django's `live_server` (a threaded WSGI server in this process, serving the test
  database and the static files); one `rundramatiq` worker on every queue serves all the browser
  tests (`browser_worker`, stopped after the last one), on the same database, Redis DB and upload directory.
- Every request every page makes is recorded, and each test ends by checking that all of them went to
  the site's own origin (no CDN, no font service, nothing), and that the browser reported no
  Content-Security-Policy violation (an inline script or style would be one).
- `check_accessible(page)` runs axe-core (bundled by axe-playwright-python, injected from the local
  package: no network) and fails on any serious or critical violation.
- `screenshot(page, name)` writes docs/screenshots/<name>.png when SOCIALSITE_SCREENSHOTS=1, so the
  README's pictures are made by these tests from the current code.

Chromium is /usr/bin/chromium (`scripts/services.sh --with-browser` installs it); Playwright never
downloads a browser.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from socialsite import queues
from tests.support.brokers import purge_queues
from tests.support.processes import ROOT, ManagedProcess, rundramatiq_wait_ready
from tests.support.workers import worker_env, worker_starter

CHROMIUM = os.environ.get("SOCIALSITE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = ROOT / "docs" / "screenshots"
PASSWORD = "correct-horse-42"
# Narrow enough to show the layout a laptop gets, wide enough for the two-column home page.
VIEWPORT = {"width": 1180, "height": 800}
# A browser test waits for other processes (worker, badge poll): bounded, and generous on a busy machine.
WAIT_MS = 20_000


def screenshots_enabled() -> bool:
    return os.environ.get("SOCIALSITE_SCREENSHOTS") == "1"


@pytest.fixture(scope="package")
def chromium() -> Iterator:
    """One headless Chromium for the whole session."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `bash scripts/services.sh --with-browser` (apt-get install chromium).")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop on this thread, which makes Django's async-safety check
    # refuse every ORM call of the test itself; the ORM is used from this one thread only, so it is safe.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="package")
def browser_media(tmp_path_factory) -> Path:
    """One upload directory for the session's worker and every test (the worker outlives a test)."""
    return tmp_path_factory.mktemp("browser-media")


@pytest.fixture(autouse=True)
def media_root(settings, browser_media) -> Path:
    """Overrides the per-test upload directory of tests/conftest.py: the session's worker reads this one."""
    settings.MEDIA_ROOT = str(browser_media)
    return browser_media


@pytest.fixture(autouse=True)
def _real_broker(rabbitmq):
    """The live server (in this process) publishes through the real RabbitMQ, like the integration tier."""
    return rabbitmq


@pytest.fixture(scope="package")
def browser_worker(django_db_setup, django_db_blocker, _rabbitmq_broker, browser_media) -> Iterator[ManagedProcess]:
    """One real worker on every queue for all the browser tests (starting one costs seconds); stopped
    after the last of them, before any other test's worker could lose a message to it."""
    from tests.support.brokers import rebind_actors

    with django_db_blocker.unblock():
        del _rabbitmq_broker.connection  # fresh: RabbitMQ may have closed an idle one
        previous = rebind_actors(_rabbitmq_broker)
        try:
            purge_queues(queues.ALL)
        finally:
            rebind_actors(previous)
        start, started = worker_starter(worker_env(media_root=str(browser_media)))
        # Not waited for here: it boots while Chromium starts (`open_context` waits for it).
        worker = start(threads=4, wait=False)
    yield worker
    for w in started:
        # Killed, not drained: nothing it holds matters after the last browser test, and the next
        # worker fixture purges the queues anyway.
        w.kill()


class Visits:
    """Every request the browser made (URL and the page that made it) and every CSP complaint."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.requests: list[str] = []
        self.csp_errors: list[str] = []
        self.pages: set[str] = set()

    def foreign(self) -> list[str]:
        own = urlsplit(self.origin)
        return [
            url
            for url in self.requests
            if not url.startswith(("data:", "blob:", "about:"))
            and (urlsplit(url).scheme, urlsplit(url).netloc) != (own.scheme, own.netloc)
        ]


@pytest.fixture
def visits(live_server) -> Iterator[Visits]:
    """What the test's browser contexts requested; checked when the test ends (acceptance: same origin only)."""
    record = Visits(live_server.url)
    yield record
    assert record.requests, "the browser made no request at all"
    assert not record.foreign(), f"requests to other hosts: {record.foreign()}"
    assert not record.csp_errors, f"Content-Security-Policy violations: {record.csp_errors}"


@pytest.fixture
def open_context(browser_worker, chromium, live_server, visits) -> Iterator[Callable]:
    """`open_context() -> (context, page)`: a fresh browser profile (its own cookies) on the live server,
    recording every request its pages make. All are closed when the test ends."""
    contexts = []
    rundramatiq_wait_ready(browser_worker, timeout=60)

    def open_() -> tuple:
        context = chromium.new_context(base_url=live_server.url, viewport=VIEWPORT, locale="en-GB")
        context.set_default_timeout(WAIT_MS)
        context.on("request", lambda request: visits.requests.append(request.url))

        def watch(page) -> None:
            page.on("framenavigated", lambda frame: visits.pages.add(frame.url) if frame == page.main_frame else None)
            page.on(
                "console",
                lambda msg: visits.csp_errors.append(msg.text) if "Content Security Policy" in msg.text else None,
            )

        context.on("page", watch)
        contexts.append(context)
        return context, context.new_page()

    yield open_
    for context in contexts:
        with contextlib.suppress(Exception):
            context.close()


def log_in(page, username: str, password: str = PASSWORD) -> None:
    """Log in through the log-in form, as a person would; ends on the home page."""
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")


def check_accessible(page, *, what: str = "") -> None:
    """axe-core on the page as it is now: no serious or critical violation (minor and moderate are listed
    by axe too, but are not failures here)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
    details = "\n".join(
        f"- {v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}" for v in bad
    )
    assert not bad, f"axe-core found serious or critical violations on {what or page.url}:\n{details}"


def screenshot(page, name: str) -> None:
    """docs/screenshots/<name>.png of the whole page, when SOCIALSITE_SCREENSHOTS=1 (see the README)."""
    if not screenshots_enabled():
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True, animations="disabled", caret="initial")
