"""What comes due with time, done by ``run_due_work`` as the worker runs it every minute: a
request lapses (L18), a meeting closes (V5) and settles (S3), reminders are queued (N7, N8,
N9), on each organization's timing (O5). The clock is moved, never waited for."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from parlour.accounts.models import Guest, OrganizationSettings, User
from parlour.core import clock
from parlour.meetings import lifecycle, outcome
from parlour.meetings.due import CATCH_UP, run_due_work
from parlour.meetings.lifecycle import Party
from parlour.meetings.models import AlternativeState, Meeting, Outcome, Side, Status
from parlour.meetings.reasons import RejectReason
from parlour.notifications.models import OutboxItem
from tests.factories import World, world
from tests.meetings.checks import (
    assert_ledger_balanced,
    assert_settled,
    at,
    fresh,
    messages,
    snapshot,
    titles,
    wallet,
)

START = 72.0  # the meetings below run from 72 h to 72.5 h after NOW
END = 72.5
NOTHING = dict.fromkeys(("L18", "V5", "S3", "N7", "N8", "N9", "failed"), 0)


def did(**kinds: int) -> dict[str, int]:
    """What a run reports: ``kinds``, and nothing else."""
    return {**NOTHING, **kinds}


@pytest.fixture
def run(frozen_clock):
    """Move the clock to ``when`` and run the worker's job there, as the worker would."""

    def run_at(when: datetime) -> dict[str, int]:
        frozen_clock.move_to(when, tick=False)
        return run_due_work(clock.now())

    return run_at


def reminders(meeting: Meeting) -> list[tuple[str, str]]:
    """N7–N9 queued for the meeting, oldest first: (topic, recipient's name)."""
    return [(topic, name) for topic, name in messages(meeting) if topic in ("N7", "N8", "N9")]


def key(person: User | Guest, start: datetime) -> str:
    kind = "guest" if isinstance(person, Guest) else "user"
    return f"{kind}:{person.pk}@{start.astimezone(UTC).isoformat()}"


def enter(w: World, meeting: Meeting, *sides: str) -> None:
    for side in sides:
        outcome.record_entry(getattr(w, side), meeting, now=meeting.start)


# --- a meeting's whole life ------------------------------------------------------------


def test_n7_n8_v5_n9_s3_an_agreed_meetings_life_moved_through_the_clock(w, run):
    meeting = w.agreed(hours_ahead=START)
    assert run(at(0)) == did()

    # N7: 24 h before the start, to both sides, once.
    assert run(at(START - 24) - timedelta(seconds=1)) == did()
    assert run(at(START - 24)) == did(N7=2)
    assert run(at(START - 24)) == did()
    assert run(at(START - 3)) == did()
    assert reminders(meeting) == [("N7", "Cleo Client"), ("N7", "Eve Expert")]
    start = "2026-03-05T09:00:00+00:00"
    rows = OutboxItem.objects.filter(meeting=meeting, topic="N7").order_by("id")
    assert [(row.key, row.payload, row.due_at, row.state) for row in rows] == [
        (f"user:{w.client.pk}@{start}", {"start": start}, at(START - 24), "pending"),
        (f"user:{w.expert.pk}@{start}", {"start": start}, at(START - 24), "pending"),
    ]

    # N8: 60 min before the start, to both sides, once.
    assert run(at(START - 1) - timedelta(seconds=1)) == did()
    assert run(at(START - 1)) == did(N8=2)
    assert run(at(START - 0.5)) == did()
    assert reminders(meeting)[2:] == [("N8", "Cleo Client"), ("N8", "Eve Expert")]

    # V5: both entered; closed as completed when the end has passed.
    enter(w, meeting, "client", "expert")
    assert run(at(START + 0.25)) == did()
    assert run(at(END)) == did(V5=1)
    assert run(at(END)) == did()
    assert fresh(meeting).status == "completed"
    assert titles(meeting)[-1] == "Meeting ended: Completed"

    # N9: 24 h after the end, to the client only, once.
    assert run(at(END + 24) - timedelta(seconds=1)) == did()
    assert run(at(END + 24)) == did(N9=1)
    assert run(at(END + 100)) == did()
    assert reminders(meeting)[4:] == [("N9", "Cleo Client")]
    n9 = OutboxItem.objects.get(meeting=meeting, topic="N9")
    assert (n9.key, n9.payload) == (
        f"user:{w.client.pk}@{start}",
        {"start": start, "deadline": "2026-03-12T09:30:00+00:00"},
    )

    # S3: nobody stated within 168 h of the end: settled from the attendance.
    assert run(at(END + 168) - timedelta(seconds=1)) == did()
    assert run(at(END + 168)) == did(S3=1)
    assert_settled(w, meeting, "held")
    assert titles(meeting)[-1] == "Settled: Held"
    assert messages(meeting)[-2:] == [("outcome", "Eve Expert"), ("outcome", "Cleo Client")]
    before = snapshot(w.org)
    assert run(at(END + 168)) == did()
    assert run(at(END + 1000)) == did()
    assert snapshot(w.org) == before


