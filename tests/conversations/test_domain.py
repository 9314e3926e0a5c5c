"""Conversations in the domain (SPEC §11 X1–X3, B6, N10, O3): what a person would check
after each step, read from the database."""

from datetime import timedelta

import pytest

from parlour.accounts.models import Group, Membership
from parlour.conversations import access, domain
from parlour.conversations.models import Conversation, Kind, Message
from parlour.core.errors import DomainError, NotFound
from parlour.notifications.delivery import deliver_due, still_true
from parlour.notifications.models import OutboxItem, OutboxState, Topic
from tests.factories import GuestFactory, OrganizationFactory, ServiceFactory, client, member, open_all_week, world
from tests.meetings.checks import NOW, at


def members(conversation) -> set:
    return set(conversation.participants.values_list("user__name", flat=True))


def n10(**whom):
    return OutboxItem.objects.filter(topic=Topic.N10, **whom)


# --- X1, B6 ------------------------------------------------------------------------------


def test_x1_b6_a_guest_has_one_conversation_across_two_bookings(w):
    first = w.book(service=w.free_service, by=w.guest, hours_ahead=24)
    second = w.book(service=w.free_service, by=w.guest, hours_ahead=48, expert=w.colleague)
    conversations = Conversation.objects.filter(organization=w.org, guest=w.guest)
    assert conversations.count() == 1
    conversation = conversations.get()
    assert conversation.service == w.free_service
    assert set(conversation.meetings) == {first, second}
    assert conversation.kind == Kind.SERVICE
    assert members(conversation) == {"Eve Expert", "Carl Colleague"}  # the service's experts


def test_x1_the_same_address_in_other_letters_is_the_same_conversation(w):
    from parlour.accounts.guests import guest_for_booking

    w.book(service=w.free_service, by=w.guest, hours_ahead=24)
    again = guest_for_booking(w.org, "Gus", w.guest.email.upper())
    w.book(service=w.free_service, by=again, hours_ahead=30)
    assert Conversation.objects.filter(organization=w.org).count() == 1


def test_x1_one_conversation_per_party_is_a_database_rule(w):
    from django.db import IntegrityError, transaction

    Conversation.objects.create(organization=w.org, guest=w.guest)
    with pytest.raises(IntegrityError), transaction.atomic():
        Conversation.objects.create(organization=w.org, guest=w.guest)


def test_x1_the_same_guest_in_another_organization_has_another_conversation(w):
    w.book(service=w.free_service, by=w.guest, hours_ahead=24)
    other = world()
    guest = GuestFactory(organization=other.org, email=w.guest.email)
    other.book(service=other.free_service, by=guest, hours_ahead=24)
    assert Conversation.objects.filter(guest__email=w.guest.email).count() == 2


def test_b6_a_clients_self_booking_opens_their_conversation_too(w):
    meeting = w.book()
    conversation = access.of_meeting(meeting)
    assert conversation.client == w.client and conversation.service == w.service


def test_b6_a_refused_booking_opens_nothing(w):
    w.book(service=w.free_service, by=w.guest, hours_ahead=24)
    with pytest.raises(DomainError):
        w.book(service=w.free_service, by=w.guest, hours_ahead=24)  # the same time: taken
    assert Conversation.objects.count() == 1
    with pytest.raises(DomainError):
        w.book(by=w.client, hours_ahead=-1)
    assert not Conversation.objects.filter(client=w.client).exists()


def test_b3_a_proposal_lands_in_the_existing_conversation(w):
    booked = w.book(service=w.free_service, by=w.guest, hours_ahead=24)
    proposed = w.propose(to=w.guest, service=w.free_service, hours_ahead=50)
    conversation = access.of_meeting(booked)
    assert set(conversation.meetings) == {booked, proposed}


# --- X2: writing and starting -------------------------------------------------------------


def test_x2_members_and_the_guest_write_in_turn(w):
    conversation = access.of_meeting(w.book(service=w.free_service, by=w.guest, hours_ahead=24))
    domain.write_message(w.guest, conversation, "  Can we talk about pricing?  ")
    domain.write_message(w.expert, conversation, "Of course.", now=at(1))
    said = [(m.author_name, m.side, m.text) for m in Message.objects.filter(conversation=conversation)]
    assert said == [("Gus Guest", "party", "Can we talk about pricing?"), ("Eve Expert", "member", "Of course.")]
    assert Conversation.objects.get(pk=conversation.pk).last_message_at == at(1)


