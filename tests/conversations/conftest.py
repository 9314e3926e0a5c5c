import pytest

from tests.api.conftest import as_user, with_token  # noqa: F401 - the API tests' signed-in clients
from tests.factories import World, world
from tests.meetings.checks import NOW


@pytest.fixture(autouse=True)
def frozen_clock(time_machine):
    """Every test starts at NOW; the clock moves only when a test moves it."""
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def w(db) -> World:
    return world()