@pytest.mark.parametrize(
    ("entered", "connection_failed", "status", "result"),
    [
        (("client", "expert"), False, "completed", "held"),
        (("expert",), False, "missed", "client_no_show"),
        (("client",), False, "missed", "refunded"),
        ((), False, "missed", "refunded"),
        (("client", "expert"), True, "failed", "refunded"),
    ],
)
def test_v5_s3_closed_by_attendance_and_settled_from_it_when_nobody_states(
    w, run, entered, connection_failed, status, result
):
    meeting = w.agreed(hours_ahead=START)
    enter(w, meeting, *entered)
    if connection_failed:
        outcome.report_connection_failure(meeting, now=at(START + 0.1))

    assert run(at(END)) == did(V5=1)
    assert fresh(meeting).status == status
    assert_settled(w, meeting, "")
    assert run(at(END + 168)) == did(S3=1)
    assert fresh(meeting).status == status
    assert_settled(w, meeting, result)


def test_v5_s3_a_worker_stopped_past_the_deadline_closes_and_settles_in_one_run_without_stale_reminders(w, run):
    """N7, N8 are written only while the start is ahead, N9 only until the deadline."""
    meeting = w.agreed(hours_ahead=START)
    enter(w, meeting, "expert")

    assert run(at(END + 200)) == did(V5=1, S3=1)

    assert fresh(meeting).status == "missed"
    assert_settled(w, meeting, "client_no_show")
    assert reminders(meeting) == []


def test_n7_n8_a_worker_stopped_over_the_reminder_times_does_not_send_them_after_the_start(w, run):
    meeting = w.agreed(hours_ahead=START)

    assert run(at(START)) == did()
    assert run(at(START) + timedelta(minutes=1)) == did()

    assert reminders(meeting) == []


def test_s3_looks_back_a_week_past_the_deadline_and_further_when_asked(w, run):
    """A worker stopped for longer than ``CATCH_UP`` past a meeting's deadline leaves it
    for a run with a longer ``catch_up``: the bound keeps S3 off the settled history."""
    meeting = w.agreed(hours_ahead=START)
    enter(w, meeting, "client", "expert")
    later = at(END + 168) + CATCH_UP + timedelta(minutes=1)

    assert run(later) == did(V5=1)
    assert fresh(meeting).outcome == Outcome.UNDECIDED

    assert run_due_work(later, catch_up=timedelta(days=30)) == did(S3=1)
    assert_settled(w, meeting, "held")


# --- N9: only while the client has not stated and nothing is decided --------------------


