"""The external calendar page in Chromium at phone size (K4): from the free dates page an
expert connects a calendar on a real CalDAV server (Radicale) by its labelled fields, sees
when it was read, and a wrong password is said without keeping anything."""

import uuid

import caldav
import pytest
from playwright.sync_api import expect

from parlour.calendars.models import CalendarConnection
from tests.browser.pages import PHONE, fits_the_screen, watched
from tests.factories import world
from tests.radicaleserver import RadicaleServer

USER, PASSWORD = "eve", "s3cret-Pa55"


@pytest.fixture(scope="module")
def calendar_url():
    server = RadicaleServer({USER: PASSWORD}).start()
    principal = caldav.DAVClient(url=f"{server.url}/{USER}/", username=USER, password=PASSWORD).principal()
    yield str(principal.make_calendar(name="Work", cal_id=uuid.uuid4().hex).url)
    server.stop()


@pytest.mark.django_db(transaction=True)
def test_k4_an_expert_connects_a_calendar_on_a_phone(browser, new_context, calendar_url, settings):
    settings.PARLOUR_ALLOW_PRIVATE_DESTINATIONS = True  # Radicale runs on loopback
    w = world()
    page = watched(new_context(browser, w.expert, **PHONE).new_page())
    page.goto(f"/o/{w.org.slug}/free-dates/")
    page.get_by_role("link", name="Connect or check the external calendar").click()
    expect(page.get_by_role("heading", name="Your external calendar")).to_be_visible()
    assert fits_the_screen(page)

    page.get_by_label("Address of the calendar (CalDAV)").fill(calendar_url)
    page.get_by_label("User name").fill(USER)
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Check and connect").click()
    expect(page.get_by_role("alert")).to_contain_text("did not accept the user name or password")
    assert not CalendarConnection.objects.exists()
    assert fits_the_screen(page)

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Check and connect").click()
    expect(page.get_by_role("status")).to_contain_text("Your calendar is connected")
    expect(page.locator(".calendar-status")).to_contain_text(calendar_url)
    expect(page.get_by_label("Password")).to_have_value("")
    assert fits_the_screen(page)
    assert CalendarConnection.objects.get().synced_at is not None

    page.get_by_role("button", name="Disconnect").click()
    expect(page.get_by_role("status")).to_contain_text("Your calendar is disconnected")
    assert not page.errors
