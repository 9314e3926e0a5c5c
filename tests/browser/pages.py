"""What the browser tests share: a phone-sized window, a page whose script errors fail the
test, and whether a page fits the screen's width."""

from datetime import UTC, datetime, timedelta

from playwright.sync_api import Locator, Page

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True}


def watched(page: Page) -> Page:
    """Script errors on the page, and errors it logs, are kept in ``page.errors``, which the
    tests assert is empty. Not kept: a missing favicon, and the browser's note of a 400
    answer, which is how Parlour answers a form it refuses (the tests check those pages)."""
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.on("console", lambda message: _console_error(page, message))
    return page


def _console_error(page: Page, message) -> None:
    if message.type != "error" or message.location.get("url", "").endswith("/favicon.ico"):
        return
    if "the server responded with a status of 400" in message.text:
        return
    page.errors.append(message.text)


def fits_the_screen(page: Page) -> bool:
    """Nothing pushes the page wider than the screen. Compared with the page's own width
    (``clientWidth``), not ``innerWidth``: a phone's browser (``is_mobile``) widens its layout
    viewport to a page that sticks out, so ``innerWidth`` grows with the very overflow."""
    return page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")


def a_later_slot(page: Page, *, ahead: timedelta = timedelta(hours=1)) -> Locator:
    """The first free slot on the page that starts at least ``ahead`` from now on the real
    clock. The first slot of all may start within seconds when the expert asks no notice,
    and be in the past by the time the form is sent."""
    page.locator("a.slot").first.wait_for()
    for slot in page.locator("a.slot").all():
        start = datetime.fromisoformat(slot.get_attribute("data-start"))
        if start >= datetime.now(UTC) + ahead:
            return slot
    raise AssertionError("no free slot on this page starts that late")
