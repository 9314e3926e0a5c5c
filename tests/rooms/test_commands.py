"""V1: the room follows the meeting — created when it becomes agreed, moved with its date,
cancelled with it — carried out by the worker from the outbox after commit, and the same
when a command runs twice, late or after a worker died. V4/V5: connection reports."""

from datetime import timedelta

import pytest

from parlour.meetings import lifecycle, outcome
from parlour.notifications.delivery import carry_out_room_commands, recover_stale
from parlour.notifications.models import OutboxItem, OutboxState
from parlour.rooms.models import Room
from parlour.rooms.platforms import BuiltinPlatform, platform_for
from tests.factories import world
from tests.meetings.checks import NOW, at, fresh, titles

pytestmark = pytest.mark.usefixtures("frozen_clock")


def room_items(meeting):
    return OutboxItem.objects.filter(meeting=meeting, topic__startswith="room.").order_by("id")


def deliver(now=None):
    carry_out_room_commands(now or NOW, worker="test")


def test_v1_the_room_is_made_when_the_meeting_becomes_agreed(w):
    meeting = w.book(hours_ahead=48)
    deliver()
    assert not Room.objects.filter(meeting=meeting).exists()  # awaiting approval: no room yet

    meeting = lifecycle.confirm_meeting(w.expert, meeting)
    deliver()
    room = Room.objects.get(meeting=meeting)
    assert (room.platform, room.state, room.start, room.end) == ("builtin", "open", meeting.start, meeting.end)
    assert len(room.name) == 24 and room.name.isalnum()
    assert [item.state for item in room_items(meeting)] == [OutboxState.SENT]


def test_v1_the_room_moves_with_the_meeting_and_is_cancelled_with_it(w):
    meeting = w.book(service=w.free_service, hours_ahead=72)
    deliver()
    name = Room.objects.get(meeting=meeting).name

    new_start = meeting.start + timedelta(days=1)
    lifecycle.change_meeting_time(w.expert, meeting, start=new_start)
    deliver()
    room = Room.objects.get(meeting=meeting)
    assert (room.name, room.start, room.end) == (name, new_start, new_start + timedelta(minutes=meeting.length_minutes))

    lifecycle.cancel_meeting(w.client, meeting, note="Something came up")
    deliver()
    assert Room.objects.get(meeting=meeting).state == "cancelled"
    assert [i.topic for i in room_items(meeting)] == ["room.create", "room.move", "room.cancel"]
    assert {i.state for i in room_items(meeting)} == {OutboxState.SENT}


def test_v1_commands_carried_out_twice_late_or_out_of_order_give_the_same_room(w):
    meeting = w.agreed(hours_ahead=72)
    deliver()
    lifecycle.cancel_meeting(w.client, meeting, note="Something came up")
    deliver()
    # The create is carried out again after the cancel (a retry): the room stays cancelled.
    create = room_items(meeting).first()
    OutboxItem.objects.filter(pk=create.pk).update(state=OutboxState.PENDING)
    deliver()
    assert Room.objects.get(meeting=meeting).state == "cancelled"
    assert Room.objects.filter(meeting=meeting).count() == 1


def test_v1_a_meeting_cancelled_before_the_worker_came_gets_no_room(w):
    meeting = w.agreed(hours_ahead=72)
    lifecycle.cancel_meeting(w.client, meeting, note="Something came up")
    deliver()  # create and cancel, both late
    assert not Room.objects.filter(meeting=meeting).exists()
    assert {i.state for i in room_items(meeting)} == {OutboxState.SENT}


def test_v1_a_worker_that_died_midway_leaves_the_command_to_another(w):
    meeting = w.agreed(hours_ahead=72)
    item = room_items(meeting).first()
    # A worker claimed it and died before carrying it out.
    OutboxItem.objects.filter(pk=item.pk).update(state=OutboxState.CLAIMED, claimed_at=NOW, claimed_by="dead")
    assert recover_stale(NOW + timedelta(minutes=6))["returned"] == 1
    deliver(NOW + timedelta(minutes=6))
    assert Room.objects.get(meeting=meeting).state == "open"


