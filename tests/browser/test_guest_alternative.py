"""A guest answers the expert's new time in a real browser on a phone (L10, L12, L13, N6): the
expert proposes another date from the meeting page; the guest opens the link in the mail
they were sent, sees the current and the new time on their own clock, and accepts it — the
meeting page then shows the new time. A second new time the guest declines, by keyboard,
with a reason from the list, and the meeting keeps its date. Without JavaScript, the guest
proposes a free slot of the expert (L10) and withdraws it (L14)."""

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from parlour.meetings import lifecycle
from parlour.meetings.guest_links import link_token
from parlour.meetings.models import Meeting
from parlour.notifications.messages import compose
from parlour.notifications.models import OutboxItem, Topic
from tests.browser.pages import PHONE, a_later_slot, fits_the_screen, watched
from tests.factories import world

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@pytest.fixture(autouse=True)
def links_to_the_live_server(settings, live):
    """Mails link to where this test's Parlour is served."""
    settings.PARLOUR_BASE_URL = live.url


@pytest.fixture
def agreed(live):
    """The guest (in Amsterdam) agreed to the expert's proposal, three days ahead, of a
    service that needs the expert's confirmation: a new date is proposed, not moved (L10)."""
    w = world()
    w.guest.time_zone = "Europe/Amsterdam"
    w.guest.save()
    meeting = w.propose(to=w.guest, service=w.service, price=0, hours_ahead=72)
    return w, lifecycle.confirm_meeting(w.guest, meeting)


def expert_proposes(page: Page, meeting: Meeting, start) -> None:
    """L10 from the meeting page: the dialog's date and time are on the expert's clock (UTC)."""
    page.goto(f"/o/{meeting.organization.slug}/meetings/{meeting.pk}/")
    page.get_by_role("button", name="Propose another date").click()
    dialog = page.get_by_role("dialog", name="Propose another date")
    dialog.get_by_label("New date and time").fill(start.strftime("%Y-%m-%dT%H:%M"))
    dialog.get_by_role("button", name="Propose this date").click()
    expect(page.get_by_role("status")).to_contain_text("The new date is proposed")


def mailed_link(meeting: Meeting) -> str:
    """The link in the newest N6 mail to the guest (Agreed meeting rescheduled by expert)."""
    item = OutboxItem.objects.filter(topic=Topic.N6, recipient_guest=meeting.guest, meeting=meeting).latest("pk")
    return compose(item).link


def local(moment) -> str:
    return moment.astimezone(AMSTERDAM).strftime("%H:%M")


def test_l10_l12_l13_guest_accepts_then_declines_the_experts_new_time_from_the_mail(browser, new_context, agreed, live):
    w, meeting = agreed
    first_date = meeting.start
    new_start = meeting.start + timedelta(days=1, hours=2)

    expert = watched(new_context(browser, w.expert).new_page())
    expert_proposes(expert, meeting, new_start)

    # N6: the mail's link opens the guest's own page, on a phone, in Amsterdam.
    link = mailed_link(meeting)
    assert link.startswith(f"{live.url}/g/")
    guest = watched(new_context(browser, **PHONE, timezone_id="Europe/Amsterdam", locale="en-GB").new_page())
    guest.goto(link)
    pending = guest.get_by_role("region", name="Eve Expert proposes a new time")
    expect(pending).to_be_visible()
    expect(pending.locator(".new-time")).to_contain_text(f"{local(new_start)}–")
    expect(pending).to_contain_text(f"{local(first_date)}–")
    assert fits_the_screen(guest)

    # L12: accept it in its dialog.
    pending.get_by_role("button", name="Accept the new time").click()
    dialog = guest.get_by_role("dialog", name="Accept the new time?")
    expect(dialog).to_be_visible()
    assert fits_the_screen(guest)
    dialog.get_by_role("button", name="Accept the new time").click()
    expect(guest.get_by_role("status").filter(has_text="the meeting has its new time")).to_be_visible()
    expect(guest.locator(".facts .when").first).to_contain_text(f"{local(new_start)}–")
    meeting.refresh_from_db()
    assert (meeting.start, meeting.status, meeting.pending_alternative) == (new_start, "agreed", None)

    # The expert's meeting page shows the new time.
    expert.goto(f"/o/{meeting.organization.slug}/meetings/{meeting.pk}/")
    expect(expert.locator(".details time").first).to_have_attribute("datetime", new_start.isoformat())

    # L13: a second new time, declined with a reason from the list; the date stays.
    expert_proposes(expert, meeting, new_start + timedelta(days=1))
    guest.goto(mailed_link(meeting))
    # The dialog by keyboard alone: Enter opens it with the focus inside, Escape gives it back.
    opener = guest.get_by_role("button", name="Decline the new time")
    opener.focus()
    guest.keyboard.press("Enter")
    dialog = guest.get_by_role("dialog", name="Decline the new time?")
    expect(dialog.get_by_label("Reason")).to_be_focused()
    guest.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()
    guest.keyboard.press("Enter")
    dialog.get_by_label("Reason").select_option(label="I am not available at this time")
    dialog.get_by_label("Note (optional)").fill("Travelling that day")
    dialog.get_by_role("button", name="Decline the new time").click()
    expect(guest.get_by_role("status").filter(has_text="You declined the new time")).to_be_visible()
    expect(guest.get_by_role("region", name=re.compile("proposes a new time"))).to_have_count(0)
    meeting.refresh_from_db()
    assert (meeting.start, meeting.pending_alternative) == (new_start, None)
    assert fits_the_screen(guest)
    assert guest.errors == [] and expert.errors == []


def test_l10_l14_without_javascript_guest_proposes_a_free_slot_and_withdraws_it(browser, new_context, agreed):
    _, meeting = agreed
    guest = watched(new_context(browser, **PHONE, java_script_enabled=False).new_page())
    guest.goto(f"/g/{link_token(meeting)}/")
    guest.get_by_role("link", name="Propose another time").click()
    expect(guest.get_by_role("heading", name="Propose another time")).to_be_visible()
    slot = a_later_slot(guest)
    start = slot.get_attribute("data-start")
    slot.click()
    guest.get_by_role("button", name="Propose this time").click()
    pending = guest.get_by_role("region", name="The new time you proposed")
    expect(pending).to_be_visible()
    meeting.refresh_from_db()
    assert meeting.pending_alternative.start.strftime("%Y-%m-%dT%H:%M:%SZ") == start

    # L14: the dialog's button asks for the page with the dialog open.
    pending.get_by_role("button", name="Withdraw your proposal").click()
    dialog = guest.get_by_role("dialog", name="Withdraw the time you proposed?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Withdraw your proposal").click()
    expect(guest.get_by_role("status").filter(has_text="Your proposal is withdrawn")).to_be_visible()
    assert fits_the_screen(guest)
    meeting.refresh_from_db()
    assert meeting.pending_alternative is None
    assert guest.errors == []