@pytest.mark.parametrize(
    ("side", "said", "asked"),
    [
        ("client", "held", False),  # settled by the client's word (S3)
        ("client", "not_held_expert", False),  # undecided, but the client has spoken
        ("expert", "held", True),  # the expert's word alone decides nothing: ask the client
        ("expert", "not_held_expert", False),  # refunded by the expert's word (S3)
    ],
)
def test_n9_asks_only_a_client_who_has_not_stated_about_an_undecided_meeting(w, run, side, said, asked):
    meeting = w.agreed(hours_ahead=START)
    enter(w, meeting, "client", "expert")
    assert run(at(END)) == did(V5=1)
    outcome.submit_statement(getattr(w, side), meeting, said=said, now=at(END + 1))

    assert run(at(END + 24)) == did(N9=int(asked))
    assert reminders(meeting) == ([("N9", "Cleo Client")] if asked else [])


def test_n7_n8_n9_reach_a_guest_by_the_guest_row(w, run):
    meeting = w.agreed(service=w.free_service, by=w.guest, hours_ahead=START, length=30)

    assert run(at(START - 24)) == did(N7=2)
    assert run(at(START - 1)) == did(N8=2)
    assert run(at(END)) == did(V5=1)
    assert run(at(END + 24)) == did(N9=1)

    assert reminders(meeting) == [
        ("N7", "Gus Guest"),
        ("N7", "Eve Expert"),
        ("N8", "Gus Guest"),
        ("N8", "Eve Expert"),
        ("N9", "Gus Guest"),
    ]
    for row in OutboxItem.objects.filter(meeting=meeting, recipient_guest=w.guest, topic__in=["N7", "N8", "N9"]):
        assert (row.key, row.recipient_id) == (key(w.guest, meeting.start), None)


def test_n7_n8_nothing_for_a_meeting_that_is_not_agreed(w, run):
    cancelled = w.agreed(hours_ahead=START)
    lifecycle.cancel_meeting(w.client, cancelled, reason="Something came up.", now=at(1))
    rejected = lifecycle.reject_meeting(w.expert, w.book(hours_ahead=START + 2), reason=RejectReason.NOT_AVAILABLE)

    assert run(at(START - 1)) == did()
    assert reminders(cancelled) == reminders(rejected) == []


# --- L18: lapsing ------------------------------------------------------------------------


def test_l18_an_unanswered_request_lapses_at_its_start_and_its_credits_return(w, run):
    meeting = w.book(hours_ahead=5)
    assert wallet(w.org, w.client) == (900, 100)

    assert run(at(5) - timedelta(seconds=1)) == did()
    assert run(at(5)) == did(L18=1)

    meeting = fresh(meeting)
    assert (meeting.status, meeting.credit_status) == ("cancelled", "returned")
    assert wallet(w.org, w.client) == (1000, 0)
    assert titles(meeting)[-1] == "Lapsed without answer"
    assert messages(meeting)[-2:] == [("lapsed", "Eve Expert"), ("lapsed", "Cleo Client")]
    assert reminders(meeting) == []
    assert run(at(6)) == did()
    assert_ledger_balanced(w.org)


def test_l18_an_unanswered_proposal_and_unpicked_time_options_lapse(w, run):
    proposal = w.propose(hours_ahead=5)
    options = [(at(6), 30), (at(30), 30)]
    planning = lifecycle.offer_time_options(w.expert, service=w.service, party=Party(client=w.client), options=options)

    assert run(at(5)) == did(L18=1)
    assert run(at(6)) == did(L18=1)

    assert fresh(proposal).status == fresh(planning).status == "cancelled"
    assert titles(planning)[-1] == "Lapsed without answer"


def test_l18_a_rejected_meetings_unanswered_alternative_lapses_and_its_credits_return(w, run):
    meeting = lifecycle.reject_meeting(w.expert, w.book(hours_ahead=24), reason=RejectReason.NOT_AVAILABLE)
    lifecycle.propose_alternative(w.client, meeting, start=at(48))
    assert wallet(w.org, w.client) == (900, 100)

    assert run(at(30)) == did()  # its own date has passed; the alternative can still be answered
    assert run(at(48)) == did(L18=1)

    meeting = fresh(meeting)
    assert (meeting.status, meeting.credit_status) == ("rejected", "returned")
    assert meeting.alternatives.get().state == AlternativeState.WITHDRAWN
    assert wallet(w.org, w.client) == (1000, 0)
    assert titles(meeting)[-1] == "Lapsed without answer"
    assert run(at(49)) == did()
    assert_ledger_balanced(w.org)


