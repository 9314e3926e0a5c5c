"""B4 through the API: an offered time does not hold the slot, so picking it after someone
else booked that time is refused rather than double-booking the expert (B1)."""

import pytest

from parlour.meetings.models import Meeting
from tests.factories import client as new_client

from .conftest import hours_from_now, iso

pytestmark = pytest.mark.django_db


def test_b4_b1_picking_an_option_the_expert_was_booked_at_meanwhile_is_refused(w, as_user):
    start = hours_from_now(72)
    options = [{"start": iso(start), "length": 30}]
    offer = {"service_id": w.free_service.pk, "client_id": w.client.pk, "options": options}
    planning = as_user(w.expert).org(w).post("/meetings/offer-options", offer).json()
    other = new_client(w.org)
    booked = (
        as_user(other)
        .org(w)
        .post(
            "/meetings/book",
            {"service_id": w.free_service.pk, "expert_id": w.expert.pk, "start": iso(start), "length": 30},
        )
    )
    assert booked.status_code == 201, booked.content  # the option did not hold the time
    option = planning["time_options"][0]["id"]
    response = as_user(w.client).org(w).post(f"/meetings/{planning['id']}/pick-option", {"option_id": option})
    assert response.status_code == 409, response.content
    assert Meeting.objects.filter(expert=w.expert, status="agreed", start=start).count() == 1
