"""The conversations' pages (I1, SPEC §11, O3, D4): the list with unread counts in the
header, one conversation with its meetings and the meetings' changes, writing, assigning,
the meeting page's way in, the guest's own page from their signed link."""

import re

import pytest
from django.test import Client

from parlour.conversations import access, domain
from parlour.conversations.models import Conversation, Message
from parlour.meetings import lifecycle
from parlour.meetings.guest_links import link_token
from tests.factories import member, world
from tests.web.clients import signed_in, text


@pytest.fixture
def booked(w):
    meeting = w.book(service=w.free_service, by=w.guest, hours_ahead=24)
    return meeting, access.of_meeting(meeting)


def page_of(w, conversation) -> str:
    return f"/o/{w.org.slug}/conversations/{conversation.pk}/"


def test_x2_the_expert_reads_and_answers_the_guest(w, booked):
    meeting, conversation = booked
    domain.write_message(w.guest, conversation, "Is there parking?")
    browser = signed_in(w.expert)
    listed = text(browser.get(f"/o/{w.org.slug}/conversations/"))
    assert "Gus Guest" in listed and "1 unread message" in listed
    assert re.search(r'Conversations <span class="count">1<span class="sr-only"> unread', listed)

    shown = text(browser.get(page_of(w, conversation)))
    assert "Is there parking?" in shown and "Conversation with Gus Guest" in shown
    assert f"/o/{w.org.slug}/meetings/{meeting.pk}/" in shown  # its meetings, linked
    assert "Meeting booked by client" in shown  # the meeting's change, in the thread
    assert 'class="count"' not in text(browser.get(f"/o/{w.org.slug}/conversations/"))  # read now

    sent = browser.post(f"{page_of(w, conversation)}messages/", {"text": "Yes, in the yard."})
    assert sent.status_code == 302 and sent["Location"].endswith("#latest")
    assert Message.objects.filter(conversation=conversation, author=w.expert).get().text == "Yes, in the yard."


def test_x2_writing_with_htmx_answers_the_new_thread(w, booked):
    _meeting, conversation = booked
    browser = signed_in(w.expert)
    answer = browser.post(f"{page_of(w, conversation)}messages/", {"text": "Hello"}, headers={"HX-Request": "true"})
    assert answer.status_code == 200 and "Hello" in text(answer) and 'id="write-error"' in text(answer)
    empty = browser.post(f"{page_of(w, conversation)}messages/", {"text": " "}, headers={"HX-Request": "true"})
    assert empty["HX-Retarget"] == "#write-error" and "Write a message first." in text(empty)
    refused = browser.post(f"{page_of(w, conversation)}messages/", {"text": " "})
    assert refused.status_code == 400 and "Write a message first." in text(refused)


def test_n10_the_page_polling_counts_as_online(w, booked):
    _meeting, conversation = booked
    Client().get(f"/g/{link_token(_meeting)}/conversation/thread/")  # the guest's page is open
    domain.write_message(w.expert, conversation, "See you tomorrow")
    from parlour.notifications.models import OutboxItem, Topic

    assert not OutboxItem.objects.filter(topic=Topic.N10, recipient_guest=w.guest).exists()


def test_x3_assign_to_me_and_to_another_from_the_page(w, booked):
    _meeting, conversation = booked
    browser = signed_in(w.expert)
    shown = text(browser.get(page_of(w, conversation)))
    assert "Assign to me" in shown and f'value="{w.free_service.pk}:{w.colleague.pk}"' in shown
    browser.post(f"{page_of(w, conversation)}assign/")
    conversation.refresh_from_db()
    assert conversation.assigned_to == w.expert
    refused = browser.post(f"{page_of(w, conversation)}assign/", {"assignee": f"{w.free_service.pk}:{w.admin.pk}"})
    assert refused.status_code == 400 and "does not give" in text(refused)
    assert "dialog-assign" in text(refused) and re.search(r'id="dialog-assign"[^>]* open', text(refused))
    done = browser.post(f"{page_of(w, conversation)}assign/", {"assignee": f"{w.free_service.pk}:{w.colleague.pk}"})
    assert done.status_code == 302
    conversation.refresh_from_db()
    assert conversation.assigned_to == w.colleague


def test_o3_another_organizations_conversation_is_not_found(w, booked):
    _meeting, conversation = booked
    other = world()
    outsider = member(w.org, name="Olga Outsider")
    for person, slug in ((other.admin, other.org.slug), (other.admin, w.org.slug), (outsider, w.org.slug)):
        browser = signed_in(person)
        base = f"/o/{slug}/conversations/{conversation.pk}/"
        assert browser.get(base).status_code == 404
        assert browser.get(f"{base}thread/").status_code == 404
        assert browser.post(f"{base}messages/", {"text": "Hi"}).status_code == 404
        assert browser.post(f"{base}assign/").status_code == 404
    assert "Gus Guest" not in text(signed_in(outsider).get(f"/o/{w.org.slug}/conversations/"))
    assert not Message.objects.exists()