def test_x2_empty_and_overlong_messages_are_refused(w):
    conversation = access.of_meeting(w.book())
    for text in ("", "   ", "x" * (domain.MAX_MESSAGE + 1)):
        with pytest.raises(DomainError) as refused:
            domain.write_message(w.client, conversation, text)
        assert refused.value.rule == "X2"
    assert not Message.objects.exists()


def test_o3_another_guest_client_or_organization_cannot_write(w):
    conversation = access.of_meeting(w.book())
    stranger_guest = GuestFactory(organization=w.org)
    other = world()
    for outsider in (stranger_guest, client(w.org), other.expert, other.admin):
        with pytest.raises(NotFound):
            domain.write_message(outsider, conversation, "Hello")
    assert not Message.objects.exists()


def test_x2_the_expert_starts_the_conversation_from_a_proposed_meeting(w):
    meeting = w.propose(to=w.guest, service=w.free_service)
    assert access.of_meeting(meeting) is None  # an expert's proposal opens none by itself
    conversation = domain.start_conversation(w.expert, w.org, meeting=meeting)
    assert conversation.kind == Kind.DIRECT and conversation.guest == w.guest
    assert members(conversation) == {"Eve Expert"}
    assert domain.start_conversation(w.expert, w.org, meeting=meeting) == conversation  # opened again


def test_x2_a_member_starts_one_with_a_client_of_the_organization(w):
    w.propose(to=w.client)  # Eve has a meeting with Cleo
    conversation = domain.start_conversation(w.expert, w.org, client=w.client)
    assert conversation.client == w.client and conversation.service in (w.service, w.free_service)
    newcomer = client(w.org, name="Nina Newcomer")
    other = world()
    with pytest.raises(NotFound):
        domain.start_conversation(w.expert, w.org, client=other.client)  # not a client here
    with pytest.raises(NotFound):
        domain.start_conversation(other.expert, w.org, client=newcomer)  # not a member here


def test_o2_x2_a_member_starts_one_only_with_a_client_they_may_see(w):
    """O2, X2: a member may start a conversation with the clients of the meetings they may see
    (their own, their groups'); an admin with any client of the organization."""
    newcomer = client(w.org, name="Nina Newcomer")  # no meeting with anyone
    w.propose(to=w.client)
    outsider = member(w.org, name="Olga Outsider")  # in no group
    assert set(access.clients_seen_by(w.colleague, w.org).values_list("name", flat=True)) == {"Cleo Client"}
    assert not access.clients_seen_by(outsider, w.org).exists()
    assert set(access.clients_seen_by(w.admin, w.org).values_list("name", flat=True)) == {
        "Cleo Client",
        "Nina Newcomer",
    }
    with pytest.raises(NotFound):
        domain.start_conversation(w.expert, w.org, client=newcomer)
    with pytest.raises(NotFound):
        domain.start_conversation(outsider, w.org, client=w.client)
    assert not Conversation.objects.filter(client=newcomer).exists()
    assert domain.start_conversation(w.admin, w.org, client=newcomer).client == newcomer


def test_o3_x3_starting_one_with_a_client_whose_conversation_one_may_not_see_is_not_found(w):
    """O3, X3: a member who may not see a client's conversation (not theirs, not their groups',
    assigned to someone else) cannot join it by "starting" one: it is not found, and they are
    neither added nor told of its messages."""
    outsider = member(w.org, name="Olga Outsider")  # in no group: cannot see Cleo's meetings
    conversation = access.of_meeting(w.book())
    domain.assign_conversation(w.expert, conversation)
    with pytest.raises(NotFound):
        domain.start_conversation(outsider, w.org, client=w.client)
    assert not access.may_see(outsider, conversation)
    assert "Olga Outsider" not in members(conversation)
    domain.write_message(w.client, conversation, "Private words")
    assert not n10(recipient=outsider).exists()


def test_x2_starting_one_with_a_client_one_may_see_opens_it_without_joining(w):
    conversation = access.of_meeting(w.book())
    domain.assign_conversation(w.expert, conversation)  # Carl still sees it through his group
    assert domain.start_conversation(w.colleague, w.org, client=w.client) == conversation
    assert members(conversation) == {"Eve Expert"}


# --- X3: assignment ----------------------------------------------------------------------


