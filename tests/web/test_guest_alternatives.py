"""A guest answers and proposes alternative dates from the page their signed link opens
(L10–L14, L16, O3): the expert's new time shown beside the current one on the guest's clock,
accepted (L12) or declined with a reason from the list (L13); a new time of the guest's own
chosen from the expert's free slots (L10 on an agreed meeting, L11 on a rejected one) and
withdrawn (L14). Each dialog works without JavaScript (its button asks for the page with the
dialog open) and with htmx (the dialog's answer in place, success reloads the page)."""

from datetime import UTC, datetime

import pytest
from django.test import Client

from parlour.meetings import lifecycle
from parlour.meetings.guest_links import link_token
from parlour.meetings.lifecycle import Party
from parlour.meetings.models import AlternativeState, EventKind, Status
from parlour.notifications.messages import compose
from parlour.notifications.models import OutboxItem, Topic
from tests.factories import ServiceFactory, world

from .clients import text

pytestmark = pytest.mark.django_db

NOW = datetime(2030, 6, 3, 6, 0, tzinfo=UTC)  # a Monday, 08:00 in Amsterdam
START = datetime(2030, 6, 6, 9, 0, tzinfo=UTC)  # Thursday, 11:00 in Amsterdam
NEW = datetime(2030, 6, 7, 13, 0, tzinfo=UTC)  # Friday, 15:00 in Amsterdam


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def w():
    w = world()
    w.guest.time_zone = "Europe/Amsterdam"
    w.guest.save()
    return w


@pytest.fixture
def agreed(w):
    """An agreed meeting of the guest on a service that needs the expert's confirmation (so
    a new date is proposed, never moved at once: L10, not L16)."""
    meeting = lifecycle.propose_meeting(
        w.expert, service=w.service, party=Party(guest=w.guest), start=START, length=30, price=0
    )
    return lifecycle.confirm_meeting(w.guest, meeting)


@pytest.fixture
def browser() -> Client:
    """The guest's browser: the message after an action shows on the next page they open."""
    return Client()


def page(browser: Client, meeting, **params) -> str:
    return text(browser.get(f"/g/{link_token(meeting)}/", params))


def post(browser: Client, meeting, path: str, data: dict | None = None, **headers):
    return browser.post(f"/g/{link_token(meeting)}/{path}", data or {}, headers=headers)


def test_l10_l12_guest_sees_the_experts_new_time_on_their_clock_and_accepts_it(browser, w, agreed):
    lifecycle.propose_alternative(w.expert, agreed, start=NEW, length=30)
    html = page(browser, agreed)
    assert "Eve Expert proposes a new time" in html
    assert "Thursday June 6, 2030, 11:00–11:30 CEST" in html  # the current time, in Amsterdam
    assert "Friday June 7, 2030, 15:00–15:30 CEST" in html  # the new one
    assert "Accept the new time" in html and "Decline the new time" in html
    assert "Propose another time" not in html and "Withdraw your proposal" not in html

    # Without JavaScript the dialog's button asks for the page with the dialog open.
    opened = page(browser, agreed, open="confirm_alternative")
    assert 'id="dialog-confirm_alternative" class="action" aria-labelledby="dialog-confirm_alternative-title" open' in (
        opened
    )

    done = post(browser, agreed, "alternative/confirm/")
    assert done.status_code == 302 and done["Location"] == f"/g/{link_token(agreed)}/"
    agreed.refresh_from_db()
    assert (agreed.status, agreed.start, agreed.pending_alternative) == (Status.AGREED, NEW, None)
    event = agreed.timeline.get(kind=EventKind.ALTERNATIVE_APPROVED)
    assert event.actor_guest == w.guest
    assert OutboxItem.objects.filter(topic=Topic.N4_CONFIRMED, recipient=w.expert, meeting=agreed).exists()
    after = page(browser, agreed)
    assert "the meeting has its new time" in after and "Friday June 7, 2030, 15:00–15:30 CEST" in after
    assert "Accept the new time" not in after


