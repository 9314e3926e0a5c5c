"""O3, Q2 for every action on a meeting: another organization's meeting, a meeting one may not
see and an id that does not exist all answer the same "not found", and change nothing."""

import pytest

from tests.factories import member, world

from .conftest import assert_error, hours_from_now, iso, snapshot

pytestmark = pytest.mark.django_db

ACTIONS = {
    "confirm": {},
    "reject": {"reason": "other"},
    "cancel": {"reason": "illness", "note": "x", "confirm_late": True},
    "pick-option": {"option_id": 1},
    "alternative/propose": {"start": iso(hours_from_now(100))},
    "alternative/confirm": {},
    "alternative/reject": {"reason": "other"},
    "alternative/withdraw": None,
    "reassign": {"expert_id": 1},
    "change-time": {"length": 60},
    "statement": {"said": "held"},
    "decide-dispute": {"outcome": "held"},
}


@pytest.mark.parametrize("action", ACTIONS)
def test_o3_every_action_on_a_meeting_one_may_not_see_is_not_found(w, as_user, action):
    meeting = w.agreed(hours_ahead=72)
    body = ACTIONS[action]
    before = snapshot(meeting)
    elsewhere = world()
    loner = member(w.org, name="Lou Loner")  # a member outside the expert's group
    answers = [
        as_user(elsewhere.admin).org(elsewhere).post(f"/meetings/{meeting.pk}/{action}", body),
        as_user(elsewhere.admin).org(w).post(f"/meetings/{meeting.pk}/{action}", body),
        as_user(loner).org(w).post(f"/meetings/{meeting.pk}/{action}", body),
        as_user(w.admin).org(w).post(f"/meetings/{meeting.pk + 1000}/{action}", body),
    ]
    for response in answers:
        assert_error(response, 404, "not_found", "O3")
    # What one may not see reads exactly like what does not exist.
    assert answers[0].json() == answers[2].json() == answers[3].json()
    assert snapshot(meeting) == before
