"""Q3: a transition is one transaction. When it fails midway — after the status changed,
credits moved or the timeline was written — the meeting, ledger, timeline and outbox are
exactly as before; and a retry after the failure goes through once."""

import pytest

from parlour.credits import ledger
from parlour.meetings import lifecycle, outcome
from parlour.meetings.lifecycle import answering, making, rescheduling
from parlour.meetings.models import Meeting
from tests.meetings.checks import at, fresh, messages, snapshot, titles, wallet


class Broken(Exception):
    """The failure forced into a transition."""


def fail(*args, **kwargs):
    raise Broken


def fail_on_call(number: int, real):
    """A stand-in for ``real`` that fails on its ``number``-th call."""
    calls = []

    def stand_in(*args, **kwargs):
        calls.append(args)
        if len(calls) == number:
            raise Broken
        return real(*args, **kwargs)

    return stand_in


def test_q3_a_confirmation_failing_at_the_room_command_changes_nothing(w, monkeypatch):
    """L5: credits blocked, status agreed, event written, expert notified — then the room fails."""
    meeting = w.propose()
    before = snapshot(w.org)
    monkeypatch.setattr(answering, "command_room", fail)

    with pytest.raises(Broken):
        lifecycle.confirm_meeting(w.client, meeting)

    assert snapshot(w.org) == before
    assert fresh(meeting).status == "awaiting_approval"
    assert wallet(w.org, w.client) == (1000, 0)

    monkeypatch.undo()
    assert lifecycle.confirm_meeting(w.client, meeting).status == "agreed"
    assert wallet(w.org, w.client) == (900, 100)
    assert titles(meeting).count("Approved by client") == 1


def test_q3_a_late_cancellation_failing_at_the_notification_changes_nothing(w, monkeypatch):
    """L8: the charge is settled and both events written before the expert is notified."""
    meeting = w.agreed(hours_ahead=10)
    before = snapshot(w.org)
    monkeypatch.setattr(answering, "notify", fail)

    with pytest.raises(Broken):
        lifecycle.cancel_meeting(w.client, meeting, note="ill", confirm_late=True)

    assert snapshot(w.org) == before
    assert (wallet(w.org, w.client), wallet(w.org, w.expert)) == ((900, 100), (0, 0))


def test_q3_a_settlement_failing_between_two_ledger_movements_changes_nothing(w, monkeypatch):
    """S3: the deduction from escrow went through, the payment to the expert fails."""
    meeting = w.agreed(hours_ahead=10)
    before = snapshot(w.org)
    monkeypatch.setattr(ledger, "_move", fail_on_call(2, ledger._move))

    with pytest.raises(Broken):
        outcome.submit_statement(w.client, meeting, said="held", now=at(11))

    assert snapshot(w.org) == before
    assert fresh(meeting).outcome == ""


def test_q3_a_booking_failing_at_the_notification_leaves_no_meeting(w, monkeypatch):
    """B2: the meeting row, its escrow and its events exist only if the whole booking does."""
    before = snapshot(w.org)
    monkeypatch.setattr(making, "notify", fail)

    with pytest.raises(Broken):
        w.book()

    assert snapshot(w.org) == before
    assert not Meeting.objects.filter(organization=w.org).exists()


def test_q3_an_alternative_confirmation_failing_at_the_room_changes_nothing(w, monkeypatch):
    """L12 on a rejected meeting: date replaced, credits blocked, agreed — then the room fails."""
    meeting = lifecycle.reject_meeting(w.expert, w.book(hours_ahead=72), reason="not_available")
    meeting = lifecycle.propose_alternative(w.expert, meeting, start=at(96))
    before = snapshot(w.org)
    monkeypatch.setattr(rescheduling, "command_room", fail)

    with pytest.raises(Broken):
        lifecycle.confirm_alternative(w.client, meeting)

    assert snapshot(w.org) == before
    assert fresh(meeting).pending_alternative is not None


def test_q3_a_lapse_failing_at_the_notification_changes_nothing(w, monkeypatch):
    meeting = w.book(hours_ahead=5)
    before = snapshot(w.org)
    monkeypatch.setattr(answering, "notify", fail_on_call(2, answering.notify))  # the client's

    with pytest.raises(Broken):
        lifecycle.lapse_meeting(meeting, now=at(5))

    assert snapshot(w.org) == before
    monkeypatch.undo()
    lifecycle.lapse_meeting(meeting, now=at(5))
    assert messages(meeting)[-2:] == [("lapsed", "Eve Expert"), ("lapsed", "Cleo Client")]


def test_q3_a_review_bonus_failing_changes_nothing(w, monkeypatch):
    w.org.reviews_enabled = True
    w.org.save()
    meeting = w.agreed(hours_ahead=10)
    before = snapshot(w.org)
    monkeypatch.setattr(outcome, "notify", fail)

    with pytest.raises(Broken):
        outcome.submit_statement(w.client, meeting, said="held", review="Great", now=at(11))

    assert snapshot(w.org) == before