def test_x3_assign_to_me_removes_the_other_members(w):
    conversation = access.of_meeting(w.book(service=w.free_service, by=w.guest, hours_ahead=24))
    domain.assign_conversation(w.colleague, conversation)
    conversation.refresh_from_db()
    assert conversation.assigned_to == w.colleague
    assert members(conversation) == {"Carl Colleague"}
    assert conversation.service == w.free_service  # a service of his own


def test_x3_assign_to_another_member_of_the_service(w):
    conversation = access.of_meeting(w.book(service=w.free_service, by=w.guest, hours_ahead=24))
    domain.assign_conversation(w.admin, conversation, to=w.colleague, service=w.free_service)
    conversation.refresh_from_db()
    assert conversation.assigned_to == w.colleague and members(conversation) == {"Carl Colleague"}


def test_x3_only_a_member_who_gives_the_service_can_be_assigned(w):
    conversation = access.of_meeting(w.book(service=w.free_service, by=w.guest, hours_ahead=24))
    with pytest.raises(DomainError) as refused:
        domain.assign_conversation(w.expert, conversation, to=w.admin)
    assert refused.value.code == "not_an_expert_of_service" and refused.value.rule == "X3"
    with pytest.raises(NotFound):
        domain.assign_conversation(w.expert, conversation, to=world().expert)
    with pytest.raises(NotFound):
        domain.assign_conversation(w.expert, conversation, service=world().free_service)
    conversation.refresh_from_db()
    assert conversation.assigned_to is None and members(conversation) == {"Eve Expert", "Carl Colleague"}


def test_x3_assigning_to_oneself_without_a_service_picks_one_of_ones_own(w):
    """The conversation's service is not Tina's: one of hers is chosen."""
    tina = member(w.org, name="Tina")
    open_all_week(w.org, tina)
    hers = ServiceFactory(organization=w.org, name="Tina's service")
    hers.experts.add(tina)
    conversation = access.of_meeting(w.book(service=w.free_service, by=w.guest, hours_ahead=24))
    Group.objects.get(organization=w.org).members.add(Membership.objects.get(user=tina))  # she may see it (O2)
    domain.assign_conversation(tina, conversation)
    conversation.refresh_from_db()
    assert conversation.assigned_to == tina and conversation.service == hers
    assert members(conversation) == {"Tina"}


def test_x3_a_member_without_services_cannot_assign_to_themselves(w):
    conversation = access.of_meeting(w.book(service=w.free_service, by=w.guest, hours_ahead=24))
    with pytest.raises(DomainError) as refused:
        domain.assign_conversation(w.admin, conversation)
    assert refused.value.code == "no_service_of_yours"


def test_x3_in_a_one_to_one_conversation_the_assigned_member_is_added(w):
    w.propose(to=w.client)
    conversation = domain.start_conversation(w.expert, w.org, client=w.client)
    domain.assign_conversation(w.expert, conversation, to=w.colleague, service=w.service)
    conversation.refresh_from_db()
    assert conversation.assigned_to == w.colleague
    assert members(conversation) == {"Eve Expert", "Carl Colleague"}


def test_x3_the_client_cannot_assign(w):
    conversation = access.of_meeting(w.book())
    with pytest.raises(DomainError) as refused:
        domain.assign_conversation(w.client, conversation, to=w.expert)
    assert refused.value.status == 403


def test_x3_after_assignment_a_new_booking_adds_nobody(w):
    conversation = access.of_meeting(w.book(service=w.free_service, by=w.guest, hours_ahead=24))
    domain.assign_conversation(w.expert, conversation)
    w.book(service=w.free_service, by=w.guest, hours_ahead=48, expert=w.colleague)
    assert members(conversation) == {"Eve Expert"}


# --- O3: who sees it ---------------------------------------------------------------------


def test_o3_who_sees_a_conversation(w):
    conversation = access.of_meeting(w.book())
    outsider = member(w.org, name="Olga Outsider")
    grouped = member(w.org, name="Greta Grouped")
    Group.objects.get(organization=w.org).members.add(Membership.objects.get(user=grouped))
    domain.assign_conversation(w.expert, conversation)  # Carl is no longer a member of it
    other_client, other_admin = client(w.org, name="Otto Other"), world().admin
    other_admin.name = "Admin elsewhere"
    seen = {
        person.name: access.may_see(person, conversation)
        for person in (w.expert, w.colleague, w.admin, w.client, grouped, outsider, other_client, other_admin)
    }
    assert seen == {
        "Eve Expert": True,  # assigned
        "Carl Colleague": True,  # his group sees Eve's meeting (O2)
        "Ada Admin": True,
        "Cleo Client": True,
        "Greta Grouped": True,
        "Olga Outsider": False,
        "Otto Other": False,
        "Admin elsewhere": False,
    }
    with pytest.raises(NotFound):
        access.access_conversation(outsider, w.org, conversation.pk)
    with pytest.raises(NotFound):
        access.access_conversation(w.expert, OrganizationFactory(), conversation.pk)


