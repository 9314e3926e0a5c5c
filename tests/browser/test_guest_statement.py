"""After the meeting a guest says on a phone that it went smoothly, from the link in the
reminder they were mailed a day after its end (N9, S1), and their page then shows the
meeting as held (S3)."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from parlour.meetings import outcome
from parlour.meetings.due import run_due_work
from parlour.notifications.messages import compose
from parlour.notifications.models import OutboxItem, Topic
from tests.browser.pages import PHONE, fits_the_screen, watched
from tests.factories import world


@pytest.fixture(autouse=True)
def links_to_the_live_server(settings, live):
    """Mails link to where this test's Parlour is served."""
    settings.PARLOUR_BASE_URL = live.url


def test_n9_s1_s3_guest_states_from_the_mailed_link_that_the_meeting_went_smoothly(
    browser, new_context, live, time_machine
):
    w = world()
    w.org.reviews_enabled = True
    w.org.save()
    meeting = w.book(by=w.guest, service=w.free_service, hours_ahead=48)
    # Both sides entered the room; a day after the end the reminder (N9) goes out.
    time_machine.move_to(meeting.start + timedelta(minutes=1), tick=False)
    outcome.record_entry(w.expert, meeting)
    outcome.record_entry(w.guest, meeting)
    time_machine.move_to(meeting.end + timedelta(hours=24, minutes=1), tick=True)
    run_due_work(meeting.end + timedelta(hours=24, minutes=1))
    item = OutboxItem.objects.get(topic=Topic.N9, recipient_guest=w.guest, meeting=meeting)
    message = compose(item)
    assert "Please confirm whether your meeting" in message.text
    assert message.link.startswith(f"{live.url}/g/")

    guest = watched(new_context(browser, **PHONE).new_page())
    guest.goto(message.link)
    expect(guest.get_by_role("status").filter(has_text="Please say whether the meeting took place.")).to_be_visible()
    guest.get_by_role("button", name="Say how the meeting went").click()
    dialog = guest.get_by_role("dialog", name="How did the meeting go?")
    expect(dialog).to_be_visible()
    assert fits_the_screen(guest)
    expect(dialog.get_by_label("Written review (optional)")).to_have_count(0)  # a guest has no account
    dialog.get_by_label("The meeting went smoothly").check()
    dialog.get_by_label("Stars (1 to 5)").select_option("5")
    dialog.get_by_role("button", name="Send").click()

    expect(guest.get_by_role("status").filter(has_text="Thank you: your statement is recorded.")).to_be_visible()
    after = guest.get_by_role("region", name="After the meeting")
    expect(after.locator(".outcome")).to_have_text("Held")
    expect(after).to_contain_text("Your statement")
    expect(after).to_contain_text("The meeting went smoothly")
    expect(guest.get_by_role("button", name="Say how the meeting went")).to_have_count(0)
    assert fits_the_screen(guest)
    meeting.refresh_from_db()
    assert (meeting.status, meeting.outcome, meeting.statements.get().stars) == ("completed", "held", 5)
    assert guest.errors == []
