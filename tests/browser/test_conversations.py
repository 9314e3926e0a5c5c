"""Conversations in a real browser on a phone (I1, SPEC §11 X1–X3): a guest writes from the
signed link of their booking; the expert, signed in on another phone, finds the conversation
from the header's unread count, reads it, answers and assigns it to herself; the guest's open
page shows the answer without being reloaded (htmx polling), and nobody online is mailed
(N10). The assign dialog is used with the keyboard alone."""

import re

import pytest
from playwright.sync_api import expect

from parlour.conversations import access
from parlour.conversations.models import Conversation
from parlour.meetings.guest_links import link_token
from parlour.notifications.models import OutboxItem, Topic
from tests.browser.pages import PHONE, fits_the_screen, watched
from tests.factories import world


@pytest.fixture
def guest_booking(live):
    w = world()
    meeting = w.book(service=w.free_service, by=w.guest, hours_ahead=24)
    return w, meeting


def test_x2_a_guest_writes_from_their_link_and_the_expert_answers_on_a_phone(browser, new_context, guest_booking):
    w, meeting = guest_booking
    guest = watched(new_context(browser, **PHONE).new_page())
    guest.goto(f"/g/{link_token(meeting)}/")
    guest.get_by_role("link", name=re.compile("Your conversation with")).click()
    expect(guest.get_by_role("heading", name=re.compile("Your conversation with"))).to_be_visible()
    assert fits_the_screen(guest)
    guest.get_by_label("Your message").fill("Hello, is there parking near you?")
    guest.get_by_role("button", name="Send").click()
    expect(guest.get_by_text("Hello, is there parking near you?")).to_be_visible()
    expect(guest.get_by_label("Your message")).to_have_value("")  # sent in place, box emptied

    expert = watched(new_context(browser, w.expert, **PHONE).new_page())
    expert.goto(f"/o/{w.org.slug}/meetings/")
    header = expert.get_by_role("navigation", name="Main")
    expect(header.get_by_role("link", name=re.compile("Conversations 1"))).to_be_visible()
    header.get_by_role("link", name=re.compile("Conversations")).click()
    expect(expert.get_by_text("1 unread message")).to_be_visible()
    assert fits_the_screen(expert)
    expert.get_by_role("link", name="Gus Guest").click()
    expect(expert.get_by_text("Hello, is there parking near you?")).to_be_visible()
    expect(expert.get_by_role("link", name=re.compile("Intro call"))).to_have_count(2)  # meeting list + its change
    assert fits_the_screen(expert)

    expert.get_by_label("Your message").fill("Yes, right behind the building.")
    expert.get_by_role("button", name="Send").click()
    expect(expert.get_by_text("Yes, right behind the building.")).to_be_visible()
    # The guest's page, still open, shows the answer by itself.
    expect(guest.get_by_text("Yes, right behind the building.")).to_be_visible(timeout=15_000)
    assert not OutboxItem.objects.filter(topic=Topic.N10, recipient_guest=w.guest).exists()  # online

    # X3 with the keyboard: open "Assign to…", choose, send; Escape would close it.
    opener = expert.get_by_role("button", name="Assign to…")
    opener.focus()
    expert.keyboard.press("Enter")
    dialog = expert.get_by_role("dialog", name="Assign the conversation")
    expect(dialog).to_be_visible()
    expert.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(opener).to_be_focused()
    expert.get_by_role("button", name="Assign to me").click()
    expect(expert.get_by_role("status")).to_contain_text("The conversation is assigned to Eve Expert.")
    conversation = access.of_meeting(meeting)
    assert Conversation.objects.get(pk=conversation.pk).assigned_to == w.expert
    assert set(conversation.participants.values_list("user", flat=True)) == {w.expert.pk}
    assert fits_the_screen(expert)
    assert guest.errors == [] and expert.errors == []
