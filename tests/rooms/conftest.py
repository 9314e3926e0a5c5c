import pytest

from tests.factories import World, world
from tests.meetings.checks import NOW

JITSI_SECRET = "a long secret string, shared with Prosody"


@pytest.fixture
def frozen_clock(time_machine):
    """At NOW, and still: the clock moves only when a test moves it. (The signaling tests
    run a real server on the real clock, so this is not for every test here.)"""
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def w(db) -> World:
    return world()


@pytest.fixture
def jitsi_world(db) -> World:
    """The world of an organization whose meetings are on its Jitsi Meet server, with token
    authentication."""
    w = world()
    row = w.org.settings
    row.video_platform, row.jitsi_domain, row.jitsi_app_id, row.jitsi_app_secret = (
        "jitsi",
        "meet.example.org",
        "parlour",
        JITSI_SECRET,
    )
    row.save()
    return w
