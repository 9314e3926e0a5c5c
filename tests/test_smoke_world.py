import pytest

from tests.factories import world


@pytest.mark.django_db
def test_world_books_a_meeting():
    w = world()
    meeting = w.agreed()
    assert meeting.status == "agreed"
    assert meeting.credit_status == "blocked"
