"""Offering times in a real browser at phone size (B4, Q1): an expert opens the proposal page
from the meetings overview, offers a guest two times on their own clock, adding the second
row in the page, and lands on the meeting's page."""

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from parlour.core import clock
from parlour.meetings.models import Meeting, Status
from tests.factories import world

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "timezone_id": "Europe/Amsterdam",
    "locale": "en-GB",
}
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def watched(page: Page) -> Page:
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    return page


def fits_the_screen(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page is {width}px wide on a 390px screen"


def local(days: int, hour: int) -> datetime:
    day = clock.now().astimezone(AMSTERDAM).date() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=AMSTERDAM)


def test_b4_expert_offers_a_guest_two_times_at_phone_size(browser, new_context):
    w = world()
    w.expert.time_zone = "Europe/Amsterdam"
    w.expert.save()
    first, second = local(3, 10), local(4, 14)
    page = watched(new_context(browser, w.expert, **PHONE).new_page())

    page.goto(f"/o/{w.org.slug}/meetings/")
    page.get_by_role("link", name="Propose a meeting").click()
    expect(page.get_by_role("heading", name="Propose a meeting")).to_be_visible()
    fits_the_screen(page)

    page.get_by_label("Service").select_option(str(w.free_service.pk))
    page.get_by_label("A guest (without an account)").check()
    expect(page.get_by_label("Client", exact=True)).to_be_hidden()
    page.get_by_label("Guest’s name").fill("Gina Guest")
    page.get_by_label("Guest’s email address").fill("gina@example.net")
    page.get_by_label("Subject").fill("A first talk")

    page.get_by_label("Several times, of which they pick one").check()
    expect(page.get_by_role("group", name="Time 2")).to_be_visible()  # added in the page
    page.get_by_role("group", name="Time 1").get_by_label("Date and time").fill(first.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("group", name="Time 2").get_by_label("Date and time").fill(second.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("group", name="Time 2").get_by_label("Length").select_option("30")
    page.get_by_role("button", name="Add another time").click()
    expect(page.get_by_role("group", name="Time 3")).to_be_visible()  # left empty: ignored
    expect(page.get_by_role("group", name="Time 3").get_by_label("Date and time")).to_be_focused()
    fits_the_screen(page)
    page.get_by_role("button", name="Send the proposal").click()

    expect(page.get_by_text("Your times are sent to Gina Guest.")).to_be_visible()
    expect(page.get_by_role("heading", name=re.compile("Intro call"))).to_be_visible()
    expect(page.get_by_role("heading", name="Times offered")).to_be_visible()
    fits_the_screen(page)
    meeting = Meeting.objects.get(guest__email="gina@example.net")
    assert page.url.endswith(f"/o/{w.org.slug}/meetings/{meeting.pk}/")
    assert meeting.status == Status.PLANNING and meeting.expert == w.expert
    offered = [(o.start, o.length_minutes) for o in meeting.time_options.order_by("start")]
    assert offered == [(first, 15), (second, 30)]
    assert page.errors == []
