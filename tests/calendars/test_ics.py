"""K1, K2: a meeting as an iCalendar event — what a calendar program relies on to add, move
and remove it by itself (METHOD, one UID, a rising SEQUENCE, UTC times, STATUS, organizer
and attendees) — and the downloads of the API and of a guest's link."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import signing
from django.test import Client

from parlour.calendars.ics import event_ics, sequence_of, uid_of
from parlour.meetings import lifecycle
from parlour.meetings.guest_links import SALT, link_token
from parlour.meetings.models import Meeting, Status
from tests.factories import OrganizationFactory, admin_of, member

from .conftest import NOW, mailto, only_event

pytestmark = pytest.mark.django_db

WEDNESDAY_10 = datetime(2030, 6, 5, 10, 0, tzinfo=UTC)


def ics(meeting: Meeting, **kw):
    meeting = Meeting.objects.select_related("service", "expert", "client", "guest").get(pk=meeting.pk)
    return only_event(event_ics(meeting, **kw))


def attendees(event) -> dict[str, object]:
    found = event.get("ATTENDEE", [])
    found = found if isinstance(found, list) else [found]
    return {mailto(a): a for a in found}


def test_k1_event_has_what_a_calendar_program_needs(w, settings):
    settings.PARLOUR_BASE_URL = "https://parlour.example"
    meeting = w.agreed(start=WEDNESDAY_10, length=60, subject="Pricing strategy", description="Bring the numbers.")
    calendar, event = ics(meeting)

    assert calendar["METHOD"] == "PUBLISH"
    assert calendar["VERSION"] == "2.0"
    assert "Parlour" in calendar["PRODID"]
    assert event["UID"] == uid_of(meeting) == f"meeting-{meeting.pk}@parlour.example"
    assert event.start == WEDNESDAY_10 and event.start.utcoffset() == timedelta(0)
    assert event.end == WEDNESDAY_10 + timedelta(minutes=60) and event.end.utcoffset() == timedelta(0)
    assert b"DTSTART:20300605T100000Z" in event_ics(meeting)
    assert event["DTSTAMP"].dt == NOW
    assert event["STATUS"] == "CONFIRMED"
    assert event["SEQUENCE"] == sequence_of(meeting) == 1  # the expert's confirmation (L2)
    assert str(event["SUMMARY"]) == "Expert advice: Eve Expert with Cleo Client"
    assert "Pricing strategy" in event["DESCRIPTION"] and "Bring the numbers." in event["DESCRIPTION"]
    assert event["LOCATION"] == f"https://parlour.example/meetings/{meeting.pk}/join/"
    assert event["URL"] == f"https://parlour.example/o/{meeting.organization.slug}/meetings/{meeting.pk}/"

    assert mailto(event["ORGANIZER"]) == f"mailto:{w.expert.email}"
    assert event["ORGANIZER"].params["CN"] == "Eve Expert"
    people = attendees(event)
    assert set(people) == {f"mailto:{w.client.email}", f"mailto:{w.expert.email}"}
    client = people[f"mailto:{w.client.email}"]
    assert (client.params["CN"], client.params["PARTSTAT"], client.params["RSVP"]) == (
        "Cleo Client",
        "ACCEPTED",
        "FALSE",
    )


def test_k2_uid_and_links_follow_the_base_url(w, settings):
    settings.PARLOUR_BASE_URL = "https://meet.example.com/"
    meeting = w.agreed(start=WEDNESDAY_10)
    _, event = ics(meeting)
    assert event["UID"] == f"meeting-{meeting.pk}@meet.example.com"
    assert event["LOCATION"] == f"https://meet.example.com/meetings/{meeting.pk}/join/"

    del settings.PARLOUR_BASE_URL
    assert uid_of(meeting) == f"meeting-{meeting.pk}@parlour.localhost"


def test_k2_l16_l15_cancel_same_uid_rising_sequence_and_cancel_method(w):
    """Booked (agreed at once) → moved directly (L16) → reassigned (L15) → cancelled (L7):
    one UID, SEQUENCE strictly rising, the new time in UTC, the new organizer, then CANCEL."""
    meeting = w.book(by=w.client, service=w.free_service, start=WEDNESDAY_10, length=15)
    assert meeting.status == Status.AGREED
    _, booked = ics(meeting, method="REQUEST")
    assert (booked["SEQUENCE"], booked["STATUS"], booked.end - booked.start) == (0, "CONFIRMED", timedelta(minutes=15))

    moved_to = datetime(2030, 6, 6, 14, 30, tzinfo=UTC)
    lifecycle.change_meeting_time(w.client, meeting, start=moved_to, length=30)
    calendar, moved = ics(meeting, method="REQUEST")
    assert calendar["METHOD"] == "REQUEST"
    assert moved.start == moved_to and moved.end == moved_to + timedelta(minutes=30)
    assert moved.start.utcoffset() == timedelta(0)

    lifecycle.reassign_meeting(w.expert, meeting, expert=w.colleague)
    _, reassigned = ics(meeting, method="REQUEST")
    assert mailto(reassigned["ORGANIZER"]) == f"mailto:{w.colleague.email}"
    assert f"mailto:{w.colleague.email}" in attendees(reassigned)
    assert f"mailto:{w.expert.email}" not in attendees(reassigned)
    # The previous expert gets the event taken away: CANCEL, addressed to them alone.
    calendar, dropped = ics(meeting, method="CANCEL", attendee_emails=[w.expert.email, w.expert.email.upper()])
    assert (calendar["METHOD"], dropped["STATUS"]) == ("CANCEL", "CANCELLED")
    assert set(attendees(dropped)) == {f"mailto:{w.expert.email}"}

    lifecycle.cancel_meeting(w.client, meeting, note="Plans changed.")
    calendar, cancelled = ics(meeting, method="CANCEL")
    assert (calendar["METHOD"], cancelled["STATUS"]) == ("CANCEL", "CANCELLED")

    events = [booked, moved, reassigned, dropped, cancelled]
    assert len({str(e["UID"]) for e in events}) == 1
    sequences = [booked["SEQUENCE"], moved["SEQUENCE"], reassigned["SEQUENCE"], cancelled["SEQUENCE"]]
    assert sequences == sorted(set(sequences)) == [0, 1, 2, 3]
    assert dropped["SEQUENCE"] == reassigned["SEQUENCE"]


def test_k2_l10_l12_alternative_moves_the_event_only_once_approved(w):
    meeting = w.book(start=WEDNESDAY_10, length=30)
    _, requested = ics(meeting, method="REQUEST")
    assert (requested["SEQUENCE"], requested["STATUS"]) == (0, "TENTATIVE")
    assert attendees(requested)[f"mailto:{w.expert.email}"].params["PARTSTAT"] == "NEEDS-ACTION"

    lifecycle.confirm_meeting(w.expert, meeting)
    _, confirmed = ics(meeting, method="REQUEST")
    assert (confirmed["SEQUENCE"], confirmed["STATUS"]) == (1, "CONFIRMED")

    alternative = datetime(2030, 6, 7, 16, 0, tzinfo=UTC)
    lifecycle.propose_alternative(w.expert, meeting, start=alternative, length=60)
    _, proposed = ics(meeting, method="REQUEST")
    assert proposed["SEQUENCE"] == 1 and proposed.start == WEDNESDAY_10  # L10: the date stays valid

    lifecycle.confirm_alternative(w.client, meeting)
    _, approved = ics(meeting, method="REQUEST")
    assert approved["SEQUENCE"] == 2 and approved["UID"] == requested["UID"]
    assert approved.start == alternative and approved.end == alternative + timedelta(minutes=60)
    assert b"DTSTART:20300607T160000Z" in event_ics(Meeting.objects.get(pk=meeting.pk))
    assert b"DTEND:20300607T170000Z" in event_ics(Meeting.objects.get(pk=meeting.pk))


def test_k2_rejected_request_is_cancelled_for_calendars(w):
    meeting = w.book(start=WEDNESDAY_10)
    lifecycle.reject_meeting(w.expert, meeting, reason="not_available")
    _, event = ics(meeting, method="REQUEST")
    assert (event["SEQUENCE"], event["STATUS"]) == (1, "CANCELLED")
    assert attendees(event)[f"mailto:{w.expert.email}"].params["PARTSTAT"] == "DECLINED"


def test_k2_b4_time_options_are_tentative_until_one_is_picked(w):
    early, late = datetime(2030, 6, 5, 9, 0, tzinfo=UTC), datetime(2030, 6, 6, 11, 0, tzinfo=UTC)
    meeting = lifecycle.offer_time_options(
        w.expert, service=w.service, party=lifecycle.Party(client=w.client), options=[(late, 60), (early, 30)]
    )
    _, offered = ics(meeting)
    assert (offered["SEQUENCE"], offered["STATUS"], offered.start) == (0, "TENTATIVE", early)
    option = meeting.time_options.get(start=late)
    lifecycle.pick_time_option(w.client, meeting, option.pk)
    _, picked = ics(meeting)
    assert (picked["SEQUENCE"], picked["STATUS"], picked.start) == (1, "CONFIRMED", late)
    assert picked.end == late + timedelta(minutes=60)


def test_k2_l18_lapsed_request_is_cancelled(w, frozen):
    meeting = w.book(start=WEDNESDAY_10)
    frozen.move_to(WEDNESDAY_10 + timedelta(minutes=1), tick=False)
    lifecycle.lapse_meeting(meeting)
    _, event = ics(meeting, method="CANCEL")
    assert (event["SEQUENCE"], event["STATUS"]) == (1, "CANCELLED")


def test_k1_guest_meeting_names_the_guest_and_its_key(w):
    meeting = w.book(by=w.guest, service=w.free_service, start=WEDNESDAY_10, length=30)
    _, event = ics(meeting)
    assert f"mailto:{w.guest.email}" in attendees(event)
    assert str(event["SUMMARY"]) == "Intro call: Eve Expert with Gus Guest"
    assert f"Guest key: {meeting.guest_key}" in event["DESCRIPTION"]


def test_event_ics_refuses_an_unknown_method(w):
    meeting = w.agreed(start=WEDNESDAY_10)
    with pytest.raises(ValueError):
        event_ics(meeting, method="REFRESH")
    assert only_event(event_ics(meeting, method="request"))[0]["METHOD"] == "REQUEST"


# --- K1: downloads -------------------------------------------------------------------


def test_k1_expert_and_client_download_the_meeting(w, as_user):
    meeting = w.agreed(start=WEDNESDAY_10)
    for person in (w.expert, w.client, w.admin, w.colleague):
        response = as_user(person).org(w).get(f"/meetings/{meeting.pk}/calendar.ics")
        assert response.status_code == 200, response.content
        assert response["Content-Type"].startswith("text/calendar")
        assert response["Content-Disposition"] == f'attachment; filename="meeting-{meeting.pk}.ics"'
        calendar, event = only_event(response.content)
        assert (calendar["METHOD"], event["UID"]) == ("PUBLISH", uid_of(meeting))


def test_k1_o3_download_is_not_found_outside_what_one_may_see(w, as_user):
    meeting = w.agreed(start=WEDNESDAY_10)
    outsider = member(w.org, name="Olga Outsider")  # a member of no group of the expert's
    response = as_user(outsider).org(w).get(f"/meetings/{meeting.pk}/calendar.ics")
    assert response.status_code == 404 and response.json()["code"] == "not_found"

    other = OrganizationFactory()
    stranger = admin_of(other)
    assert as_user(stranger).get(f"/orgs/{w.org.slug}/meetings/{meeting.pk}/calendar.ics").status_code == 404
    assert as_user(stranger).get(f"/orgs/{other.slug}/meetings/{meeting.pk}/calendar.ics").status_code == 404
    assert as_user(w.expert).org(w).get("/meetings/999999/calendar.ics").status_code == 404
    assert Client().get(f"/api/v1/orgs/{w.org.slug}/meetings/{meeting.pk}/calendar.ics").status_code == 401


def test_k1_b5_guest_downloads_through_their_link(w):
    meeting = w.book(by=w.guest, service=w.free_service, start=WEDNESDAY_10, length=30)
    response = Client().get(f"/api/v1/guest/{link_token(meeting)}/calendar.ics")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/calendar")
    assert response["Content-Disposition"] == f'attachment; filename="meeting-{meeting.pk}.ics"'
    _, event = only_event(response.content)
    assert event["UID"] == uid_of(meeting) and event.start == WEDNESDAY_10
    assert meeting.guest_key in event["DESCRIPTION"]


def test_k1_o3_forged_guest_link_is_not_found(w):
    meeting = w.book(by=w.guest, service=w.free_service, start=WEDNESDAY_10, length=30)
    forged = signing.Signer(salt="not-" + SALT).sign_object([meeting.pk, meeting.guest_key])
    tampered = link_token(meeting)[:-2] + "xx"
    for token in (forged, tampered, "nothing"):
        response = Client().get(f"/api/v1/guest/{token}/calendar.ics")
        assert response.status_code == 404 and response.json()["code"] == "not_found"
