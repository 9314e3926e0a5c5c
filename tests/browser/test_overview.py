"""D1 in Chromium: the overview's tabs, sorting by a column heading, and a row's plus and
minus (htmx), on a desk's screen and on a phone's."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import PHONE, watched
from tests.factories import GuestFactory, world


@pytest.fixture
def w(live):
    """The expert's two meetings (a client's, asking for approval; a guest's, agreed) and
    their colleague's meeting with another guest, seen in the Everyone tab."""
    w = world()
    anna = GuestFactory(organization=w.org, name="Anna Guest", email="anna@example.net", phone="+31 20 555 0101")
    w.meetings = [
        w.book(hours_ahead=30, subject="Budget", description="Please bring the contract."),
        w.book(service=w.free_service, by=w.guest, hours_ahead=5, subject="Alpha"),
        w.book(service=w.free_service, by=anna, expert=w.colleague, hours_ahead=50, subject="Zoning"),
    ]
    return w


def client_names(page: Page) -> list[str]:
    """The first line of each row's client column, top to bottom."""
    cells = page.locator("table.overview > tbody > tr:first-child > td:nth-child(2)")
    return [text.splitlines()[0].strip() for text in cells.all_inner_texts()]


def open_overview(context, w) -> Page:
    page = watched(context.new_page())
    page.goto(f"/o/{w.org.slug}/meetings/")
    return page


def test_d1_tabs_and_sorting_by_a_heading(browser, new_context, w):
    page = open_overview(new_context(browser, user=w.expert), w)
    expect(page.get_by_role("link", name="My meetings")).to_have_attribute("aria-current", "page")
    assert client_names(page) == ["Cleo Client", "Gus Guest"]  # newest first

    page.get_by_role("link", name="Everyone").click()
    expect(page.get_by_role("link", name="Everyone")).to_have_attribute("aria-current", "page")
    assert client_names(page) == ["Anna Guest", "Cleo Client", "Gus Guest"]

    heading = page.locator("th[data-sort=client]")
    heading.get_by_role("link").click()
    expect(heading).to_have_attribute("aria-sort", "ascending")
    assert client_names(page) == ["Anna Guest", "Cleo Client", "Gus Guest"]
    expect(page.locator("th[data-sort=date]")).not_to_have_attribute("aria-sort", re.compile("."))

    heading.get_by_role("link").click()
    expect(heading).to_have_attribute("aria-sort", "descending")
    assert client_names(page) == ["Gus Guest", "Cleo Client", "Anna Guest"]
    assert "tab=everyone" in page.url  # the tab is kept while sorting
    assert page.errors == []


def settled(page: Page) -> None:
    """htmx has finished the swap: the new row's button answers clicks (it is wired up once
    the swap settles, some milliseconds later)."""
    expect(page.locator(".htmx-request, .htmx-settling, .htmx-added, .htmx-swapping")).to_have_count(0)


def plus_and_minus(page: Page, w, keyboard: bool = True) -> None:
    """The plus opens the row's details, the minus closes them; focus stays on the button."""
    meeting = w.meetings[0]
    button = page.get_by_role("button", name="Details of the meeting with Cleo Client")
    expect(button).to_have_attribute("aria-expanded", "false")
    button.click()
    expect(button).to_have_attribute("aria-expanded", "true")
    settled(page)
    details = page.locator(f"#more-{meeting.pk}")
    expect(details).to_be_visible()
    expect(details).to_contain_text("Please bring the contract.")
    assert page.evaluate("document.activeElement.id") == f"more-button-{meeting.pk}"

    button.click()
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(details).to_have_count(0)
    settled(page)
    assert page.evaluate("document.activeElement.id") == f"more-button-{meeting.pk}"
    if keyboard:  # Enter on the focused button opens the row again.
        page.keyboard.press("Enter")
        expect(button).to_have_attribute("aria-expanded", "true")
        expect(details).to_be_visible()
    assert page.errors == []


def test_d1_a_rows_plus_opens_it_and_its_minus_closes_it(browser, new_context, w):
    plus_and_minus(open_overview(new_context(browser, user=w.expert), w), w)


def test_d1_on_a_phone_each_meeting_is_a_card_with_its_actions_in_reach(browser, new_context, w):
    page = open_overview(new_context(browser, user=w.expert, **PHONE), w)
    # Nothing sticks out: not the page, not the table, which would otherwise scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    region = page.get_by_role("region", name=re.compile("Meetings"))
    assert region.evaluate("el => el.scrollWidth <= el.clientWidth")
    expect(page.get_by_label("Status")).to_be_visible()
    box = page.get_by_role("button", name="Filter").bounding_box()
    assert box["x"] + box["width"] <= 390
    # Every line of a meeting says what it is, and its actions are on the screen.
    card = page.locator(f"#meeting-{w.meetings[0].pk}")
    label = card.locator("td.when").evaluate("td => getComputedStyle(td, '::before').content")
    assert "Date and time" in label
    for action in ("Add to calendar", "Change"):
        link = card.get_by_role("link", name=re.compile(action)).bounding_box()
        assert link["x"] >= 0 and link["x"] + link["width"] <= 390, action
    plus_and_minus(page, w, keyboard=False)
    # Sorting from a heading works on the phone too.
    page.locator("th[data-sort=subject]").get_by_role("link").tap()
    expect(page.locator("th[data-sort=subject]")).to_have_attribute("aria-sort", "ascending")
    assert client_names(page) == ["Gus Guest", "Cleo Client"]  # Alpha, Budget
