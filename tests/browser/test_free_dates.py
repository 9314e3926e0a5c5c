"""The free dates page in Chromium at phone size (E3, E4): an expert adds an interval on
Tuesday, saves, and sees it in the coming week's slots, without the page reloading; a
refused interval is announced and changes nothing."""

from datetime import time

import pytest
from playwright.sync_api import expect

from parlour.availability.models import WeeklyHours
from tests.browser.pages import PHONE, fits_the_screen, watched
from tests.factories import world


@pytest.fixture
def expert_on_mondays():
    """An expert free on Mondays 09:00–10:00 only."""
    w = world()
    WeeklyHours.objects.filter(profile__membership__user=w.expert).exclude(weekday=0).delete()
    WeeklyHours.objects.filter(profile__membership__user=w.expert).update(start="09:00", end="10:00")
    return w


@pytest.mark.django_db(transaction=True)
def test_e3_an_expert_adds_an_interval_on_tuesday_and_sees_it_in_the_preview(browser, new_context, expert_on_mondays):
    w = expert_on_mondays
    page = watched(new_context(browser, w.expert, **PHONE).new_page())
    page.goto(f"/o/{w.org.slug}/free-dates/")
    assert fits_the_screen(page)
    tuesday = page.locator(".preview-days > li").filter(has_text="Tuesday")
    expect(tuesday).to_contain_text("No free slots.")
    page.evaluate("window.notReloaded = true")

    page.get_by_role("button", name="Add an interval on Tuesday").click()
    rows = page.locator("#rows-1 > li")
    expect(rows).to_have_count(2)  # the empty row the page had, and the one added
    expect(rows.last.locator("input").first).to_be_focused()
    rows.last.get_by_label("from").fill("14:00")
    rows.last.get_by_label("to").fill("15:00")
    page.get_by_role("button", name="Save weekly hours").click()

    expect(page.get_by_role("status").filter(has_text="Your weekly hours are saved.")).to_be_visible()
    expect(tuesday.locator(".starts li")).to_have_text(["14:00", "14:15", "14:30"])
    assert page.evaluate("window.notReloaded === true")  # swapped in by htmx
    saved = WeeklyHours.objects.filter(profile__membership__user=w.expert).values_list("weekday", "start", "end")
    assert sorted(saved) == [(0, time(9), time(10)), (1, time(14), time(15))]
    assert fits_the_screen(page)

    # An overlapping interval is refused with an alert; nothing changes.
    page.locator("#rows-1 > li").last.get_by_label("from").fill("14:30")
    page.locator("#rows-1 > li").last.get_by_label("to").fill("16:00")
    page.get_by_role("button", name="Save weekly hours").click()
    expect(page.get_by_role("alert")).to_contain_text("Nothing was changed.")
    expect(page.locator("#rows-1")).to_contain_text("overlaps 14:00–15:00")
    assert WeeklyHours.objects.filter(profile__membership__user=w.expert).count() == 2
    assert page.evaluate("window.notReloaded === true")

    # Remove takes the row out and saves at once.
    page.goto(f"/o/{w.org.slug}/free-dates/")
    page.get_by_role("button", name="Remove Tuesday 14:00–15:00").click()
    expect(tuesday).to_contain_text("No free slots.")
    expect(page.get_by_role("button", name="Add an interval on Tuesday")).to_be_focused()
    assert WeeklyHours.objects.filter(profile__membership__user=w.expert).count() == 1
    assert page.errors == []
