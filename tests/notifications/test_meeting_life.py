"""One meeting's whole life through a real SMTP server on loopback, with the clock moved by
time-machine (SPEC §9, K2): booked, confirmed, rescheduled, reminded, held and settled
produce exactly the right messages, to the right people, at the right times — with
invitations a calendar program would add and move — and nothing else."""

from datetime import timedelta

import icalendar
import pytest

from parlour import tasks
from parlour.meetings import lifecycle, outcome
from parlour.meetings.models import Said
from tests.factories import world
from tests.meetings.checks import NOW

from .smtp import mail_server


@pytest.fixture
def smtp():
    with mail_server() as server:
        yield server


def invitation(received) -> tuple[str, str, int, str] | None:
    """(METHOD, UID, SEQUENCE, DTSTART) of a mail's calendar attachment, if it has one."""
    for part in received.message.iter_attachments():
        if part.get_content_type() == "text/calendar":
            calendar = icalendar.Calendar.from_ical(part.get_payload(decode=True))
            event = next(iter(calendar.walk("VEVENT")))
            return str(calendar["METHOD"]), str(event["UID"]), int(event["SEQUENCE"]), event["DTSTART"].dt.isoformat()
    return None


class Mailbox:
    """What arrived since the last look, as (recipient, subject, invitation)."""

    def __init__(self, smtp):
        self.smtp, self.seen = smtp, 0

    def new(self):
        tasks.every_minute.call_local()  # the worker's minute: due work, then delivery
        fresh = self.smtp.received[self.seen :]
        self.seen = len(self.smtp.received)
        return sorted((r.recipients[0], str(r.message["Subject"]), invitation(r)) for r in fresh)


@pytest.mark.django_db
def test_n1_n4_n6_n7_n8_k2_a_meetings_life_sends_exactly_the_right_mails(smtp, time_machine):
    time_machine.move_to(NOW, tick=False)
    w = world()
    client, expert = w.client.email, w.expert.email
    box = Mailbox(smtp)

    # B2 with confirmation: the expert is asked (N1), nobody gets an invitation yet.
    meeting = w.book(hours_ahead=72)
    [(to, subject, ics)] = box.new()
    assert (to, ics) == (expert, None)

    # L2: the client hears it is confirmed, with the invitation (K2: REQUEST, SEQUENCE 1).
    meeting = lifecycle.confirm_meeting(w.expert, meeting)
    [(to, subject, ics)] = box.new()
    assert to == client and ics[0] == "REQUEST"
    uid, first_sequence = ics[1], ics[2]
    assert ics[3] == meeting.start.isoformat()

    # L10: the expert proposes another date: the client is told (N6); the date is not yet moved.
    new_start = meeting.start + timedelta(days=1)
    meeting = lifecycle.propose_alternative(w.expert, meeting, start=new_start)
    [(to, subject, ics)] = box.new()
    assert to == client

    # L12: the client confirms it: the expert hears so, with the moved event (same UID, higher SEQUENCE).
    meeting = lifecycle.confirm_alternative(w.client, meeting)
    [(to, subject, ics)] = box.new()
    assert to == expert and ics[:2] == ("REQUEST", uid) and ics[2] > first_sequence
    assert ics[3] == new_start.isoformat()

    # Nothing happens while nothing is due.
    time_machine.move_to(new_start - timedelta(hours=25), tick=False)
    assert box.new() == []

    # N7, 24 h before: both sides, once, about the new date.
    time_machine.move_to(new_start - timedelta(hours=24), tick=False)
    reminders = box.new()
    assert [to for to, _, _ in reminders] == sorted([client, expert])
    assert {ics[:2] for _, _, ics in reminders} == {("REQUEST", uid)}
    assert box.new() == []  # a minute later: not again

    # N8, 60 min before: the link, to both.
    time_machine.move_to(new_start - timedelta(minutes=60), tick=False)
    assert [to for to, _, _ in box.new()] == sorted([client, expert])

    # V2, V5: both enter; after the end the meeting closes completed — no mail for that.
    time_machine.move_to(new_start - timedelta(minutes=5), tick=False)
    outcome.record_entry(w.expert, meeting)
    outcome.record_entry(w.client, meeting)
    assert box.new() == []
    time_machine.move_to(meeting.end + timedelta(minutes=1), tick=False)
    assert box.new() == []
    meeting.refresh_from_db()
    assert meeting.status == "completed"

    # S1, S3: the client says it went smoothly: settled as held, both told the outcome.
    meeting = outcome.submit_statement(w.client, meeting, said=Said.HELD)
    assert meeting.credit_status == "paid"
    assert [to for to, _, _ in box.new()] == sorted([client, expert])

    # N9 is not sent: the client has already evaluated; nothing more, ever.
    for hours in (24, 25, 168, 200):
        time_machine.move_to(meeting.end + timedelta(hours=hours), tick=False)
        assert box.new() == []
    assert len(smtp.received) == 1 + 1 + 1 + 1 + 2 + 2 + 2


@pytest.mark.django_db
def test_n5_k2_a_cancellation_sends_a_calendar_cancel_with_the_same_uid(smtp, time_machine):
    time_machine.move_to(NOW, tick=False)
    w = world()
    box = Mailbox(smtp)
    meeting = w.agreed(hours_ahead=96)
    invitations = [ics for to, _, ics in box.new() if to == w.client.email and ics]
    assert invitations and invitations[-1][0] == "REQUEST"

    lifecycle.cancel_meeting(w.expert, meeting, reason="illness")
    [(to, subject, ics)] = box.new()
    assert to == w.client.email
    assert ics[0] == "CANCEL" and ics[1] == invitations[-1][1] and ics[2] > invitations[-1][2]

    # The reminders of a cancelled meeting never come.
    time_machine.move_to(meeting.start - timedelta(hours=24), tick=False)
    assert box.new() == []