def test_l13_guest_declines_the_new_time_with_a_reason_and_keeps_the_date(browser, w, agreed):
    lifecycle.propose_alternative(w.expert, agreed, start=NEW, length=30)
    opened = page(browser, agreed, open="reject_alternative")
    assert "I am not available at this time" in opened and 'name="reject_alternative-reason"' in opened

    refused = post(browser, agreed, "alternative/reject/", {"reject_alternative-reason": "because"})
    assert refused.status_code == 400
    html = text(refused)
    assert "Select a valid choice" in html and 'id="dialog-reject_alternative"' in html
    assert agreed.pending_alternative is not None

    done = post(
        browser,
        agreed,
        "alternative/reject/",
        {"reject_alternative-reason": "not_available", "reject_alternative-note": "Away"},
    )
    assert done.status_code == 302
    agreed.refresh_from_db()
    assert (agreed.status, agreed.start, agreed.pending_alternative) == (Status.AGREED, START, None)
    event = agreed.timeline.get(kind=EventKind.ALTERNATIVE_REJECTED)
    assert (event.actor_guest, event.data["code"], event.reason) == (w.guest, "not_available", "Away")
    assert OutboxItem.objects.filter(topic=Topic.N4_REJECTED, recipient=w.expert, meeting=agreed).exists()
    assert "You declined the new time" in page(browser, agreed)


def test_l10_l14_guest_proposes_a_free_slot_of_the_expert_then_withdraws_it(browser, w, agreed):
    html = page(browser, agreed)
    assert "Propose another time" in html and "Change the time" not in html  # L10, not L16
    calendar = text(browser.get(f"/g/{link_token(agreed)}/propose/", {"tz": "UTC"}))
    assert 'data-start="2030-06-07T13:00:00Z"' in calendar
    chosen = text(browser.get(f"/g/{link_token(agreed)}/propose/", {"start": "2030-06-07T13:00:00Z", "tz": "UTC"}))
    assert "13:00–13:30" in chosen and "Propose this time" in chosen and "Eve Expert is asked to accept" in chosen

    done = post(browser, agreed, "propose/", {"start": "2030-06-07T13:00:00Z", "length": 30, "tz": "UTC"})
    assert done.status_code == 302
    agreed.refresh_from_db()
    pending = agreed.pending_alternative
    assert (pending.start, pending.proposed_by, agreed.start, agreed.status) == (NEW, "client", START, "agreed")
    assert agreed.timeline.filter(kind=EventKind.ALTERNATIVE_PROPOSED, actor_guest=w.guest).exists()
    assert OutboxItem.objects.filter(topic=Topic.N6, recipient=w.expert, meeting=agreed).exists()

    html = page(browser, agreed)
    assert "The new time you proposed" in html and "Withdraw your proposal" in html
    assert "Accept the new time" not in html and "Propose another time" not in html
    # The guest cannot answer their own proposal: the domain refuses, nothing changes.
    refused = post(browser, agreed, "alternative/confirm/")
    assert refused.status_code == 409 and 'role="alert"' in text(refused)
    assert agreed.pending_alternative is not None

    assert post(browser, agreed, "alternative/withdraw/").status_code == 302
    agreed.refresh_from_db()
    assert agreed.pending_alternative is None and agreed.start == START
    assert agreed.alternatives.get().state == AlternativeState.WITHDRAWN
    assert agreed.timeline.filter(kind=EventKind.ALTERNATIVE_WITHDRAWN, actor_guest=w.guest).exists()
    assert "Your proposal is withdrawn" in page(browser, agreed)


def test_l11_guest_proposes_a_new_time_for_a_request_the_expert_rejected(browser, w):
    service = ServiceFactory(organization=w.org, name="Free advice", price=0, requires_confirmation=True)
    service.experts.add(w.expert)
    meeting = w.book(by=w.guest, service=service, start=START, length=30)
    lifecycle.reject_meeting(w.expert, meeting, reason="not_available")
    html = page(browser, meeting)
    assert "Rejected" in html and "Propose another time" in html and "Cancel the meeting" not in html

    done = post(browser, meeting, "propose/", {"start": "2030-06-07T13:00:00Z", "length": 30})
    assert done.status_code == 302
    meeting.refresh_from_db()
    assert (meeting.status, meeting.pending_alternative.start) == (Status.REJECTED, NEW)
    assert OutboxItem.objects.filter(topic=Topic.N1, recipient=w.expert, meeting=meeting).exists()

    lifecycle.confirm_alternative(w.expert, meeting)
    meeting.refresh_from_db()
    assert (meeting.status, meeting.start) == (Status.AGREED, NEW)