def test_x2_the_meeting_page_opens_the_conversation_or_starts_one(w, booked):
    meeting, conversation = booked
    shown = text(signed_in(w.expert).get(f"/o/{w.org.slug}/meetings/{meeting.pk}/"))
    assert f'href="{page_of(w, conversation)}#latest"' in shown and "Open the conversation" in shown
    proposed = w.propose(to=w.client, service=w.free_service)
    browser = signed_in(w.expert)
    assert "Start a conversation" in text(browser.get(f"/o/{w.org.slug}/meetings/{proposed.pk}/"))
    started = browser.post(f"/o/{w.org.slug}/conversations/start/", {"meeting": proposed.pk})
    made = Conversation.objects.get(client=w.client)
    assert started["Location"] == page_of(w, made)
    assert "Open the conversation" in text(signed_in(w.client).get(f"/o/{w.org.slug}/meetings/{proposed.pk}/"))


def test_x2_a_member_starts_one_with_a_client_from_the_list(w):
    w.propose(to=w.client)
    browser = signed_in(w.expert)
    assert "Start a conversation with a client" in text(browser.get(f"/o/{w.org.slug}/conversations/"))
    started = browser.post(f"/o/{w.org.slug}/conversations/start/", {"client": w.client.pk})
    assert started["Location"] == page_of(w, Conversation.objects.get(client=w.client))
    assert browser.post(f"/o/{w.org.slug}/conversations/start/", {"client": world().client.pk}).status_code == 404


def test_b3_propose_a_meeting_from_the_conversation_fills_in_the_party(w, booked):
    _meeting, conversation = booked
    shown = text(signed_in(w.expert).get(page_of(w, conversation)))
    url = re.search(r'href="([^"]*/propose/\?[^"]*)"', shown).group(1).replace("&amp;", "&")
    form = text(signed_in(w.expert).get(url))
    assert 'value="Gus Guest"' in form and f'value="{w.guest.email}"' in form
    assert re.search(r'value="guest"[^>]*checked', form)


def test_x2_the_client_reads_their_own_conversation(w):
    meeting = w.book()
    conversation = access.of_meeting(meeting)
    domain.write_message(w.expert, conversation, "Welcome, Cleo")
    browser = signed_in(w.client)
    shown = text(browser.get(page_of(w, conversation)))
    assert "Welcome, Cleo" in shown and "Assign to me" not in shown
    browser.post(f"{page_of(w, conversation)}messages/", {"text": "Thank you"})
    assert Message.objects.filter(author=w.client).exists()


def test_x2_the_guest_writes_from_their_signed_link(w, booked):
    meeting, conversation = booked
    link = f"/g/{link_token(meeting)}/conversation/"
    guest = Client()
    assert "Your conversation with" in text(guest.get(f"/g/{link_token(meeting)}/"))
    assert link in text(guest.get(f"/g/{link_token(meeting)}/"))
    page = text(guest.get(link))
    assert "Meeting booked by client" in page and "Your message" in page
    sent = guest.post(link, {"text": "Running five minutes late"})
    assert sent.status_code == 302
    assert Message.objects.get(author_guest=w.guest).text == "Running five minutes late"
    assert guest.get(link.replace("/conversation/", "x/conversation/")).status_code == 404


def test_b6_a_guest_without_a_conversation_opens_one_by_writing(w):
    proposed = w.propose(to=w.guest, service=w.free_service)
    link = f"/g/{link_token(proposed)}/conversation/"
    Client().post(link, {"text": "Can we talk first?"})
    conversation = access.of_meeting(proposed)
    assert conversation is not None and conversation.messages.count() == 1


def test_d4_the_conversation_pages_in_dutch(w, booked):
    _meeting, conversation = booked
    w.expert.language = "nl"
    w.expert.save()
    shown = text(signed_in(w.expert).get(page_of(w, conversation)))
    assert "Gesprek met Gus Guest" in shown and "Aan mij toewijzen" in shown


def test_lifecycle_changes_appear_in_the_thread(w, booked):
    meeting, conversation = booked
    lifecycle.cancel_meeting(w.guest, meeting, note="Something came up")
    shown = text(signed_in(w.expert).get(page_of(w, conversation)))
    assert "Cancelled by client" in shown