# --- N10 ---------------------------------------------------------------------------------


def test_n10_a_message_tells_the_offline_side(w):
    conversation = access.of_meeting(w.book(service=w.free_service, by=w.guest, hours_ahead=24))
    domain.write_message(w.guest, conversation, "Hello there")
    assert set(n10().values_list("recipient__name", flat=True)) == {"Eve Expert", "Carl Colleague"}
    domain.write_message(w.expert, conversation, "Hi Gus", now=at(0.1))
    assert n10(recipient_guest=w.guest).count() == 1


def test_n10_nobody_online_is_told(w):
    conversation = access.of_meeting(w.book(service=w.free_service, by=w.guest, hours_ahead=24))
    domain.mark_seen(w.guest, conversation, now=NOW)  # the guest's page is open
    domain.write_message(w.expert, conversation, "Are you there?", now=NOW + timedelta(minutes=1))
    assert not n10(recipient_guest=w.guest).exists()
    domain.write_message(w.expert, conversation, "Gone?", now=NOW + domain.ONLINE + timedelta(minutes=1))
    assert n10(recipient_guest=w.guest).count() == 1


def test_n10_never_two_unsent_for_one_conversation(w, mailoutbox):
    conversation = access.of_meeting(w.book(service=w.free_service, by=w.guest, hours_ahead=24))
    domain.assign_conversation(w.expert, conversation)
    for minute in range(3):
        domain.write_message(w.guest, conversation, f"Message {minute}", now=at(minute / 60))
    assert n10(recipient=w.expert).count() == 1
    mailoutbox.clear()
    deliver_due(at(1), worker="test")
    assert [m.subject for m in mailoutbox if m.to == [w.expert.email] and "message" in m.subject] == [
        "New message from Gus Guest"
    ]
    assert n10(recipient=w.expert).get().state == OutboxState.SENT
    domain.write_message(w.guest, conversation, "One more", now=at(2))
    assert n10(recipient=w.expert).count() == 1  # not read since the mail: no second one
    domain.mark_seen(w.expert, conversation, now=at(3))
    domain.write_message(w.guest, conversation, "After you read", now=at(4))
    assert n10(recipient=w.expert).count() == 2  # read since the last mail: a new one may go


def test_n10_one_mail_until_the_recipient_reads(w, mailoutbox):
    """N10: messages written one after another, each after the previous mail has left, make
    one mail until the recipient reads the conversation (not one per message)."""
    conversation = access.of_meeting(w.book(service=w.free_service, by=w.guest, hours_ahead=24))
    for hour in range(1, 5):
        domain.write_message(w.expert, conversation, f"Note {hour}", now=at(hour))
        deliver_due(at(hour + 0.5), worker="test")
    assert n10(recipient_guest=w.guest).count() == 1
    assert len([m for m in mailoutbox if m.to == [w.guest.email] and m.subject.startswith("New message")]) == 1


def test_x2_a_guest_writes_at_most_so_many_messages_an_hour(w, settings):
    """X2, N10: a guest's (and a person's) messages are limited per hour, with a clear refusal."""
    settings.PARLOUR_GUEST_MESSAGES_PER_HOUR = 3
    settings.PARLOUR_MESSAGES_PER_HOUR = 2
    conversation = access.of_meeting(w.book(service=w.free_service, by=w.guest, hours_ahead=24))
    for n in range(3):
        domain.write_message(w.guest, conversation, f"Message {n}")
    with pytest.raises(DomainError) as refused:
        domain.write_message(w.guest, conversation, "One too many")
    assert refused.value.status == 429 and refused.value.code == "too_many_messages"
    assert "Wait" in refused.value.message
    assert Message.objects.filter(conversation=conversation).count() == 3
    for n in range(2):
        domain.write_message(w.expert, conversation, f"Answer {n}")
    with pytest.raises(DomainError):
        domain.write_message(w.expert, conversation, "And more")
    domain.write_message(w.colleague, conversation, "A colleague still may")
    from django.utils import translation

    with translation.override("nl"), pytest.raises(DomainError) as refused:
        domain.write_message(w.expert, conversation, "Nog meer")
    assert refused.value.message.startswith("U hebt het afgelopen uur veel berichten geschreven.")  # D4