def test_l16_a_service_without_confirmation_is_moved_directly_not_proposed(browser, w):
    meeting = w.book(by=w.guest, service=w.free_service, start=START, length=30)
    html = page(browser, meeting)
    assert "Change the time" in html and "Propose another time" not in html


def test_l13_guest_may_decline_but_not_withdraw_the_experts_proposal(browser, w, agreed):
    lifecycle.propose_alternative(w.expert, agreed, start=NEW, length=30)
    refused = post(browser, agreed, "alternative/withdraw/")
    assert refused.status_code == 403
    assert "Only who proposed the date may withdraw it" in text(refused)
    assert agreed.pending_alternative is not None


def test_l12_with_htmx_the_dialog_answers_in_place_and_success_reloads(browser, w, agreed):
    lifecycle.propose_alternative(w.expert, agreed, start=NEW, length=30)
    refused = post(browser, agreed, "alternative/reject/", {"reject_alternative-reason": ""}, HX_Request="true")
    assert refused.status_code == 200 and "<html" not in text(refused) and "This field is required" in text(refused)
    done = post(browser, agreed, "alternative/confirm/", HX_Request="true")
    assert done["HX-Redirect"] == f"/g/{link_token(agreed)}/"
    agreed.refresh_from_db()
    assert agreed.start == NEW


def test_o3_another_meetings_or_a_forged_link_is_not_found(browser, w, agreed):
    lifecycle.propose_alternative(w.expert, agreed, start=NEW, length=30)
    token = link_token(agreed)
    for bad in (token[:-2] + "xx", "nonsense"):
        for path in ("alternative/confirm/", "alternative/reject/", "alternative/withdraw/", "propose/"):
            assert Client().post(f"/g/{bad}/{path}", {}).status_code == 404
    agreed.refresh_from_db()
    assert agreed.start == START and agreed.pending_alternative is not None


def test_n6_the_mail_about_the_experts_new_time_opens_the_guest_page(browser, w, agreed, settings):
    lifecycle.propose_alternative(w.expert, agreed, start=NEW, length=30)
    item = OutboxItem.objects.get(topic=Topic.N6, recipient_guest=w.guest, meeting=agreed)
    message = compose(item)
    assert message.link == f"{settings.PARLOUR_BASE_URL}/g/{link_token(agreed)}/"
    assert "Accept the new time" in page(browser, agreed)


def test_l12_guest_page_in_another_zone_keeps_it_for_the_dialogs(browser, w, agreed):
    lifecycle.propose_alternative(w.expert, agreed, start=NEW, length=30)
    html = page(browser, agreed, tz="America/New_York")
    assert "Friday June 7, 2030, 09:00–09:30 EDT" in html
    assert 'action="/g/' in html and "alternative/confirm/?tz=America%2FNew_York" in html


def test_k1_a_guests_request_awaiting_the_expert_can_be_added_to_their_calendar(browser, w):
    """The .ics link is there while the expert has still to confirm (a tentative event), and
    the room's button only once the meeting is agreed."""
    service = ServiceFactory(organization=w.org, name="Free advice", price=0, requires_confirmation=True)
    service.experts.add(w.expert)
    meeting = w.book(by=w.guest, service=service, start=START, length=30)
    html = page(browser, meeting)
    token = link_token(meeting)
    assert "Awaiting approval" in html and f'href="/api/v1/guest/{token}/calendar.ics"' in html
    assert f"/join/{token}/" not in html
    event = browser.get(f"/api/v1/guest/{token}/calendar.ics").content.decode()
    assert "STATUS:TENTATIVE" in event and meeting.guest_key in event

    lifecycle.reject_meeting(w.expert, meeting, reason="not_available")
    assert "calendar.ics" not in page(browser, meeting)
