"""Browser tests: Python Playwright drives Debian's Chromium (``chromium`` on PATH; no browser
is ever downloaded) against Parlour served by uvicorn in a thread of the test process, on
the test database (``live``).

Chromium fakes a camera (a moving test pattern) and a microphone (a beep) with
``--use-fake-device-for-media-stream``; ``--use-fake-ui-for-media-stream`` answers "allow"
to every request for them. ``browser_without_permission`` leaves that answer out, so that
the page's request is refused as a person refusing it would.

Where chromium is missing these tests skip, except on CI (the CI environment variable),
where they fail, like the Redis tests.

Playwright's synchronous API keeps an event loop running in the test's thread, which Django
takes for async code and refuses database calls from; while a browser is open, the tests
say (DJANGO_ALLOW_ASYNC_UNSAFE) that the test's own database calls are plain sync code. The
server's are in threads of their own and keep the check.
"""

import os
import shutil

import pytest
from django.conf import settings
from django.test import Client

from tests.browser.liveserver import live_server

BROWSER_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
FAKE_DEVICES = ["--use-fake-device-for-media-stream"]
ALLOW_DEVICES = ["--use-fake-ui-for-media-stream"]


@pytest.fixture(scope="module")
def chromium() -> str:
    """The system's Chromium."""
    found = shutil.which("chromium")
    if found is None:
        message = "chromium is not installed (Debian: apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture(scope="module")
def playwright(chromium):
    from playwright.sync_api import sync_playwright

    kept = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as driver:
            yield driver
    finally:
        if kept is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = kept


@pytest.fixture(scope="module")
def browser(playwright, chromium):
    """Chromium with a fake camera and microphone that every page may use."""
    launched = playwright.chromium.launch(executable_path=chromium, args=BROWSER_ARGS + FAKE_DEVICES + ALLOW_DEVICES)
    yield launched
    launched.close()


@pytest.fixture(scope="module")
def browser_without_permission(playwright, chromium):
    """Chromium with a fake camera and microphone, and nobody to allow a page to use them."""
    launched = playwright.chromium.launch(executable_path=chromium, args=BROWSER_ARGS + FAKE_DEVICES)
    yield launched
    launched.close()


@pytest.fixture
def live(transactional_db):
    """Parlour as ``parlour run`` serves it (pages, static files, websockets)."""
    with live_server() as server:
        yield server


@pytest.fixture
def new_context(live):
    """``new_context(browser, user=None, **options)``: a browser context (a profile of its own)
    on the live server, with ``user`` signed in; closed after the test."""
    contexts = []

    def make(browser, user=None, **options):
        context = browser.new_context(base_url=live.url, **options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        if user is not None:
            http = Client()
            http.force_login(user)
            cookie = http.cookies[settings.SESSION_COOKIE_NAME].value
            context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live.url}])
        return context

    yield make
    for context in contexts:
        context.close()
