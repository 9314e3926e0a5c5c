"""The conversations API (I2, SPEC §11): list, read, write, assign, start; the guest's own
conversation through their signed link; another organization's conversation is "not found"
(O3)."""

import pytest
from django.test import Client

from parlour.conversations import access
from parlour.conversations.models import Conversation, Message
from parlour.meetings.guest_links import link_token
from parlour.notifications.models import OutboxItem, Topic
from tests.api.conftest import Api
from tests.factories import world


@pytest.fixture
def guest_world(w):
    meeting = w.book(service=w.free_service, by=w.guest, hours_ahead=24)
    return w, meeting, access.of_meeting(meeting)


def test_x2_the_guest_writes_from_their_link_and_the_expert_answers(guest_world, as_user):
    w, meeting, conversation = guest_world
    guest = Api(Client())  # a browser without any session
    token = link_token(meeting)
    written = guest.post(f"/guest/{token}/conversation/messages", {"text": "Is parking available?"})
    assert written.status_code == 201 and written.json()["side"] == "party"

    expert = as_user(w.expert).org(w)
    listed = expert.get("/conversations").json()["items"]
    assert [(c["id"], c["unread"], c["party"]["name"]) for c in listed] == [(conversation.pk, 1, "Gus Guest")]
    answer = expert.post(f"/conversations/{conversation.pk}/messages", {"text": "Yes, behind the building."})
    assert answer.status_code == 201
    read = expert.get(f"/conversations/{conversation.pk}").json()
    assert [m["text"] for m in read["messages"]] == ["Yes, behind the building.", "Is parking available?"]
    assert read["meetings"][0]["id"] == meeting.pk and read["unread"] == 0

    seen = guest.get(f"/guest/{token}/conversation").json()
    assert [m["author"] for m in seen["messages"]] == ["Eve Expert", "Gus Guest"]


def test_o3_another_organizations_conversation_is_not_found(guest_world, as_user):
    w, meeting, conversation = guest_world
    other = world()
    for api in (as_user(other.admin).org(other), as_user(other.admin).org(w)):
        for answer in (
            api.get(f"/conversations/{conversation.pk}"),
            api.post(f"/conversations/{conversation.pk}/messages", {"text": "Hi"}),
            api.post(f"/conversations/{conversation.pk}/assign", {}),
        ):
            assert answer.status_code == 404 and answer.json()["code"] == "not_found"
    assert not Message.objects.exists()


def test_o3_a_forged_guest_token_is_not_found(guest_world, as_user):
    w, meeting, _conversation = guest_world
    api = Api(Client())
    assert api.get(f"/guest/{link_token(meeting)}x/conversation").status_code == 404
    assert api.post(f"/guest/{link_token(meeting)}x/conversation/messages", {"text": "Hi"}).status_code == 404


def test_x3_assign_to_me_and_to_another_by_the_api(guest_world, with_token):
    w, _meeting, conversation = guest_world
    api = with_token(w.expert).org(w)
    mine = api.post(f"/conversations/{conversation.pk}/assign", {})
    assert mine.status_code == 200
    assert mine.json()["assigned_to"]["name"] == "Eve Expert"
    assert [m["name"] for m in mine.json()["members"]] == ["Eve Expert"]
    refused = api.post(f"/conversations/{conversation.pk}/assign", {"member_id": w.admin.pk})
    assert refused.status_code == 400 and refused.json()["rule"] == "X3"
    handed = api.post(
        f"/conversations/{conversation.pk}/assign", {"member_id": w.colleague.pk, "service_id": w.free_service.pk}
    )
    assert handed.json()["assigned_to"]["name"] == "Carl Colleague"


def test_x2_start_with_a_client_and_from_a_meeting(w, as_user):
    api = as_user(w.expert).org(w)
    from tests.factories import client

    assert api.post("/conversations", {"client_id": client(w.org, name="Nina Newcomer").pk}).status_code == 404  # O2
    w.propose(to=w.client)
    started = api.post("/conversations", {"client_id": w.client.pk})
    assert started.status_code == 200 and started.json()["party"]["name"] == "Cleo Client"
    proposed = w.propose(to=w.guest, service=w.free_service)
    from_meeting = api.post("/conversations", {"meeting_id": proposed.pk})
    assert from_meeting.json()["party"]["kind"] == "guest"
    assert Conversation.objects.filter(organization=w.org).count() == 2
    assert api.post("/conversations", {"client_id": world().client.pk}).status_code == 404
    assert api.post("/conversations", {}).status_code == 400


def test_n10_reading_by_the_api_counts_as_online(guest_world, as_user):
    w, _meeting, conversation = guest_world
    api = as_user(w.expert).org(w)
    api.get(f"/conversations/{conversation.pk}")
    Api(Client()).post(f"/guest/{link_token(_meeting)}/conversation/messages", {"text": "Hello?"})
    told = set(OutboxItem.objects.filter(topic=Topic.N10).values_list("recipient__name", flat=True))
    assert told == {"Carl Colleague"}  # Eve is reading it


def test_i2_the_conversations_are_in_the_openapi_description(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/orgs/{slug}/conversations/{conversation_id}/assign" in paths
    assert "/api/v1/guest/{token}/conversation/messages" in paths


def test_o3_starting_one_with_a_client_whose_conversation_one_may_not_see_is_not_found(w, as_user):
    """O3, X3: POST /conversations with a client whose conversation the caller may not see."""
    from tests.factories import member

    conversation = access.of_meeting(w.book())
    outsider = member(w.org, name="Olga Outsider")  # in no group
    assert as_user(outsider).org(w).post("/conversations", {"client_id": w.client.pk}).status_code == 404
    assert not access.may_see(outsider, conversation)


def test_o2_o3_a_participant_gets_only_the_meetings_they_may_see(w, as_user):
    """O2, O3: a member of the service taking part in a guest's conversation, outside Eve's
    group, is not shown Eve's meeting in it — in the API as on the page."""
    from tests.factories import member
    from tests.web.clients import signed_in

    outsider = member(w.org, name="Olga Outsider")  # gives the service, in no group
    w.free_service.experts.add(outsider)
    meeting = w.book(service=w.free_service, by=w.guest, hours_ahead=24)
    conversation = access.of_meeting(meeting)
    assert conversation.participants.filter(user=outsider).exists()
    read = as_user(outsider).org(w).get(f"/conversations/{conversation.pk}").json()
    assert read["meetings"] == []
    page = signed_in(outsider).get(f"/o/{w.org.slug}/conversations/{conversation.pk}/").content.decode()
    assert f"/meetings/{meeting.pk}/" not in page
    seen = as_user(w.expert).org(w).get(f"/conversations/{conversation.pk}").json()
    assert [m["id"] for m in seen["meetings"]] == [meeting.pk]


def test_x2_a_guest_over_the_hourly_limit_is_told_to_wait(guest_world, settings):
    """X2: the guest API answers 429 with the refusal once the hour's messages are written."""
    settings.PARLOUR_GUEST_MESSAGES_PER_HOUR = 2
    w, meeting, conversation = guest_world
    guest = Api(Client())
    path = f"/guest/{link_token(meeting)}/conversation/messages"
    assert [guest.post(path, {"text": f"Hello {n}"}).status_code for n in range(2)] == [201, 201]
    refused = guest.post(path, {"text": "Hello again"})
    assert refused.status_code == 429 and refused.json()["code"] == "too_many_messages"
    assert "Wait a while" in refused.json()["message"]