def test_n10_only_members_of_the_organization_are_told(w):
    """N10, O3: a person taking part who is not (or no longer) a member of the organization
    gets no mail with the message's words; the guest side is still told."""
    conversation = access.of_meeting(w.book(service=w.free_service, by=w.guest, hours_ahead=24))
    stranger = member(OrganizationFactory(), name="Sam Stranger")  # a member elsewhere only
    conversation.participants.create(user=stranger, added_at=NOW)
    domain.write_message(w.guest, conversation, "Hello there")
    assert set(n10().values_list("recipient__name", flat=True)) == {"Eve Expert", "Carl Colleague"}
    Conversation.objects.filter(pk=conversation.pk).update(assigned_to=stranger)
    domain.write_message(w.guest, conversation, "Still there?", now=at(0.1))
    domain.write_message(w.expert, conversation, "Hi Gus", now=at(0.2))
    assert not n10(recipient=stranger).exists() and n10(recipient_guest=w.guest).count() == 1


def test_n10_x3_a_removed_member_leaves_the_organizations_conversations(w):
    """N10, X3, O3: when a membership ends (the settings page, the admin, anywhere), the person
    stops taking part in the organization's conversations and is no longer assigned to any."""
    booked = access.of_meeting(w.book(service=w.free_service, by=w.guest, hours_ahead=24))
    assigned = access.of_meeting(w.book())
    domain.assign_conversation(w.colleague, assigned)
    elsewhere = world()
    elsewhere_conversation = access.of_meeting(elsewhere.book(service=elsewhere.free_service, by=elsewhere.guest))
    Membership.objects.create(organization=elsewhere.org, user=w.colleague)
    elsewhere_conversation.participants.create(user=w.colleague, added_at=NOW)
    Membership.objects.get(organization=w.org, user=w.colleague).delete()
    assert members(booked) == {"Eve Expert"}
    assigned.refresh_from_db()
    assert assigned.assigned_to is None and members(assigned) == set()
    assert not access.may_see(w.colleague, booked) and not access.may_see(w.colleague, assigned)
    assert "Carl Colleague" in members(elsewhere_conversation)  # another organization's: kept
    domain.write_message(w.guest, booked, "Anyone?")
    assert set(n10().values_list("recipient__name", flat=True)) == {"Eve Expert"}


def test_n10_is_dropped_when_the_conversation_was_read_before_it_left(w):
    conversation = access.of_meeting(w.book(service=w.free_service, by=w.guest, hours_ahead=24))
    domain.write_message(w.expert, conversation, "Hello Gus")
    item = n10(recipient_guest=w.guest).get()
    assert still_true(item, at(0.1))
    domain.mark_seen(w.guest, conversation, now=at(0.1))
    assert not still_true(item, at(0.2))


def test_n10_the_guest_mail_carries_their_signed_link(w, mailoutbox):
    meeting = w.book(service=w.free_service, by=w.guest, hours_ahead=24)
    conversation = access.of_meeting(meeting)
    domain.write_message(w.expert, conversation, "Please bring your CV.")
    mailoutbox.clear()
    deliver_due(at(0.1), worker="test")
    mail = next(m for m in mailoutbox if m.to == [w.guest.email] and m.subject.startswith("New message"))
    from parlour.meetings.guest_links import link_token

    assert f"/g/{link_token(meeting)}/conversation/" in mail.body
    assert "Please bring your CV." in mail.body


def test_unread_counts_follow_reading(w):
    conversation = access.of_meeting(w.book())
    domain.write_message(w.client, conversation, "One")
    domain.write_message(w.client, conversation, "Two")
    counted = access.with_unread(access.visible_conversations(w.expert, w.org), w.expert).get()
    assert counted.unread == 2 and access.unread_count(w.expert, w.org) == 1
    assert access.unread_count(w.client, w.org) == 0  # their own words
    domain.mark_seen(w.expert, conversation, now=at(0.5))
    assert access.unread_count(w.expert, w.org) == 0


def test_a_guest_meeting_for_another_org_guest_is_not_theirs(w):
    meeting = w.book(service=w.free_service, by=w.guest, hours_ahead=24)
    assert access.for_guest_meeting(meeting) == access.of_meeting(meeting)
    with pytest.raises(NotFound):
        access.for_guest_meeting(w.book())  # a client's meeting has no guest link