def test_i5_the_admin_area_shows_conversations_read_only(w, booked):
    _meeting, conversation = booked
    domain.write_message(w.guest, conversation, "Hello")
    w.admin.is_staff = w.admin.is_superuser = True
    w.admin.save()
    browser = signed_in(w.admin)
    assert "Gus Guest" in text(browser.get("/admin/conversations/conversation/"))
    shown = text(browser.get(f"/admin/conversations/conversation/{conversation.pk}/change/"))
    assert "Hello" in shown and "Save" not in shown


def test_b3_propose_from_a_clients_conversation_chooses_the_client(w):
    conversation = access.of_meeting(w.book())
    shown = text(signed_in(w.expert).get(page_of(w, conversation)))
    url = re.search(r'href="([^"]*/propose/\?[^"]*)"', shown).group(1).replace("&amp;", "&")
    form = text(signed_in(w.expert).get(url))
    assert re.search(rf'<option value="{w.client.pk}"[^>]*selected', form)
    assert re.search(rf'<option value="{w.service.pk}"[^>]*selected', form)


def test_o3_starting_one_with_a_client_whose_conversation_one_may_not_see_is_not_found(w):
    """O3, X3: the list's "start" cannot be used to join a conversation one may not see."""
    conversation = access.of_meeting(w.book())
    outsider = member(w.org, name="Olga Outsider")  # in no group
    assert signed_in(outsider).post(f"/o/{w.org.slug}/conversations/start/", {"client": w.client.pk}).status_code == 404
    assert not access.may_see(outsider, conversation)


def test_x3_n10_removing_a_member_takes_them_out_of_the_conversations(w, booked):
    """X3, N10: the settings' "remove" ends the member's part in the organization's
    conversations and their assignments."""
    _meeting, conversation = booked
    domain.assign_conversation(w.colleague, conversation)
    response = signed_in(w.admin).post(f"/o/{w.org.slug}/settings/members/{w.colleague.pk}/remove/")
    assert response.status_code == 302
    conversation.refresh_from_db()
    assert conversation.assigned_to is None and not conversation.participants.exists()


def test_x2_a_guest_over_the_hourly_limit_sees_why_on_the_page(w, booked, settings):
    """X2: the guest's page refuses the message over the hour's limit with a clear word (429)."""
    settings.PARLOUR_GUEST_MESSAGES_PER_HOUR = 1
    meeting, _conversation = booked
    link = f"/g/{link_token(meeting)}/conversation/"
    guest = Client()
    assert guest.post(link, {"text": "First"}).status_code == 302
    refused = guest.post(link, {"text": "Second"})
    assert refused.status_code == 429 and "Wait a while, then write again." in text(refused)
    assert "Second" in refused.content.decode()  # the words are kept in the box


def test_o2_the_start_list_offers_only_the_clients_one_may_see(w):
    """O2, X2: the "start a conversation" choice lists the clients of the meetings the member
    may see; an admin's lists every client; a client one may not see is not found."""
    from tests.factories import client

    newcomer = client(w.org, name="Nina Newcomer")
    w.propose(to=w.client)
    listed = signed_in(w.colleague).get(f"/o/{w.org.slug}/conversations/").content.decode()
    assert "Cleo Client" in listed and "Nina Newcomer" not in listed
    assert "Nina Newcomer" in signed_in(w.admin).get(f"/o/{w.org.slug}/conversations/").content.decode()
    started = signed_in(w.colleague).post(f"/o/{w.org.slug}/conversations/start/", {"client": newcomer.pk})
    assert started.status_code == 404


def test_o2_the_start_list_is_bounded_and_searchable(w, monkeypatch):
    """O2, X2: an admin of many clients gets a bounded list and a search field."""
    from parlour.web import conversations as pages
    from tests.factories import client

    monkeypatch.setattr(pages, "CLIENTS_SHOWN", 2)
    for name in ("Ann Alpha", "Bob Beta", "Cid Gamma"):
        client(w.org, name=name)
    page = signed_in(w.admin).get(f"/o/{w.org.slug}/conversations/").content.decode()
    offered = page.split('id="start-client"')[1].split("</select>")[0]
    assert offered.count("<option") == 2 and 'name="client_search"' in page
    found = signed_in(w.admin).get(f"/o/{w.org.slug}/conversations/", {"client_search": "gamma"}).content.decode()
    assert "Cid Gamma" in found and "Ann Alpha" not in found


def test_x2_the_guests_expanded_history_stays_expanded_while_polling(w, booked):
    """X2: "Show earlier messages" on the guest's page keeps its length in the page's poll, so
    the next message does not collapse the history again (as on the members' page)."""
    meeting, _conversation = booked
    link = f"/g/{link_token(meeting)}/conversation/"
    page = Client().get(link, {"show": 100}).content.decode()
    assert f'hx-get="{link}thread/?show=100"' in page
