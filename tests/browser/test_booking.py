"""Booking in a real browser at phone size (issue 6, item 10; B1, B5, L7, E5, Q1): a guest opens
an expert's public page, sees the free slots on their own clock (the browser's zone,
detected on the first visit), books one, and later cancels it from the link in the email
they were sent, through the page's dialog."""

import re

import pytest
from playwright.sync_api import Page, expect

from parlour.meetings.models import Meeting, Status
from parlour.notifications.messages import compose
from parlour.notifications.models import OutboxItem, Topic
from tests.factories import world

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "timezone_id": "Europe/Amsterdam",
    "locale": "en-GB",
}


@pytest.fixture(autouse=True)
def links_to_the_live_server(settings, live):
    """Mails link to where this test's Parlour is served."""
    settings.PARLOUR_BASE_URL = live.url


def watched(page: Page) -> Page:
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    return page


def fits_the_screen(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide on a 390px screen"


def test_b1_b5_l7_guest_books_a_slot_and_cancels_it_from_the_emailed_link(browser, new_context, live):
    w = world()
    context = new_context(browser, **PHONE)
    page = watched(context.new_page())

    # E5, Q1: the expert's page; the calendar moves to the browser's zone by itself.
    page.goto(f"/o/{w.org.slug}/experts/{w.expert.pk}/?service={w.free_service.pk}")
    expect(page.get_by_role("heading", name="Eve Expert")).to_be_visible()
    expect(page.locator("#calendar")).to_have_attribute("data-zone", "Europe/Amsterdam")
    expect(page.get_by_label("Time zone")).to_have_value("Europe/Amsterdam")
    fits_the_screen(page)

    # The next week, by htmx, then the first free time of its first day.
    page.get_by_role("link", name=re.compile("Next week")).click()
    expect(page.get_by_role("link", name=re.compile("Previous week"))).to_be_visible()
    slot = page.locator("a.slot").first
    start_utc = slot.get_attribute("data-start")
    slot.click()

    # B1: the booking form for a guest.
    expect(page.get_by_role("heading", name=re.compile("Book Intro call"))).to_be_visible()
    page.get_by_label("Your name").fill("Gina Guest")
    page.get_by_label("Email address").fill("gina@example.net")
    page.get_by_label("Subject").fill("A first talk")
    fits_the_screen(page)
    page.get_by_role("button", name="Book this time").click()
    expect(page.get_by_role("heading", name="Your meeting is booked")).to_be_visible()
    meeting = Meeting.objects.get(guest__email="gina@example.net")
    assert meeting.start.strftime("%Y-%m-%dT%H:%M:%SZ") == start_utc
    assert meeting.guest.time_zone == "Europe/Amsterdam"
    expect(page.locator(".key")).to_have_text(meeting.guest_key)

    # B5: the link in the email the guest was sent opens their own page.
    item = OutboxItem.objects.get(topic=Topic.N2, recipient_guest=meeting.guest)
    message = compose(item)
    assert message.link.startswith(f"{live.url}/g/")
    page.goto(message.link)
    expect(page.get_by_role("heading", name="Intro call with Eve Expert")).to_be_visible()
    expect(page.locator(".status")).to_have_text("Scheduled")
    fits_the_screen(page)

    # The dialog opens from its button, takes the focus, closes with Escape and gives it back.
    opener = page.get_by_role("button", name="Cancel the meeting")
    opener.click()
    dialog = page.get_by_role("dialog", name="Cancel the meeting?")
    expect(dialog).to_be_visible()
    assert page.evaluate("document.activeElement.closest('dialog') !== null")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()

    # L7: cancel with a written reason.
    opener.click()
    dialog.get_by_label(re.compile("Why do you cancel")).fill("Something came up")
    dialog.get_by_role("button", name="Cancel the meeting").click()
    expect(page.get_by_role("status").filter(has_text="Your meeting is cancelled")).to_be_visible()
    expect(page.locator(".status")).to_have_text("Cancelled")
    expect(page.get_by_role("button", name="Cancel the meeting")).to_have_count(0)
    meeting.refresh_from_db()
    assert meeting.status == Status.CANCELLED
    assert page.errors == []
