"""Making a meeting: a client or guest books (B1, B2), an expert proposes (B3) or offers
several times (B4), and every meeting gets a guest key (B5)."""

import pytest

from parlour.accounts.models import Guest
from parlour.meetings import lifecycle
from parlour.meetings.access import access_guest_meeting
from parlour.meetings.lifecycle import Party
from parlour.meetings.models import GUEST_KEY_ALPHABET, GUEST_KEY_LENGTH, new_guest_key, normalize_guest_key
from parlour.meetings.reasons import RejectReason
from tests.factories import GuestFactory, OrganizationFactory, ServiceFactory, client
from tests.meetings.checks import (
    assert_ledger_balanced,
    at,
    fresh,
    messages,
    refused,
    room_commands,
    timeline,
    titles,
    wallet,
)

# --- B2: a client or guest books a slot ---------------------------------------------


def test_b2_booking_a_service_with_confirmation_awaits_the_expert_and_blocks_the_price(w):
    meeting = w.book(hours_ahead=72)

    assert meeting.status == "awaiting_approval"
    assert (meeting.client_approved, meeting.expert_approved) == (True, False)
    assert meeting.credit_status == "blocked"
    assert wallet(w.org, w.client) == (900, 100)
    assert timeline(meeting) == [
        ("Meeting booked by client", "Cleo Client", ""),
        ("Approved by client", "Cleo Client", ""),
    ]
    assert messages(meeting) == [("N1", "Eve Expert")]
    assert room_commands(meeting) == []
    assert_ledger_balanced(w.org)


def test_b2_booking_a_service_without_confirmation_is_agreed_at_once_with_its_room(w):
    meeting = w.book(service=w.free_service, hours_ahead=72)

    assert meeting.status == "agreed"
    assert (meeting.client_approved, meeting.expert_approved) == (True, True)
    assert meeting.credit_status == "none"
    assert meeting.length_minutes == 15  # the service's first length is its default
    assert wallet(w.org, w.client) == (1000, 0)
    assert messages(meeting) == [("N2", "Eve Expert"), ("N2", "Cleo Client")]
    assert room_commands(meeting) == ["room.create"]


def test_b2_paid_service_without_confirmation_is_agreed_with_its_price_blocked(w):
    quick = ServiceFactory(organization=w.org, price=40, requires_confirmation=False)
    quick.experts.add(w.expert)

    meeting = w.book(service=quick)

    assert (meeting.status, meeting.credit_status) == ("agreed", "blocked")
    assert wallet(w.org, w.client) == (960, 40)
    assert room_commands(meeting) == ["room.create"]


def test_b2_guest_books_a_free_service(w):
    meeting = w.book(service=w.free_service, by=w.guest)

    assert meeting.status == "agreed"
    assert (meeting.guest, meeting.client) == (w.guest, None)
    assert timeline(meeting) == [
        ("Meeting booked by client", "Gus Guest", ""),
        ("Approved by client", "Gus Guest", ""),
    ]
    assert messages(meeting) == [("N2", "Eve Expert"), ("N2", "Gus Guest")]


def test_b2_guest_cannot_book_a_paid_service(w):
    with refused(w.org, "sign_in_required", rule="B1"):
        w.book(service=w.service, by=w.guest)


def test_b2_booking_with_a_wallet_too_short_is_refused_and_nothing_changes(w):
    poor = client(w.org, credits=99, name="Pat Poor")

    with refused(w.org, "insufficient_credits", status=402, rule="B1") as caught:
        w.book(by=poor)

    assert caught.value.details == {"price": 100, "available": 99}
    assert wallet(w.org, poor) == (99, 0)


def test_b1_a_time_already_taken_is_refused_and_never_overlaps(w):
    w.book(hours_ahead=72)

    with refused(w.org, "slot_taken", status=409, rule="B1"):
        w.book(hours_ahead=72.25)  # overlaps the first 30 minutes


def test_b1_the_time_right_after_a_meeting_is_free(w):
    w.book(hours_ahead=72)
    assert w.book(hours_ahead=72.5).status == "awaiting_approval"


def test_b1_an_expert_who_does_not_give_the_service_cannot_be_booked(w):
    other = ServiceFactory(organization=w.org)
    with refused(w.org, "not_an_expert_of_service", rule="B1"):
        w.book(service=other)


@pytest.mark.parametrize("length", [45, 120])
def test_b1_a_length_the_service_does_not_offer_is_refused(w, length):
    with refused(w.org, "invalid_length", rule="B1"):
        w.book(length=length)


def test_b1_a_time_in_the_past_is_refused(w):
    with refused(w.org, "in_past", rule="B1"):
        w.book(start=at(-1))


