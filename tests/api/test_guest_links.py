"""A guest's own meeting through the signed link (B5, O3, B4, L1, L5–L7, L10–L14, L16, L17, S1, S3):
reading changes nothing; every action of the client side goes through the lifecycle with the
guest as the actor, with a client's refusals; a forged or outdated link is "not found"."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import signing
from django.test import Client

from parlour.meetings import lifecycle, outcome
from parlour.meetings.guest_links import SALT, link_token, meeting_for_link
from parlour.meetings.lifecycle import Party
from parlour.meetings.models import EventKind, Meeting, Status, new_guest_key
from parlour.notifications.models import OutboxItem

from .conftest import Api, assert_error, snapshot

pytestmark = pytest.mark.django_db

NOW = datetime(2030, 6, 3, 6, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def booked(w):
    """A guest in Amsterdam booked the free service (agreed at once) for Wednesday 10:00 UTC."""
    w.guest.time_zone = "Europe/Amsterdam"
    w.guest.save()
    return w.book(by=w.guest, service=w.free_service, start=datetime(2030, 6, 5, 10, tzinfo=UTC), length=30)


def link(meeting) -> Api:
    return Api(Client(enforce_csrf_checks=True), f"/api/v1/guest/{link_token(meeting)}")


def test_b5_link_shows_the_guests_meeting_and_reading_changes_nothing(w, booked):
    before = snapshot(booked)
    outbox = OutboxItem.objects.count()
    for _ in range(2):
        response = link(booked).get("")
        assert response.status_code == 200, response.content
    body = response.json()
    assert (body["id"], body["status"], body["displayed_status"]) == (booked.pk, "agreed", "scheduled")
    assert (body["start"], body["end"], body["time_zone"]) == (
        "2030-06-05T12:00:00+02:00",
        "2030-06-05T12:30:00+02:00",
        "Europe/Amsterdam",
    )
    assert (body["expert"]["name"], body["name"], body["guest_key"]) == ("Eve Expert", "Gus Guest", booked.guest_key)
    assert snapshot(booked) == before
    assert OutboxItem.objects.count() == outbox


def test_l7_guest_cancels_through_the_link_with_a_reason(w, booked):
    page = link(booked)
    assert_error(page.post("/cancel", {}), 400, "reason_required", "L7")
    assert Meeting.objects.get(pk=booked.pk).status == Status.AGREED
    response = page.post("/cancel", {"note": "Something came up"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    booked.refresh_from_db()
    event = booked.timeline.get(kind=EventKind.CANCELLED)
    assert (event.actor_guest, event.reason, event.data["rule"]) == (w.guest, "Something came up", "L7")
    assert_error(page.post("/cancel", {"note": "again"}), 409, "wrong_state", "L7")


def test_l1_guest_withdraws_a_request_awaiting_the_expert(w):
    w.service.price = 0
    w.service.save()
    meeting = w.book(by=w.guest, service=w.service, start=NOW + timedelta(days=2))
    response = link(meeting).post("/cancel", {})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"


def test_l16_guest_moves_the_meeting_to_another_free_time(w, booked):
    page = link(booked)
    response = page.post("/change-time", {"start": "2030-06-05T15:00:00+02:00", "length": 15})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["start"], body["length"], body["status"]) == ("2030-06-05T15:00:00+02:00", 15, "agreed")
    booked.refresh_from_db()
    assert booked.start == datetime(2030, 6, 5, 13, tzinfo=UTC)
    assert booked.timeline.filter(kind=EventKind.CHANGED, actor_guest=w.guest).exists()
    # The same link still works after the change (the key did not change).
    assert page.get("").json()["start"] == "2030-06-05T15:00:00+02:00"

    # A time the expert is busy is refused and nothing moves.
    other = w.book(service=w.free_service, start=datetime(2030, 6, 6, 9, tzinfo=UTC), length=30)
    before = snapshot(booked)
    assert_error(page.post("/change-time", {"start": other.start.isoformat()}), 409, "slot_taken", "L16")
    assert_error(page.post("/change-time", {"start": "2030-06-06T09:00:00"}), 400, "invalid_input", "Q1")
    assert_error(page.post("/change-time", {"length": 45}), 400, "invalid_length", "L16")
    assert snapshot(booked) == before


def test_o3_forged_or_outdated_links_are_not_found(w, booked):
    good = link_token(booked)
    client_meeting = w.book(service=w.free_service, start=NOW + timedelta(days=3))
    forged = [
        good[:-1] + ("A" if good[-1] != "A" else "B"),  # signature altered
        "nonsense",
        "",
        signing.Signer(salt="another.purpose").sign_object([booked.pk, booked.guest_key]),
        signing.Signer(salt=SALT).sign_object([client_meeting.pk, client_meeting.guest_key]),  # no guest
        signing.Signer(salt=SALT).sign_object([client_meeting.pk, booked.guest_key]),  # key of another meeting
        signing.Signer(salt=SALT).sign_object({"m": booked.pk}),
        signing.Signer(salt=SALT).sign_object([str(booked.pk), booked.guest_key]),
        signing.dumps([booked.pk, booked.guest_key]),
    ]
    before = snapshot(booked)
    for token in forged:
        page = Api(Client(), f"/api/v1/guest/{token}")
        assert page.get("").status_code == 404, token
        assert page.post("/cancel", {"note": "x"}).status_code == 404, token
        assert page.post("/change-time", {"start": "2030-06-05T15:00:00+02:00"}).status_code == 404, token
    assert_error(Api(Client(), f"/api/v1/guest/{forged[0]}").get(""), 404, "not_found", "O3")
    assert snapshot(booked) == before

    # A new guest key makes every link sent before it stop working.
    Meeting.objects.filter(pk=booked.pk).update(guest_key=new_guest_key())
    assert_error(Api(Client(), f"/api/v1/guest/{good}").get(""), 404, "not_found", "O3")
    booked.refresh_from_db()
    assert meeting_for_link(link_token(booked)) == booked


def test_b5_a_link_is_only_for_a_meeting_with_a_guest(w):
    meeting = w.book(service=w.free_service, start=NOW + timedelta(days=3))
    with pytest.raises(ValueError):
        link_token(meeting)


# --- answering the expert and alternative dates through the link (B4, L5, L6, L10–L14) ---------


@pytest.fixture
def agreed_with_confirmation(w):
    """The guest (in Amsterdam) confirmed the expert's proposal of a service that needs
    confirmation, for Thursday 09:00 UTC: a new date is proposed, not moved (L10, not L16)."""
    w.guest.time_zone = "Europe/Amsterdam"
    w.guest.save()
    meeting = lifecycle.propose_meeting(
        w.expert, service=w.service, party=Party(guest=w.guest), start=datetime(2030, 6, 6, 9, tzinfo=UTC), price=0
    )
    return lifecycle.confirm_meeting(w.guest, meeting)


def test_l10_l12_guest_sees_and_confirms_the_experts_alternative(w, agreed_with_confirmation):
    meeting = agreed_with_confirmation
    page = link(meeting)
    assert page.get("").json()["pending_alternative"] is None
    lifecycle.propose_alternative(w.expert, meeting, start=datetime(2030, 6, 7, 13, tzinfo=UTC), length=30)
    pending = page.get("").json()["pending_alternative"]
    assert (pending["proposed_by"], pending["start"], pending["end"]) == (
        "expert",
        "2030-06-07T15:00:00+02:00",  # in the guest's zone
        "2030-06-07T15:30:00+02:00",
    )
    response = page.post("/alternative/confirm")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["start"], body["status"], body["pending_alternative"]) == ("2030-06-07T15:00:00+02:00", "agreed", None)
    assert meeting.timeline.filter(kind=EventKind.ALTERNATIVE_APPROVED, actor_guest=w.guest).exists()
    assert_error(page.post("/alternative/confirm"), 409, "no_alternative", "L12")


def test_l13_guest_rejects_the_experts_alternative_with_a_reason(w, agreed_with_confirmation):
    meeting = agreed_with_confirmation
    lifecycle.propose_alternative(w.expert, meeting, start=datetime(2030, 6, 7, 13, tzinfo=UTC), length=30)
    page = link(meeting)
    before = snapshot(meeting)
    assert_error(page.post("/alternative/reject", {"reason": "whatever"}), 422, "invalid_input")
    assert_error(page.post("/alternative/withdraw"), 403, "not_your_alternative", "L14")
    assert snapshot(meeting) == before and meeting.pending_alternative is not None
    response = page.post("/alternative/reject", {"reason": "not_available", "note": "Away that day"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["start"], body["pending_alternative"]) == ("2030-06-06T11:00:00+02:00", None)
    event = meeting.timeline.get(kind=EventKind.ALTERNATIVE_REJECTED)
    assert (event.actor_guest, event.data["code"], event.reason) == (w.guest, "not_available", "Away that day")


def test_l10_l14_guest_proposes_an_alternative_and_withdraws_it(w, agreed_with_confirmation):
    meeting = agreed_with_confirmation
    page = link(meeting)
    response = page.post("/alternative/propose", {"start": "2030-06-07T15:00:00+02:00"})
    assert response.status_code == 200, response.content
    pending = response.json()["pending_alternative"]
    assert (pending["proposed_by"], pending["start"], pending["length"]) == ("client", "2030-06-07T15:00:00+02:00", 30)
    assert response.json()["start"] == "2030-06-06T11:00:00+02:00"  # L10: the date stays until confirmed
    assert OutboxItem.objects.filter(topic="N6", recipient=w.expert, meeting=meeting).exists()
    assert_error(page.post("/alternative/propose", {"start": "2030-06-08T15:00:00+02:00"}), 409, "alternative_pending")
    assert_error(page.post("/alternative/confirm"), 409, "own_alternative", "L12")
    assert_error(page.post("/alternative/reject", {"reason": "other"}), 409, "own_alternative", "L13")
    response = page.post("/alternative/withdraw")
    assert response.status_code == 200, response.content
    assert response.json()["pending_alternative"] is None
    assert meeting.timeline.filter(kind=EventKind.ALTERNATIVE_WITHDRAWN, actor_guest=w.guest).exists()
    assert_error(page.post("/alternative/withdraw"), 409, "no_alternative", "L14")


def test_l11_guest_proposes_a_new_date_for_a_rejected_meeting(w):
    proposal = w.propose(to=w.guest, service=w.service, price=0)
    page = link(proposal)
    assert_error(page.post("/reject", {"reason": "nonsense"}), 422, "invalid_input")
    assert page.post("/reject", {"reason": "not_available"}).json()["status"] == "rejected"
    response = page.post("/alternative/propose", {"start": (proposal.start + timedelta(days=1)).isoformat()})
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["pending_alternative"]["proposed_by"]) == ("rejected", "client")
    assert OutboxItem.objects.filter(topic="N1", recipient=w.expert, meeting=proposal).exists()


def test_l5_b4_guest_confirms_a_proposal_and_picks_an_offered_time(w):
    proposal = w.propose(to=w.guest, service=w.free_service, price=0)
    assert link(proposal).post("/confirm").json()["status"] == "agreed"
    assert_error(link(proposal).post("/confirm"), 409, "wrong_state", "L5")

    options = [(NOW + timedelta(days=2), 30), (NOW + timedelta(days=4), 15)]
    offer = lifecycle.offer_time_options(w.expert, service=w.free_service, party=Party(guest=w.guest), options=options)
    page = link(offer)
    shown = page.get("").json()["time_options"]
    assert [option["length"] for option in shown] == [30, 15]
    assert_error(page.post("/pick-option", {"option_id": 999999}), 404, "no_such_option", "B4")
    response = page.post("/pick-option", {"option_id": shown[1]["id"]})
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["length"], response.json()["time_options"]) == ("agreed", 15, [])


def test_o3_forged_links_answer_not_found_for_every_action(w, agreed_with_confirmation):
    meeting = agreed_with_confirmation
    lifecycle.propose_alternative(w.expert, meeting, start=datetime(2030, 6, 7, 13, tzinfo=UTC), length=30)
    before = snapshot(meeting)
    token = link_token(meeting)
    forged = Api(Client(), f"/api/v1/guest/{token[:-1] + ('A' if token[-1] != 'A' else 'B')}")
    for path, body in [
        ("/confirm", {}),
        ("/reject", {"reason": "other"}),
        ("/pick-option", {"option_id": 1}),
        ("/alternative/propose", {"start": "2030-06-08T15:00:00+02:00"}),
        ("/alternative/confirm", {}),
        ("/alternative/reject", {"reason": "other"}),
        ("/alternative/withdraw", None),
    ]:
        assert_error(forged.post(path, body), 404, "not_found", "O3")
    assert snapshot(meeting) == before and meeting.pending_alternative is not None


# --- after the meeting (S1, S3) and the overlap warning (L17) through the link ------------------


def test_s1_s3_guest_states_the_meeting_went_smoothly_and_it_settles_as_held(w, booked, time_machine):
    page = link(booked)
    assert_error(page.post("/statement", {"said": "held"}), 409, "not_ended", "S1")  # before the end
    assert page.get("").json()["statements"] == []

    time_machine.move_to(booked.end + timedelta(hours=24), tick=False)
    assert_error(page.post("/statement", {"said": "maybe"}), 422, "invalid_input")
    before = page.get("").json()
    assert (before["outcome"], before["statements"]) == ("", [])
    response = page.post("/statement", {"said": "held"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["outcome"], body["outcome_label"]) == ("held", "Held")
    [stated] = body["statements"]
    assert (stated["side"], stated["said"], stated["said_label"]) == ("client", "held", "The meeting went smoothly")
    booked.refresh_from_db()
    assert booked.outcome == "held"
    assert booked.timeline.filter(kind=EventKind.OUTCOME_RECORDED, actor_guest=w.guest).exists()
    assert OutboxItem.objects.filter(topic="outcome", recipient_guest=w.guest, meeting=booked).exists()
    assert_error(page.post("/statement", {"said": "not_held_expert"}), 409, "already_stated", "S1")


def test_s1_s3_guest_says_it_did_not_take_place_because_of_them_a_client_no_show(w, booked, time_machine):
    time_machine.move_to(booked.end + timedelta(hours=1), tick=False)
    response = link(booked).post("/statement", {"said": "not_held_client"})
    assert response.status_code == 200, response.content
    assert response.json()["outcome"] == "client_no_show"


def test_s1_s3_because_of_the_expert_waits_for_the_expert_and_disagreement_is_disputed(w, booked, time_machine):
    time_machine.move_to(booked.end + timedelta(hours=1), tick=False)
    page = link(booked)
    assert page.post("/statement", {"said": "not_held_expert"}).json()["outcome"] == ""
    outcome.submit_statement(w.expert, booked, said="held")
    body = page.get("").json()
    assert body["outcome"] == "disputed"
    assert [(s["side"], s["said_label"]) for s in body["statements"]] == [
        ("client", "It did not take place because of the expert"),
        ("expert", "The meeting took place"),
    ]


def test_s1_a_guest_gives_private_stars_but_no_written_review(w, booked, time_machine):
    time_machine.move_to(booked.end + timedelta(hours=1), tick=False)
    page = link(booked)
    # Without the reviews add-on nothing but the statement is taken (O4).
    assert_error(page.post("/statement", {"said": "held", "stars": 5}), 400, "add_on_off", "O4")
    w.org.reviews_enabled = True
    w.org.save()
    # A written review belongs to a client account (one per expert).
    assert_error(page.post("/statement", {"said": "held", "review": "Great"}), 403, "sign_in_required", "S1")
    assert_error(page.post("/statement", {"said": "held", "summary": "x"}), 403, "wrong_side", "S2")
    assert not booked.statements.exists()
    response = page.post("/statement", {"said": "held", "stars": 4})
    assert response.status_code == 200, response.content
    assert response.json()["statements"][0]["stars"] is None  # the organization's, not shown back
    assert booked.statements.get().stars == 4


def test_l17_guest_confirming_through_the_link_is_warned_of_their_own_agreed_meeting(w, booked):
    """The guest's booked meeting (Wednesday 10:00 UTC) overlaps a proposal they confirm (L5)."""
    proposal = lifecycle.propose_meeting(
        w.colleague, service=w.free_service, party=Party(guest=w.guest), start=booked.start, length=30
    )
    page = link(proposal)
    body = assert_error(page.post("/confirm"), 409, "conflict_warning", "L17")
    assert body["details"] == {"conflicting_meeting": booked.pk, "confirms": "L5"}
    assert w.free_service.name in body["message"]
    assert page.get("").json()["status"] == "awaiting_approval"
    response = page.post("/confirm", {"acknowledge_conflict": True})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "agreed"


def test_l17_guest_picking_an_offered_time_or_accepting_a_new_one_is_warned(w, booked):
    options = [(booked.start, 30), (booked.start + timedelta(days=1), 30)]
    offer = lifecycle.offer_time_options(
        w.colleague, service=w.free_service, party=Party(guest=w.guest), options=options
    )
    page = link(offer)
    first, second = (option["id"] for option in page.get("").json()["time_options"])
    assert_error(page.post("/pick-option", {"option_id": first}), 409, "conflict_warning", "L17")
    assert page.post("/pick-option", {"option_id": second}).json()["status"] == "agreed"

    lifecycle.propose_alternative(w.colleague, offer, start=booked.start, length=30)
    body = assert_error(page.post("/alternative/confirm"), 409, "conflict_warning", "L17")
    assert body["details"]["confirms"] == "L12"
    response = page.post("/alternative/confirm", {"acknowledge_conflict": True})
    assert response.status_code == 200, response.content
    assert response.json()["start"] == "2030-06-05T12:00:00+02:00"
