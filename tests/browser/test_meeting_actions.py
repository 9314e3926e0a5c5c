"""The meeting page's actions in a real browser (issue 6 items 4, 10, 11): an expert confirms
a client's request; the client, on a phone, cancels it late and is shown the charge (L8)
before the final confirmation; a dialog is used with the keyboard alone (open with Enter,
focus inside, Escape closes, focus back on its button)."""

import pytest
from playwright.sync_api import expect

from parlour.meetings.models import Meeting, Status
from tests.browser.pages import PHONE, watched
from tests.factories import world


def meeting_address(meeting: Meeting) -> str:
    return f"/o/{meeting.organization.slug}/meetings/{meeting.pk}/"


@pytest.fixture
def request_in_a_day(live):
    """A client's request for tomorrow: inside the 48 h notice once agreed (L8)."""
    w = world()
    return w, w.book(hours_ahead=24)


def test_l2_l8_expert_confirms_then_client_cancels_late_and_sees_the_charge_first(
    browser, new_context, request_in_a_day
):
    w, meeting = request_in_a_day

    expert = watched(new_context(browser, w.expert).new_page())
    expert.goto(meeting_address(meeting))
    expect(expert.get_by_text("Awaiting approval").first).to_be_visible()
    expert.get_by_role("button", name="Confirm the meeting").click()
    dialog = expert.get_by_role("dialog", name="Confirm the meeting")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Confirm", exact=True).click()
    expect(expert.get_by_role("status")).to_contain_text("The meeting is confirmed.")
    assert Meeting.objects.get(pk=meeting.pk).status == Status.AGREED

    client = watched(new_context(browser, w.client, **PHONE).new_page())
    client.goto(meeting_address(meeting))
    client.get_by_role("button", name="Cancel the meeting").click()
    dialog = client.get_by_role("dialog", name="Cancel the meeting")
    dialog.get_by_label("Why do you cancel?").fill("I have to travel")
    dialog.get_by_role("button", name="Cancel the meeting").click()

    # L8: the charge, before anything happened.
    alert = dialog.get_by_role("alert")
    expect(alert).to_contain_text("You will be charged 50 credits.")
    expect(alert).to_contain_text("50 credits return to your wallet.")
    expect(alert).to_be_focused()
    fresh = Meeting.objects.get(pk=meeting.pk)
    assert (fresh.status, fresh.credit_status) == ("agreed", "blocked")

    dialog.get_by_role("button", name="Cancel and pay 50 credits").click()
    expect(client.get_by_role("status")).to_contain_text("The meeting is cancelled.")
    expect(client.locator(".meeting-head .status")).to_have_text("Cancelled")
    fresh = Meeting.objects.get(pk=meeting.pk)
    assert (fresh.status, fresh.credit_status) == ("cancelled", "reimbursed_cancellation")
    expect(client.get_by_text("Reimbursed to expert")).to_be_visible()
    assert client.evaluate("document.documentElement.scrollWidth") <= 390  # nothing sticks out on a phone
    assert expert.errors == [] and client.errors == []


def test_a_dialog_opens_with_enter_closes_with_escape_and_gives_focus_back(browser, new_context, request_in_a_day):
    w, meeting = request_in_a_day
    page = watched(new_context(browser, w.expert).new_page())
    page.goto(meeting_address(meeting))
    opener = page.get_by_role("button", name="Reject", exact=True)
    opener.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="Reject")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Reason")).to_be_focused()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()

    # Opened again, the dialog's form is filled in and sent, still without a mouse.
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Reason").select_option("price")
    page.keyboard.press("Tab")
    page.keyboard.type("Not this month")
    expect(dialog.get_by_label("Note (optional)")).to_have_value("Not this month")
    dialog.get_by_role("button", name="Reject the meeting").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("The meeting is rejected.")
    assert Meeting.objects.get(pk=meeting.pk).status == Status.REJECTED
    expect(page.get_by_text("The price does not suit me — Not this month")).to_be_visible()
    assert page.errors == []