def test_b1_a_guest_of_another_organization_is_refused(w):
    stranger = GuestFactory(organization=OrganizationFactory())
    with refused(w.org, "client_required", rule="B1"):
        w.book(service=w.free_service, by=stranger)


def test_b1_a_chosen_length_is_kept(w):
    meeting = w.book(length=60)
    assert (meeting.length_minutes, meeting.end - meeting.start) == (60, at(1) - at(0))


# --- B3: an expert proposes --------------------------------------------------------


def test_b3_expert_proposes_a_meeting_and_no_credits_move(w):
    meeting = w.propose(hours_ahead=72, price=80)

    assert (meeting.status, meeting.origin, meeting.price) == ("awaiting_approval", "expert", 80)
    assert (meeting.client_approved, meeting.expert_approved) == (False, True)
    assert meeting.credit_status == "none"
    assert wallet(w.org, w.client) == (1000, 0)
    assert timeline(meeting) == [
        ("Meeting proposed by expert", "Eve Expert", ""),
        ("Approved by expert", "Eve Expert", ""),
    ]
    assert messages(meeting) == [("N3", "Cleo Client")]
    assert room_commands(meeting) == []


def test_b3_proposal_takes_the_service_price_when_none_is_given(w):
    assert w.propose().price == 100


@pytest.mark.parametrize("price", [-1, 10**7 + 1, True, 2.5])
def test_b3_a_price_that_is_not_a_whole_number_of_credits_is_refused(w, price):
    with refused(w.org, "invalid_price", rule="B3"):
        w.propose(price=price)


def test_b3_a_paid_meeting_cannot_be_proposed_to_a_guest(w):
    with refused(w.org, "sign_in_required", rule="B3"):
        w.propose(to=w.guest, price=10)


def test_b3_a_free_meeting_can_be_proposed_to_a_guest(w):
    meeting = w.propose(to=w.guest, price=0)
    assert messages(meeting) == [("N3", "Gus Guest")]


def test_b3_only_an_expert_of_the_service_proposes(w):
    with refused(w.org, "not_an_expert_of_service", rule="B3"):
        lifecycle.propose_meeting(w.admin, service=w.service, party=Party(client=w.client), start=at(72))


# --- B4: several time options ------------------------------------------------------


def offer(w, to=None, price=None, hours=(72, 96, 120)):
    """B4: the expert offers ``to`` (the client by default) times ``hours`` from now; a
    guest is offered the free service, a client the paid one."""
    to = to or w.client
    is_guest = isinstance(to, Guest)
    party = Party(guest=to) if is_guest else Party(client=to)
    service = w.free_service if is_guest else w.service
    options = [(at(h), service.lengths[0]) for h in hours]
    return lifecycle.offer_time_options(w.expert, service=service, party=party, options=options, price=price)


def test_b4_expert_offers_several_times_and_the_meeting_is_planning(w):
    meeting = offer(w)

    assert meeting.status == "planning"
    assert [o.start for o in meeting.time_options.all()] == [at(72), at(96), at(120)]
    assert meeting.start == at(72)
    assert wallet(w.org, w.client) == (1000, 0)
    assert timeline(meeting) == [("Time options offered by expert", "Eve Expert", "")]
    assert messages(meeting) == [("N3", "Cleo Client")]


def test_b4_picking_an_option_confirms_it_blocks_credits_and_agrees(w):
    meeting = offer(w)
    second = meeting.time_options.get(start=at(96))

    meeting = lifecycle.pick_time_option(w.client, meeting, second.pk)

    assert (meeting.status, meeting.credit_status) == ("agreed", "blocked")
    assert (meeting.start, meeting.end) == (at(96), at(96.5))
    assert (meeting.client_approved, meeting.expert_approved) == (True, True)
    assert [o.picked for o in meeting.time_options.all()] == [False, True, False]
    assert wallet(w.org, w.client) == (900, 100)
    assert titles(meeting)[-2:] == ["Time option picked by client", "Approved by client"]
    assert messages(meeting)[-1] == ("N4.confirmed", "Eve Expert")
    assert room_commands(meeting) == ["room.create"]
    assert_ledger_balanced(w.org)


def test_b4_a_guest_picks_a_free_option(w):
    meeting = offer(w, to=w.guest)
    meeting = lifecycle.pick_time_option(w.guest, meeting, meeting.time_options.last().pk)
    assert (meeting.status, meeting.start, meeting.credit_status) == ("agreed", at(120), "none")


def test_b4_an_option_of_another_meeting_is_refused(w):
    meeting, other = offer(w), offer(w, hours=(200,))
    with refused(w.org, "no_such_option", status=404, rule="B4"):
        lifecycle.pick_time_option(w.client, meeting, other.time_options.get().pk)