def test_v1_a_failing_platform_is_tried_again_with_back_off(w, monkeypatch):
    meeting = w.agreed(hours_ahead=72)

    def unreachable(self, room):
        raise ConnectionError("platform unreachable")

    monkeypatch.setattr(BuiltinPlatform, "create_room", unreachable)
    deliver()
    item = room_items(meeting).get()
    assert (item.state, item.attempts) == (OutboxState.PENDING, 1)
    assert "platform unreachable" in item.last_error
    assert not Room.objects.filter(meeting=meeting).exists()

    monkeypatch.undo()
    deliver(NOW + timedelta(minutes=1))
    assert Room.objects.get(meeting=meeting).state == "open"


def test_v1_the_platform_is_chosen_per_organization(w):
    settings = w.org.settings
    settings.video_platform, settings.jitsi_domain = "jitsi", "meet.example.org"
    settings.save()
    meeting = w.agreed(hours_ahead=72)
    deliver()
    assert Room.objects.get(meeting=meeting).platform == "jitsi"
    assert platform_for(w.org).key == "jitsi"
    assert platform_for(world().org).key == "builtin"


# --- V4, V5 --------------------------------------------------------------------------------


def both_enter(w, meeting):
    outcome.record_entry(w.expert, meeting, now=at(72))
    outcome.record_entry(w.client, meeting, now=at(72.05))


def test_v4_a_reported_failure_closes_the_meeting_as_failed(w):
    meeting = w.agreed(hours_ahead=72)
    both_enter(w, meeting)
    outcome.report_connection_failure(meeting, side="client", now=at(72.1))
    meeting = outcome.close_meeting(meeting, now=at(72.5))
    assert meeting.status == "failed"
    assert "The two sides could not connect" in titles(meeting)


def test_v4_a_later_good_connection_outweighs_a_first_failed_attempt(w):
    meeting = w.agreed(hours_ahead=72)
    both_enter(w, meeting)
    outcome.report_connection_failure(meeting, side="client", now=at(72.1))
    outcome.report_connected(meeting, side="expert", now=at(72.15))
    outcome.report_connected(meeting, side="client", now=at(72.16))  # said once
    meeting = outcome.close_meeting(meeting, now=at(72.5))
    assert meeting.status == "completed"
    assert titles(meeting).count("The two sides connected") == 1


def test_v3_moving_the_meeting_forgets_the_media_checks(w):
    meeting = w.book(service=w.free_service, hours_ahead=72)
    outcome.record_entry(w.client, meeting, now=at(71.9))
    outcome.record_media_check(w.client, meeting, camera="ok", microphone="ok", now=at(71.9))
    assert fresh(meeting).client_media_check == "passed"
    lifecycle.change_meeting_time(w.expert, meeting, start=meeting.start + timedelta(days=1), now=at(71.95))
    meeting = fresh(meeting)
    assert (meeting.client_entered_at, meeting.client_media_check) == (None, "")


def test_v3_a_media_check_needs_an_entry_first(w):
    meeting = w.agreed(hours_ahead=72)
    with pytest.raises(Exception) as refused:
        outcome.record_media_check(w.client, meeting, camera="ok", microphone="ok", now=at(71.9))
    assert refused.value.code == "not_entered"
    assert fresh(meeting).client_media_check == ""


def test_v4_a_call_that_connected_and_then_dropped_is_no_failure(w):
    """V4 is a room that could not connect the two sides: a drop after they connected (or a
    page that says "failed" late) does not make the meeting failed."""
    meeting = w.agreed(hours_ahead=72)
    both_enter(w, meeting)
    outcome.report_connected(meeting, side="expert", now=at(72.1))
    outcome.report_connection_failure(meeting, side="client", now=at(72.4))
    assert not fresh(meeting).connection_failed
    assert outcome.close_meeting(meeting, now=at(72.5)).status == "completed"
    assert "The two sides could not connect" not in titles(meeting)


def test_v3_the_same_result_again_is_not_written_twice(w):
    meeting = w.agreed(hours_ahead=72)
    outcome.record_entry(w.client, meeting, now=at(71.9))
    for _ in range(3):
        outcome.record_media_check(w.client, meeting, camera="ok", microphone="ok", now=at(71.9))
    outcome.record_media_check(w.client, meeting, camera="NotReadableError", microphone="ok", now=at(71.95))
    assert [t for t in titles(meeting) if t.startswith("Media check")] == [
        "Media check by client: passed",
        "Media check by client: failed",
    ]
