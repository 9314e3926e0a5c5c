"""SPEC §9 (N1–N10 as listed in the app), I1 in Chromium at phone size: the header counts the
unread notifications; the list marks them in words; opening one opens the meeting and counts
it read; "mark all as read" clears the count."""

import re

import pytest
from playwright.sync_api import expect

from parlour.notifications.models import Notification, Topic
from tests.browser.pages import PHONE, fits_the_screen, watched
from tests.factories import world


@pytest.mark.django_db(transaction=True)
def test_n1_n10_a_client_opens_a_notification_from_the_header_at_phone_size(browser, new_context):
    w = world()
    meeting = w.book()
    for title in ("Meeting reminder", "New meeting request"):
        Notification.objects.create(
            recipient=w.client,
            organization=w.org,
            meeting=meeting,
            topic=Topic.N1,
            title=title,
            body="A long line of text that must wrap on a small screen rather than push it sideways " * 3,
            link=f"http://127.0.0.1:8000/o/{w.org.slug}/meetings/{meeting.pk}/",
        )
    page = watched(new_context(browser, w.client, **PHONE).new_page())
    page.goto("/account/")
    header_link = page.get_by_role("link", name=re.compile(r"^Notifications 2 unread$"))
    header_link.click()
    expect(page.get_by_role("heading", name="Notifications")).to_be_visible()
    expect(page.get_by_text("2 unread notifications.")).to_be_visible()
    expect(page.locator(".notification .tag")).to_have_count(2)
    assert fits_the_screen(page)

    page.get_by_role("link", name="New meeting request").click()
    expect(page).to_have_url(re.compile(rf"/o/{w.org.slug}/meetings/{meeting.pk}/$"))
    expect(page.get_by_role("link", name=re.compile(r"^Notifications 1 unread$"))).to_be_visible()

    page.get_by_role("link", name=re.compile(r"^Notifications")).click()
    page.get_by_role("button", name="Mark all as read").click()
    expect(page.get_by_text("1 notification marked as read.")).to_be_visible()
    expect(page.get_by_text("Everything is read.")).to_be_visible()
    expect(page.locator(".notification .tag")).to_have_count(0)
    expect(page.get_by_role("link", name="Notifications", exact=True)).to_have_attribute("aria-current", "page")
    assert page.errors == []
