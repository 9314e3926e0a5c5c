"""S3: an admin decides a disputed meeting; a meeting nobody settled within the evaluation
deadline (168 h after its end) settles from the recorded attendance."""

import pytest

from parlour.meetings import outcome
from tests.meetings.checks import (
    assert_ledger_balanced,
    assert_settled,
    at,
    fresh,
    last_event,
    messages,
    refused,
    snapshot,
    timeline,
)

END = 72.5  # the meetings below run from 72 h to 72.5 h
DEADLINE = END + 168


def held_meeting(w, *, entered=("client", "expert"), failed=False):
    meeting = w.agreed(hours_ahead=72)
    for side in entered:
        outcome.record_entry(getattr(w, side), meeting, now=at(72))
    if failed:
        outcome.report_connection_failure(meeting, now=at(72.1))
    return outcome.close_meeting(meeting, now=at(END))


# --- disputes ----------------------------------------------------------------------


@pytest.fixture
def disputed(w):
    meeting = held_meeting(w)
    outcome.submit_statement(w.expert, meeting, said="held", now=at(73))
    outcome.submit_statement(w.client, meeting, said="not_held_expert", now=at(74))
    assert fresh(meeting).outcome == "disputed"
    return meeting


@pytest.mark.parametrize("result", ["held", "client_no_show", "refunded"])
def test_s3_an_admin_decides_a_dispute(w, disputed, result):
    outcome.decide_dispute(w.admin, disputed, outcome=result, note="Checked the room log.", now=at(80))

    assert_settled(w, disputed, result)
    assert timeline(disputed)[-2] == ("Meeting outcome recorded by admin", "Ada Admin", "Checked the room log.")
    assert last_event(disputed).side == "admin"
    assert messages(disputed)[-2:] == [("outcome", "Eve Expert"), ("outcome", "Cleo Client")]


@pytest.mark.parametrize("who", ["expert", "colleague", "client"])
def test_s3_only_an_admin_decides_a_dispute(w, disputed, who):
    with refused(w.org, "admins_only", status=403, rule="S3"):
        outcome.decide_dispute(getattr(w, who), disputed, outcome="held")


def test_s3_an_admin_decides_only_disputed_meetings_and_only_once(w, disputed):
    with refused(w.org, "invalid_outcome", rule="S3"):
        outcome.decide_dispute(w.admin, disputed, outcome="disputed")
    outcome.decide_dispute(w.admin, disputed, outcome="held")
    with refused(w.org, "not_disputed", status=409, rule="S3"):
        outcome.decide_dispute(w.admin, disputed, outcome="refunded")
    assert_settled(w, disputed, "held")


def test_s3_a_disputed_meeting_waits_for_the_admin_past_the_deadline(w, disputed):
    before = snapshot(w.org)
    outcome.settle_unstated(disputed, now=at(DEADLINE + 100))
    assert snapshot(w.org) == before


# --- settling from attendance ------------------------------------------------------


@pytest.mark.parametrize(
    ("entered", "failed", "result"),
    [
        (("client", "expert"), False, "held"),
        (("expert",), False, "client_no_show"),
        (("client",), False, "refunded"),
        ((), False, "refunded"),
        (("client", "expert"), True, "refunded"),
    ],
)
def test_s3_unstated_meeting_settles_from_attendance_at_the_deadline(w, entered, failed, result):
    meeting = held_meeting(w, entered=entered, failed=failed)

    outcome.settle_unstated(meeting, now=at(DEADLINE))

    assert_settled(w, meeting, result)
    assert timeline(meeting)[-1][1:] == ("Parlour", "")
    assert last_event(meeting).side == "system"


def test_s3_settling_before_the_deadline_does_nothing(w, frozen_clock):
    meeting = held_meeting(w)
    frozen_clock.move_to(at(DEADLINE - 0.01), tick=False)
    before = snapshot(w.org)

    outcome.settle_unstated(meeting)

    assert snapshot(w.org) == before
    assert fresh(meeting).outcome == ""


def test_s3_settling_twice_or_after_a_statement_settled_does_nothing(w):
    meeting = held_meeting(w)
    outcome.settle_unstated(meeting, now=at(DEADLINE))
    before = snapshot(w.org)
    outcome.settle_unstated(meeting, now=at(DEADLINE + 1))
    assert snapshot(w.org) == before

    stated = held_meeting(w, entered=())
    outcome.submit_statement(w.client, stated, said="held", now=at(73))
    before = snapshot(w.org)
    outcome.settle_unstated(stated, now=at(DEADLINE))
    assert snapshot(w.org) == before


def test_s3_a_statement_that_decided_nothing_leaves_the_deadline_to_attendance(w):
    meeting = held_meeting(w, entered=("expert",))
    outcome.submit_statement(w.expert, meeting, said="held", now=at(73))

    outcome.settle_unstated(meeting, now=at(DEADLINE))

    assert fresh(meeting).outcome == "client_no_show"


def test_s3_a_free_meeting_settles_without_moving_credits(w):
    meeting = w.book(service=w.free_service, by=w.guest, hours_ahead=72)
    outcome.close_meeting(meeting, now=at(END))

    meeting = outcome.settle_unstated(meeting, now=at(DEADLINE))

    assert (meeting.outcome, meeting.credit_status) == ("refunded", "none")
    assert_ledger_balanced(w.org)
