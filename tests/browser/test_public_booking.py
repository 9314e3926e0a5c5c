"""A newcomer at phone size finds where to book (E5, B1, B7, D4, L16): a visitor opens the
site's home, finds the organization's page, a service, and books a free time as a guest with
whichever expert is free; a signed-in client's calendar keeps her account's zone in a browser
set to another; and on her meeting's page she moves it by picking one of the free times."""

import re

import pytest
from playwright.sync_api import expect

from parlour.meetings.models import Meeting, Status
from tests.browser.pages import PHONE, a_later_slot, fits_the_screen, watched
from tests.factories import world


@pytest.fixture(autouse=True)
def links_to_the_live_server(settings, live):
    settings.PARLOUR_BASE_URL = live.url


def test_e5_b7_b1_a_visitor_finds_the_organization_and_books_as_a_guest(browser, new_context):
    w = world()
    page = watched(new_context(browser, **PHONE, timezone_id="Europe/Amsterdam", locale="en-GB").new_page())

    page.goto("/")
    page.get_by_role("link", name=f"Book a meeting with {w.org.name}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Book a meeting with {w.org.name}")
    expect(page.get_by_role("link", name="Eve Expert")).to_be_visible()
    assert fits_the_screen(page)

    # B7: a service, with whichever expert is free; its first free time.
    page.get_by_role("link", name="Book Intro call with any expert").click()
    expect(page.get_by_role("heading", name="Intro call")).to_be_visible()
    expect(page.locator("#calendar")).to_have_attribute("data-zone", "Europe/Amsterdam")
    assert fits_the_screen(page)
    slot = a_later_slot(page)
    start = slot.get_attribute("data-start")
    slot.click()

    # B1: the guest's details, and the meeting is booked.
    expect(page.get_by_role("heading", name=re.compile("Book Intro call"))).to_be_visible()
    page.get_by_label("Your name").fill("Nina Newcomer")
    page.get_by_label("Email address").fill("nina@example.net")
    page.get_by_label("Subject").fill("First questions")
    assert fits_the_screen(page)
    page.get_by_role("button", name="Book this time").click()
    expect(page.get_by_role("heading", name="Your meeting is booked")).to_be_visible()
    meeting = Meeting.objects.get(guest__email="nina@example.net")
    assert meeting.start.strftime("%Y-%m-%dT%H:%M:%SZ") == start
    assert meeting.expert in (w.expert, w.colleague) and meeting.status == Status.AGREED
    assert page.errors == []


def test_d4_l16_a_client_books_on_her_accounts_clock_and_moves_the_meeting_to_a_free_time(browser, new_context):
    w = world()
    w.client.time_zone = "Europe/London"
    w.client.save()
    context = new_context(browser, user=w.client, **PHONE, timezone_id="UTC", locale="en-GB")
    page = watched(context.new_page())

    # E5: from her dashboard to the organization's page and an expert's free times.
    page.goto(f"/o/{w.org.slug}/")
    page.get_by_role("link", name="Book a meeting").click()
    page.get_by_role("link", name="Eve Expert").click()
    expect(page.get_by_role("heading", name="Eve Expert")).to_be_visible()
    page.wait_for_load_state("networkidle")
    # D4: the calendar stays on her account's zone, although the browser is on UTC.
    expect(page.locator("#calendar")).to_have_attribute("data-zone", "Europe/London")
    expect(page.get_by_label("Time zone")).to_have_value("Europe/London")

    # L16: her agreed meeting; the change dialog offers free times to pick from.
    meeting = w.agreed(service=w.free_service, hours_ahead=72)
    page.goto(f"/o/{w.org.slug}/meetings/{meeting.pk}/")
    page.get_by_role("button", name="Change time or length").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("(current time)")).to_be_visible()
    choice = dialog.locator("input[name=change-slot]").nth(1)
    chosen = choice.get_attribute("value")
    choice.check()
    assert fits_the_screen(page)
    dialog.get_by_role("button", name="Change", exact=True).click()
    expect(page.get_by_text("The meeting is moved.")).to_be_visible()
    meeting.refresh_from_db()
    assert meeting.start.strftime("%Y-%m-%dT%H:%M:%SZ") == chosen
    assert page.errors == []
