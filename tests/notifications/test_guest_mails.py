"""What the mails tell a guest to do on their own page (B5): after a rejection, propose another
date there (N4, L11); after the meeting, say there whether it took place (N9, S1), with the
reviews add-on by stars only (a written review needs a client account)."""

from datetime import UTC, datetime, timedelta

import pytest

from parlour.meetings import lifecycle
from parlour.meetings.due import run_due_work
from parlour.meetings.guest_links import link_token
from parlour.meetings.models import Status
from parlour.notifications.messages import compose
from parlour.notifications.models import OutboxItem, Topic
from tests.factories import ServiceFactory, world

pytestmark = pytest.mark.django_db

NOW = datetime(2030, 6, 3, 6, 0, tzinfo=UTC)
START = datetime(2030, 6, 6, 9, 0, tzinfo=UTC)
PROPOSE = "You can propose another date through the link below."


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def w():
    w = world()
    w.guest.time_zone = "Europe/Amsterdam"
    w.guest.save()
    return w


def mail(topic: str, guest, meeting, language: str = "en"):
    item = OutboxItem.objects.filter(topic=topic, recipient_guest=guest, meeting=meeting).latest("id")
    guest.language = language
    guest.save()
    item.recipient_guest.language = language
    return compose(item)


def test_n4_l11_a_guest_whose_request_is_rejected_is_told_to_propose_another_date_on_their_page(w, settings):
    service = ServiceFactory(organization=w.org, name="Free advice", price=0, requires_confirmation=True)
    service.experts.add(w.expert)
    meeting = w.book(by=w.guest, service=service, start=START, length=30)
    lifecycle.reject_meeting(w.expert, meeting, reason="not_available")

    message = mail(Topic.N4_REJECTED, w.guest, meeting)
    assert message.link == f"{settings.PARLOUR_BASE_URL}/g/{link_token(meeting)}/"
    assert PROPOSE in message.text and PROPOSE in message.html
    assert meeting.guest_key in message.text
    assert (
        "Via de link hieronder kunt u een ander tijdstip voorstellen."
        in mail(Topic.N4_REJECTED, w.guest, meeting, "nl").text
    )

    # L13: the expert declines the new date the guest proposed; the guest may propose again.
    lifecycle.propose_alternative(w.guest, meeting, start=START + timedelta(days=1), length=30)
    lifecycle.reject_alternative(w.expert, meeting, reason="not_available")
    assert PROPOSE in mail(Topic.N4_REJECTED, w.guest, meeting).text


def test_n4_l13_an_agreed_meeting_keeps_its_date_and_says_so_not_to_propose(w):
    meeting = lifecycle.confirm_meeting(w.guest, w.propose(to=w.guest, service=w.free_service, price=0))
    lifecycle.propose_alternative(w.guest, meeting, start=meeting.start + timedelta(days=1))
    lifecycle.reject_alternative(w.expert, meeting, reason="not_available")
    message = mail(Topic.N4_REJECTED, w.guest, meeting)
    assert "The meeting keeps its original date" in message.text and PROPOSE not in message.text


def test_n9_the_guest_is_sent_to_their_page_to_say_how_it_went(w, settings):
    meeting = w.book(by=w.guest, service=w.free_service, start=START, length=30)
    run_due_work(meeting.end + timedelta(hours=25))
    meeting.refresh_from_db()
    assert meeting.status == Status.MISSED  # nobody entered; the statement is still asked for

    message = mail(Topic.N9, w.guest, meeting)
    assert message.link == f"{settings.PARLOUR_BASE_URL}/g/{link_token(meeting)}/"
    assert message.title == "How did your meeting go?"
    assert "Please confirm whether your meeting" in message.text and "Confirm and evaluate" in message.html
    assert "stars" not in message.text and "review" not in message.text  # the reviews add-on is off


def test_n9_with_the_reviews_add_on_a_guest_is_offered_stars_not_a_written_review(w):
    w.org.reviews_enabled = True
    w.org.save()
    meeting = w.book(by=w.guest, service=w.free_service, start=START, length=30)
    run_due_work(meeting.end + timedelta(hours=25))
    message = mail(Topic.N9, w.guest, meeting)
    stars = "You can also rate the meeting with 1 to 5 stars; only the organization sees them."
    assert stars in message.text and stars in message.html
    assert "write a review" not in message.text
    dutch = mail(Topic.N9, w.guest, meeting, "nl")
    assert "U kunt de afspraak ook 1 tot 5 sterren geven; alleen de organisatie ziet ze." in dutch.text