# --- a meeting moved after its reminder ----------------------------------------------------


def change_directly(w, meeting, start):
    """L16: a service without confirmation: moved straight away."""
    return lifecycle.change_meeting_time(w.client, meeting, start=start)


def through_an_alternative(w, meeting, start):
    """L10, L12: proposed by the client, confirmed by the expert."""
    lifecycle.propose_alternative(w.client, meeting, start=start)
    return lifecycle.confirm_alternative(w.expert, meeting)


@pytest.mark.parametrize(("move", "service"), [(change_directly, "free_service"), (through_an_alternative, "service")])
def test_n7_n8_a_meeting_moved_after_its_reminder_is_reminded_of_its_new_start(w, run, move, service):
    """L16, L12: the old reminder stays in the outbox (delivery drops it, no longer true)."""
    meeting = w.agreed(service=getattr(w, service), hours_ahead=START, length=30)
    assert run(at(START - 24)) == did(N7=2)

    move(w, meeting, at(START + 24))

    assert run(at(START - 1)) == did()  # the old date's link time: nothing
    assert run(at(START)) == did(N7=2)
    assert run(at(START + 23)) == did(N8=2)
    keys = list(OutboxItem.objects.filter(meeting=meeting, topic="N7").order_by("id").values_list("key", flat=True))
    assert keys == [
        key(w.client, at(START)),
        key(w.expert, at(START)),
        key(w.client, at(START + 24)),
        key(w.expert, at(START + 24)),
    ]
    assert OutboxItem.objects.get(meeting=meeting, topic="N7", key=keys[2]).payload == {
        "start": at(START + 24).isoformat()
    }


def test_n7_a_reassigned_meeting_reminds_its_new_expert(w, run):
    """L15: the key names the recipient, so the new expert gets their own reminder."""
    meeting = w.agreed(hours_ahead=START)
    assert run(at(START - 24)) == did(N7=2)

    lifecycle.reassign_meeting(w.expert, meeting, expert=w.colleague)

    assert run(at(START - 23)) == did(N7=1)
    assert reminders(meeting)[-1] == ("N7", "Carl Colleague")


# --- O5: each organization's timing --------------------------------------------------------


def configure(organization, **values) -> None:
    settings = organization.settings
    for name, value in values.items():
        setattr(settings, name, value)
    settings.save()


def test_o5_each_organizations_settings_set_the_timing_of_its_own_meetings(w, run):
    other = world()
    configure(
        other.org,
        reminder_hours_before=2,
        link_minutes_before=10,
        evaluation_reminder_hours_after=1,
        evaluation_deadline_hours=48,
    )
    ours = w.agreed(hours_ahead=START)
    theirs = other.agreed(hours_ahead=START)
    # An organization without a settings row has the defaults.
    OrganizationSettings.objects.filter(organization=w.org).delete()

    assert run(at(START - 24)) == did(N7=2)
    assert run(at(START - 2)) == did(N7=2)
    assert run(at(START - 1)) == did(N8=2)
    assert run(at(START) - timedelta(minutes=10)) == did(N8=2)
    assert [topic for topic, _ in reminders(ours)] == ["N7", "N7", "N8", "N8"]
    assert [topic for topic, _ in reminders(theirs)] == ["N7", "N7", "N8", "N8"]
    enter(w, ours, "client", "expert")
    enter(other, theirs, "client", "expert")

    assert run(at(END)) == did(V5=2)
    assert run(at(END + 1)) == did(N9=1)
    assert reminders(theirs)[-1] == ("N9", "Cleo Client")
    assert run(at(END + 24)) == did(N9=1)
    assert reminders(ours)[-1] == ("N9", "Cleo Client")
    assert run(at(END + 48)) == did(S3=1)
    assert_settled(other, theirs, "held")
    assert fresh(ours).outcome == Outcome.UNDECIDED
    assert run(at(END + 168)) == did(S3=1)
    assert_settled(w, ours, "held")