def test_b4_only_the_client_picks(w):
    meeting = offer(w)
    for someone in (w.expert, w.colleague, w.admin):
        with refused(w.org, "wrong_side", status=403, rule="B4"):
            lifecycle.pick_time_option(someone, meeting, meeting.time_options.first().pk)


def test_b4_picking_again_is_refused(w):
    meeting = offer(w)
    first, second = meeting.time_options.all()[:2]
    lifecycle.pick_time_option(w.client, meeting, first.pk)
    with refused(w.org, "wrong_state", status=409, rule="B4"):
        lifecycle.pick_time_option(w.client, meeting, second.pk)


def test_b4_picking_with_a_wallet_too_short_is_refused(w):
    poor = client(w.org, credits=50)
    meeting = offer(w, to=poor)
    with refused(w.org, "insufficient_credits", status=402, rule="B4"):
        lifecycle.pick_time_option(poor, meeting, meeting.time_options.first().pk)


def test_b4_picking_after_the_first_offered_time_has_started_is_refused(w):
    meeting = offer(w)
    with refused(w.org, "meeting_started", status=409, rule="B4"):
        lifecycle.pick_time_option(w.client, meeting, meeting.time_options.last().pk, now=at(72))


def test_b4_an_offered_time_booked_meanwhile_by_someone_else_is_refused(w):
    """An offered time does not hold the expert's slot; picking it after someone booked it
    would double-book the expert (B1)."""
    meeting = offer(w)
    w.book(by=w.guest, service=w.free_service, hours_ahead=96)
    with refused(w.org, "slot_taken", status=409, rule="B4"):
        lifecycle.pick_time_option(w.client, meeting, meeting.time_options.get(start=at(96)).pk)
    assert lifecycle.pick_time_option(w.client, meeting, meeting.time_options.get(start=at(120)).pk).status == "agreed"


def test_b4_client_rejects_the_planning_with_a_reason(w):
    """L6 for a planning meeting: the client rejects all its time options."""
    meeting = lifecycle.reject_meeting(w.client, offer(w), reason=RejectReason.NOT_AVAILABLE, note="Away that week")

    assert meeting.status == "rejected"
    assert timeline(meeting)[-1] == ("Rejected by client", "Cleo Client", "Away that week")
    assert messages(meeting)[-1] == ("N4.rejected", "Eve Expert")
    assert wallet(w.org, w.client) == (1000, 0)


def test_b4_expert_withdraws_the_planning(w):
    """L4 for a planning meeting: the expert cancels their own offer."""
    meeting = lifecycle.cancel_meeting(w.expert, offer(w))

    assert meeting.status == "cancelled"
    assert titles(meeting)[-1] == "Cancelled by expert"
    assert messages(meeting)[-1] == ("N5", "Cleo Client")


def test_b4_expert_cannot_reject_their_own_options(w):
    meeting = offer(w)
    with refused(w.org, "wrong_state", status=409):
        lifecycle.reject_meeting(w.expert, meeting, reason=RejectReason.OTHER)


@pytest.mark.parametrize("hours", [(), tuple(range(72, 83)), (72, 72)])
def test_b4_offering_no_options_too_many_or_the_same_twice_is_refused(w, hours):
    with refused(w.org, "invalid_options", rule="B4"):
        offer(w, hours=hours)


# --- B5: the guest key -------------------------------------------------------------


def test_b5_guest_key_is_short_and_free_of_look_alike_characters(w):
    key = w.book(service=w.free_service, by=w.guest).guest_key

    assert len(key) == GUEST_KEY_LENGTH == 8
    assert set(key) <= set(GUEST_KEY_ALPHABET)
    assert not set(GUEST_KEY_ALPHABET) & set("0O1IL2Z5S8B")


def test_b5_guest_keys_are_unique():
    keys = {new_guest_key() for _ in range(5000)}
    assert len(keys) == 5000


def test_b5_every_meeting_gets_its_own_key(w):
    meetings = [w.book(service=w.free_service, hours_ahead=24 + h) for h in range(10)]
    assert len({m.guest_key for m in meetings}) == 10


@pytest.mark.parametrize("typed", ["acde fghj", "ACDE-FGHJ", " a-c-d-e f-g-h-j ", "AcDeFgHj"])
def test_b5_normalize_guest_key_ignores_case_spaces_and_dashes(typed):
    assert normalize_guest_key(typed) == "ACDEFGHJ"


def test_b5_a_guest_finds_their_meeting_by_the_key_as_typed(w):
    meeting = w.book(service=w.free_service, by=w.guest)
    typed = "-".join([meeting.guest_key[:4].lower(), meeting.guest_key[4:]])
    assert access_guest_meeting(typed) == fresh(meeting)
