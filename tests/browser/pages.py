"""What the browser tests share: a phone-sized window, a page whose script errors fail the
test, and whether a page fits the screen's width."""

from playwright.sync_api import Page

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