def test_o5_a_changed_setting_holds_from_the_next_run(w, run):
    meeting = w.agreed(hours_ahead=START)
    assert run(at(START - 30)) == did()

    configure(w.org, reminder_hours_before=30, link_minutes_before=120)

    assert run(at(START - 30)) == did(N7=2)
    assert run(at(START - 2)) == did(N8=2)
    assert reminders(meeting) == [
        ("N7", "Cleo Client"),
        ("N7", "Eve Expert"),
        ("N8", "Cleo Client"),
        ("N8", "Eve Expert"),
    ]


# --- each meeting on its own; twice changes nothing; the cost ------------------------------


def make_due(w: World, frozen_clock, base: float) -> float:
    """From ``base`` hours after NOW, make one meeting due for each kind at the instant
    returned (in hours after NOW), if nothing runs in between: L18 for a request, V5 for
    three meetings, S3 for one of them, N7 for two, N8 for one of those, N9 for one."""
    due = base + 200
    frozen_clock.move_to(at(base), tick=False)
    w.book(hours_ahead=due - base)  # L18
    w.agreed(hours_ahead=due - base + 20)  # N7
    w.agreed(hours_ahead=due - base + 0.5)  # N7, N8
    w.agreed(hours_ahead=due - base - 0.5)  # V5 (ends at the due instant)
    w.agreed(hours_ahead=1)  # V5, S3 (ended 198.5 h before)
    w.agreed(hours_ahead=due - base - 30)  # V5, N9 (ended 29.5 h before)
    return due


EVERY_KIND = did(L18=1, V5=3, S3=1, N7=4, N8=2, N9=1)


def test_l18_v5_s3_n7_n8_n9_running_twice_changes_nothing_the_second_time(w, run, frozen_clock):
    due = make_due(w, frozen_clock, 0)
    assert run(at(due)) == EVERY_KIND
    assert_ledger_balanced(w.org)
    before = snapshot(w.org)

    assert run(at(due)) == did()
    assert run(at(due + 0.01)) == did()

    assert snapshot(w.org) == before


def test_v5_a_meeting_that_fails_is_logged_and_the_others_still_go_through(w, run, monkeypatch, caplog):
    first = w.agreed(hours_ahead=5)
    second = w.agreed(hours_ahead=6)
    close = outcome.close_meeting

    def failing_for_first(meeting, *, now=None):
        if meeting.pk == first.pk:
            raise RuntimeError("database hiccup")
        return close(meeting, now=now)

    monkeypatch.setattr(outcome, "close_meeting", failing_for_first)
    assert run(at(7)) == did(V5=1, failed=1)

    assert (fresh(first).status, fresh(second).status) == ("agreed", "missed")
    assert f"V5: meeting {first.pk} failed" in caplog.text
    assert "RuntimeError: database hiccup" in caplog.text
    monkeypatch.undo()
    assert run(at(7) + timedelta(minutes=1)) == did(V5=1)
    assert fresh(first).status == "missed"


