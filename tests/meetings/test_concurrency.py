"""Q3: two actions on one meeting at the same moment, each from its own thread with its own
database connection, end in a state that one of them alone would have produced — never a
mixture — and the ledger still sums to zero. B1: two people racing for one slot get one
meeting."""

import threading

import pytest
from django.db import connection

from parlour.core.errors import DomainError
from parlour.credits.models import Transfer
from parlour.meetings import lifecycle
from parlour.meetings.models import Meeting
from parlour.meetings.reasons import ExpertCancelReason, RejectReason
from parlour.notifications.models import OutboxItem
from tests.factories import client
from tests.meetings.checks import assert_ledger_balanced, at, fresh, room_commands, titles, wallet

pytestmark = pytest.mark.django_db(transaction=True)


def race(*actions) -> list:
    """Run the actions at once, one thread each; return what each returned or raised."""
    results: list = [None] * len(actions)
    start = threading.Barrier(len(actions))

    def run(index, action):
        try:
            start.wait()
            results[index] = action()
        except DomainError as error:
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, action)) for i, action in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)
    return results


def refusals(results) -> list[str]:
    return sorted(r.code for r in results if isinstance(r, DomainError))


def test_q3_two_confirmations_at_once_confirm_once(w):
    meeting = w.book()

    results = race(*[lambda: lifecycle.confirm_meeting(w.expert, meeting)] * 2)

    assert refusals(results) == ["wrong_state"]
    meeting = fresh(meeting)
    assert (meeting.status, meeting.credit_status) == ("agreed", "blocked")
    assert titles(meeting).count("Approved by expert") == 1
    assert room_commands(meeting) == ["room.create"]
    assert OutboxItem.objects.filter(meeting=meeting, topic="N4.confirmed").count() == 1
    assert wallet(w.org, w.client) == (900, 100)
    assert_ledger_balanced(w.org)


def test_q3_confirm_and_reject_at_once_end_as_one_of_them(w):
    meeting = w.book()

    results = race(
        lambda: lifecycle.confirm_meeting(w.expert, meeting),
        lambda: lifecycle.reject_meeting(w.expert, meeting, reason=RejectReason.NOT_AVAILABLE),
    )

    assert refusals(results) == ["wrong_state"]
    meeting = fresh(meeting)
    if meeting.status == "agreed":
        assert (meeting.credit_status, wallet(w.org, w.client)) == ("blocked", (900, 100))
        assert "Rejected by expert" not in titles(meeting)
    else:
        assert (meeting.status, meeting.credit_status) == ("rejected", "returned")
        assert wallet(w.org, w.client) == (1000, 0)
        assert room_commands(meeting) == []
    assert_ledger_balanced(w.org)


def test_q3_client_and_expert_cancelling_at_once_settle_once(w):
    """L8 against L9: either the client pays the late charge or everything returns."""
    meeting = w.agreed(hours_ahead=10)

    results = race(
        lambda: lifecycle.cancel_meeting(w.client, meeting, note="ill", confirm_late=True),
        lambda: lifecycle.cancel_meeting(w.expert, meeting, reason=ExpertCancelReason.ILLNESS, confirm_late=True),
    )

    assert refusals(results) == ["wrong_state"]
    meeting = fresh(meeting)
    assert meeting.status == "cancelled"
    if meeting.credit_status == "reimbursed_cancellation":
        assert (wallet(w.org, w.client), wallet(w.org, w.expert)) == ((950, 0), (40, 0))
        assert titles(meeting)[-2:] == ["Cancelled by client", "Reimbursed to expert"]
    else:
        assert meeting.credit_status == "returned"
        assert (wallet(w.org, w.client), wallet(w.org, w.expert)) == ((1000, 0), (0, 0))
        assert titles(meeting)[-1] == "Cancelled by expert"
    assert room_commands(meeting) == ["room.create", "room.cancel"]
    assert_ledger_balanced(w.org)


def test_q3_two_cancellations_at_once_return_the_credits_once(w):
    meeting = w.agreed(hours_ahead=72)

    results = race(*[lambda: lifecycle.cancel_meeting(w.client, meeting, note="Not needed")] * 2)

    assert refusals(results) == ["wrong_state"]
    assert Transfer.objects.filter(meeting=meeting, kind="return").count() == 1
    assert wallet(w.org, w.client) == (1000, 0)
    assert_ledger_balanced(w.org)


def test_q3_a_confirmation_racing_a_lapse_ends_as_one_of_them(w):
    meeting = w.book(hours_ahead=5)

    results = race(
        lambda: lifecycle.confirm_meeting(w.expert, meeting, now=at(4.99)),
        lambda: lifecycle.lapse_meeting(meeting, now=at(5)),
    )

    meeting = fresh(meeting)
    if meeting.status == "agreed":  # confirmed first; the lapse found nothing to do
        assert (meeting.credit_status, wallet(w.org, w.client)) == ("blocked", (900, 100))
    else:
        assert refusals(results) == ["wrong_state"]
        assert (meeting.status, meeting.credit_status) == ("cancelled", "returned")
        assert wallet(w.org, w.client) == (1000, 0)
    assert_ledger_balanced(w.org)


def test_b1_two_clients_racing_for_one_slot_get_one_meeting(w):
    rival = client(w.org, credits=500, name="Rita Rival")
    start = at(72)

    results = race(lambda: w.book(start=start), lambda: w.book(start=start, by=rival))

    assert refusals(results) == ["slot_taken"]
    assert Meeting.objects.filter(expert=w.expert, start=start).count() == 1
    assert sum(wallet(w.org, person)[1] for person in (w.client, rival)) == 100
    assert_ledger_balanced(w.org)


def test_b1_a_guest_booking_twice_at_once_stays_within_the_limit(w):
    """O5: at most 2 upcoming self-booked meetings with one expert, also when racing."""
    w.book(service=w.free_service, by=w.guest, hours_ahead=24)

    results = race(
        lambda: w.book(service=w.free_service, by=w.guest, hours_ahead=48),
        lambda: w.book(service=w.free_service, by=w.guest, hours_ahead=72),
    )

    assert refusals(results) == ["too_many_upcoming"]
    assert Meeting.objects.filter(guest=w.guest, expert=w.expert).count() == 2