def not_due_meetings(w: World, around: datetime, count: int) -> None:
    """``count`` meetings that are due for nothing at ``around``: agreed and awaiting
    meetings days ahead, and settled, disputed, cancelled and rejected ones of the past."""
    kinds = [
        (Status.AGREED, Outcome.UNDECIDED, 50),
        (Status.AWAITING_APPROVAL, Outcome.UNDECIDED, 60),
        (Status.COMPLETED, Outcome.HELD, -30),
        (Status.MISSED, Outcome.DISPUTED, -100),
        (Status.COMPLETED, Outcome.HELD, -24 * 60),
        (Status.CANCELLED, Outcome.UNDECIDED, -3),
        (Status.REJECTED, Outcome.UNDECIDED, -5),
    ]
    meetings = []
    for i in range(count):
        status, result, hours = kinds[i % len(kinds)]
        meeting = Meeting(
            organization=w.org,
            service=w.service,
            expert=w.colleague,
            guest=w.guest,
            origin=Side.CLIENT,
            price=0,
            status=status,
            outcome=result,
        )
        meeting.set_time(around + timedelta(hours=hours, minutes=i), 30)
        meetings.append(meeting)
    Meeting.objects.bulk_create(meetings)


def test_l18_v5_s3_n7_n8_n9_queries_do_not_grow_with_meetings_that_are_not_due(w, run, frozen_clock):
    due = make_due(w, frozen_clock, 0)
    frozen_clock.move_to(at(due), tick=False)
    with CaptureQueriesContext(connection) as few:
        assert run_due_work(at(due)) == EVERY_KIND
    with CaptureQueriesContext(connection) as idle:
        assert run_due_work(at(due + 0.1)) == did()
    run_due_work(at(due + 200))  # what is left of the first set closes and settles

    again = make_due(w, frozen_clock, due + 201)
    not_due_meetings(w, at(again), 200)
    frozen_clock.move_to(at(again), tick=False)
    with CaptureQueriesContext(connection) as many:
        assert run_due_work(at(again)) == EVERY_KIND
    with CaptureQueriesContext(connection) as idle_many:
        assert run_due_work(at(again + 0.1)) == did()

    assert len(many) == len(few)
    assert len(idle_many) == len(idle)


def test_o5_queries_grow_with_the_combinations_of_settings_not_the_organizations(w):
    """One query per combination of settings in use and kind: ten organizations sharing
    one changed setting cost what one does."""
    configure(world().org, reminder_hours_before=2)
    with CaptureQueriesContext(connection) as one:
        run_due_work(at(1))
    for _ in range(9):
        configure(world().org, reminder_hours_before=2)
    with CaptureQueriesContext(connection) as ten:
        run_due_work(at(1))
    assert len(ten) == len(one)


def test_run_due_work_needs_an_aware_instant():
    with pytest.raises(ValueError, match="aware"):
        run_due_work(datetime(2026, 3, 2, 9, 0))


# --- two workers at once ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_l18_v5_n7_n8_workers_at_once_do_each_thing_once(w):
    """Q3: three workers scanning at the same moment, each on its own connection, with
    enough reminders due for their writes to interleave."""
    request = w.book(hours_ahead=5)
    ending = w.agreed(hours_ahead=4.5)
    upcoming = [w.agreed(service=w.free_service, hours_ahead=5.5 + i / 2, length=30) for i in range(20)]
    results: list = [None] * 3
    barrier = threading.Barrier(len(results))

    def worker(index: int) -> None:
        try:
            barrier.wait()
            results[index] = run_due_work(at(5))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(results))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert not any(thread.is_alive() for thread in threads)
    assert [result["failed"] for result in results] == [0] * len(results)
    assert sum(result["N7"] for result in results) == 40
    assert sum(result["N8"] for result in results) == 4  # the two starting within the hour
    both = [("N7", "Cleo Client"), ("N7", "Eve Expert")]
    links = [("N8", "Cleo Client"), ("N8", "Eve Expert")]
    assert [reminders(meeting) for meeting in upcoming] == [both + links] * 2 + [both] * 18
    assert titles(request).count("Lapsed without answer") == 1
    assert messages(request).count(("lapsed", "Cleo Client")) == 1
    assert fresh(request).status == "cancelled"
    assert titles(ending).count("Meeting ended: Missed") == 1
    assert wallet(w.org, w.client) == (900, 100)
    assert_ledger_balanced(w.org)
