"""What each outbox item says to its person (N1–N10, SPEC §9): in their language and time
zone (D4), with the guest key and signed link for guests (B5), the reason, the charge, the
new date or the new expert, and a calendar request where it concerns a date (K2)."""

import html as html_lib
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation
from django.utils.translation import gettext
from icalendar import Calendar

from parlour.accounts.models import Guest
from parlour.meetings import guest_links, lifecycle, outcome
from parlour.meetings.lifecycle import Party
from parlour.meetings.models import Meeting
from parlour.meetings.reasons import ExpertCancelReason, RejectReason
from parlour.notifications.messages import ICS_CANCEL, ICS_REQUEST, TEMPLATES, Message, compose
from parlour.notifications.models import OutboxItem, Topic
from parlour.notifications.wording import REASON_LABELS, zone_label
from tests.factories import world
from tests.meetings.checks import NOW, at

pytestmark = pytest.mark.django_db

LANGUAGES = ["en", "nl", "de", "cs", "sk"]
BASE = "http://127.0.0.1:8000"


@pytest.fixture(autouse=True)
def frozen_clock(time_machine):
    time_machine.move_to(NOW, tick=False)
    return time_machine


@pytest.fixture
def w(db):
    w = world()
    for person in (w.expert, w.colleague, w.client):
        person.time_zone = "Europe/Amsterdam"
        person.save()
    w.guest.time_zone = "America/New_York"
    w.guest.save()
    return w


def last(topic: str, to) -> OutboxItem:
    items = OutboxItem.objects.filter(topic=topic)
    items = items.filter(recipient_guest=to) if isinstance(to, Guest) else items.filter(recipient=to)
    return items.select_related("meeting", "recipient", "recipient_guest", "organization").latest("id")


def queue(meeting: Meeting | None, topic: str, to, *, organization=None, **payload) -> OutboxItem:
    """A time-driven message (N7–N9) as the due-work scan writes it, or N10; read back as the
    worker reads it."""
    if meeting is not None:
        meeting.refresh_from_db()
    item = OutboxItem.objects.create(
        organization=meeting.organization if meeting else organization,
        topic=topic,
        meeting=meeting,
        recipient=None if isinstance(to, Guest) else to,
        recipient_guest=to if isinstance(to, Guest) else None,
        payload={"start": meeting.start.isoformat(), **payload} if meeting else payload,
    )
    return OutboxItem.objects.select_related("meeting", "recipient", "recipient_guest").get(pk=item.pk)


def compose_in(item: OutboxItem, language: str) -> Message:
    person = item.recipient or item.recipient_guest
    person.language = language
    return compose(item)


def scenes(w) -> dict[str, OutboxItem]:
    """One outbox item for every topic and every way of wording it, made by the lifecycle
    where a transition writes it."""
    found = {}
    # N1, N4 rejected (L3), N1 for a rejected meeting's new date (L11), its rejection (L13)
    m1 = w.book(hours_ahead=50)
    found["N1"] = last(Topic.N1, w.expert)
    lifecycle.reject_meeting(w.expert, m1, reason=RejectReason.NOT_AVAILABLE, note="Sorry, travelling")
    found["N4 rejected"] = last(Topic.N4_REJECTED, w.client)
    lifecycle.propose_alternative(w.client, m1, start=at(56))
    found["N1 new date"] = last(Topic.N1, w.expert)
    lifecycle.reject_alternative(w.expert, m1, reason=RejectReason.PRICE)
    found["N4 rejected new date"] = last(Topic.N4_REJECTED, w.client)
    # N2 to both sides of a guest's booking; N6 changed (L16) and reassigned (L15)
    g = w.book(service=w.free_service, by=w.guest, hours_ahead=60)
    found["N2 expert"] = last(Topic.N2, w.expert)
    found["N2 guest"] = last(Topic.N2, w.guest)
    lifecycle.change_meeting_time(w.guest, g, start=at(62))
    found["N6 changed expert"] = last(Topic.N6, w.expert)
    found["N6 changed guest"] = last(Topic.N6, w.guest)
    found["N7 guest"] = queue(g, Topic.N7, w.guest)
    found["N8 guest"] = queue(g, Topic.N8, w.guest)
    lifecycle.reassign_meeting(w.expert, g, expert=w.colleague)
    found["N6 reassigned previous"] = last(Topic.N6, w.expert)
    found["N6 reassigned new"] = last(Topic.N6, w.colleague)
    found["N6 reassigned guest"] = last(Topic.N6, w.guest)
    # N3 (B3, B4); N4 confirmed by the client (L5)
    p = w.propose(hours_ahead=100)
    found["N3"] = last(Topic.N3, w.client)
    lifecycle.offer_time_options(
        w.expert, service=w.service, party=Party(client=w.client), options=[(at(110), 30), (at(120), 60)]
    )
    found["N3 options"] = last(Topic.N3, w.client)
    lifecycle.confirm_meeting(w.client, p)
    found["N4 confirmed expert"] = last(Topic.N4_CONFIRMED, w.expert)
    found["N7 client"] = queue(p, Topic.N7, w.client)
    found["N7 expert"] = queue(p, Topic.N7, w.expert)
    found["N8 client"] = queue(p, Topic.N8, w.client)
    found["N9"] = queue(p, Topic.N9, w.client, deadline=(p.end + timedelta(hours=168)).isoformat())
    # N4 confirmed by the expert (L2), N6 agreed meeting rescheduled (L10), confirmed (L12), N5 (L9)
    m2 = w.book(hours_ahead=130)
    lifecycle.confirm_meeting(w.expert, m2)
    found["N4 confirmed client"] = last(Topic.N4_CONFIRMED, w.client)
    lifecycle.propose_alternative(w.expert, m2, start=at(140))
    found["N6 agreed new date"] = last(Topic.N6, w.client)
    lifecycle.confirm_alternative(w.client, m2)
    found["N4 confirmed new date"] = last(Topic.N4_CONFIRMED, w.expert)
    lifecycle.cancel_meeting(w.expert, m2, reason=ExpertCancelReason.ILLNESS, note="I am so sorry.")
    found["N5 by expert"] = last(Topic.N5, w.client)
    # N5 late, with the charge (L8)
    m3 = w.agreed(hours_ahead=24)
    lifecycle.cancel_meeting(w.client, m3, note="Sick", confirm_late=True)
    found["N5 late"] = last(Topic.N5, w.expert)
    # N6 rejected meeting rescheduled by the expert (L11)
    m4 = w.book(hours_ahead=150)
    lifecycle.reject_meeting(w.expert, m4, reason=RejectReason.NOT_MY_FIELD)
    lifecycle.propose_alternative(w.expert, m4, start=at(160))
    found["N6 rejected new date"] = last(Topic.N6, w.client)
    # L18 lapsed, S3 outcome
    m6 = w.book(hours_ahead=30)
    lifecycle.lapse_meeting(m6, now=at(31))
    found["lapsed expert"] = last(Topic.LAPSED, w.expert)
    found["lapsed client"] = last(Topic.LAPSED, w.client)
    m7 = w.agreed(hours_ahead=72)
    for person in (w.client, w.expert):
        outcome.record_entry(person, m7, now=at(72))
    outcome.close_meeting(m7, now=at(72.5))
    outcome.submit_statement(w.client, m7, said="held", now=at(73))
    found["outcome expert"] = last(Topic.OUTCOME, w.expert)
    found["outcome client"] = last(Topic.OUTCOME, w.client)
    # N10: a message in a conversation, before conversations exist
    found["N10"] = queue(
        None, Topic.N10, w.client, organization=w.org, excerpt="Could we talk about the slides?", sender="Eve Expert"
    )
    return found


# --- every message in every language (D4) --------------------------------------------


def data_of(w) -> list[str]:
    """What a message quotes from people rather than from its templates."""
    names = [w.expert.name, w.colleague.name, w.client.name, w.guest.name, w.service.name, w.free_service.name]
    notes = ["Sorry, travelling", "I am so sorry.", "Sick", "Could we talk about the slides?"]
    return [*names, w.org.name, *notes]


def plain(message: Message) -> str:
    text = re.sub(r"<style.*?</style>|<title>.*?</title>", " ", message.html, flags=re.S)
    return html_lib.unescape(re.sub(r"<[^>]+>", "\n", text))


def english_fragments(english: str, data: list[str]) -> set[str]:
    """The sentences and phrases of an English rendering that come from the templates: what
    people wrote, links, keys, numbers and times are cut out; what is left is split at
    punctuation, and every piece of two words or more is kept."""
    for value in sorted(data, key=len, reverse=True):
        english = english.replace(value, "\0")
    english = re.sub(r"https?://\S+|\S*\d\S*", "\0", english)
    pieces = re.split(r"[\0\n.,:;!?“”„‘’()–-]+", english)
    return {p.strip() for p in pieces if len(re.findall(r"[A-Za-z]{2,}", p)) >= 2}


def test_n1_to_n10_every_topic_has_a_scene():
    """Every topic that is a message to a person, N1–N10 with lapsed (L18) and outcome (S3),
    has a template and is composed below."""
    assert set(TEMPLATES) == {t for t in Topic.values if not t.startswith("room.")}


@pytest.mark.parametrize("language", LANGUAGES[1:])
def test_n1_to_n10_d4_every_message_is_translated_whole(w, language):
    """Each message in nl, de, cs and sk differs from English in every part, and no English
    sentence or phrase of the templates is left in it."""
    found = scenes(w)
    assert {item.topic for item in found.values()} == set(TEMPLATES)
    data = data_of(w)
    for label, item in found.items():
        english = compose_in(item, "en")
        other = compose_in(item, language)
        assert other.language == language
        for part in ("subject", "title", "body", "text"):
            assert getattr(other, part) != getattr(english, part), (label, part)
        for mine, theirs in ((english.text, other.text), (plain(english), plain(other))):
            for part in (english.subject, english.title, english.body):
                mine += "\n" + part
            theirs = "\n".join((theirs, other.subject, other.title, other.body))
            left = [f for f in english_fragments(mine, data) if f in theirs]
            assert not left, (label, language, left)
        assert f'<html lang="{language}">' in other.html


@pytest.mark.parametrize("language", LANGUAGES)
def test_n1_to_n10_every_message_has_text_html_title_body_and_link(w, language):
    for label, item in scenes(w).items():
        message = compose_in(item, language)
        person = item.recipient or item.recipient_guest
        assert message.to == person.email
        assert message.subject and "\n" not in message.subject, label
        assert message.title and message.body, label
        assert message.text.strip() and "<" not in message.text, label
        assert message.html.lstrip().startswith("<!DOCTYPE html>") and "</html>" in message.html, label
        assert 'name="viewport"' in message.html and "max-width:560px" in message.html
        assert message.body.split()[0] in message.text, label  # the in-app body is the email's lead
        assert message.link.startswith(BASE + "/") and message.link in message.text, label
        assert f'href="{message.link}"' in message.html, label


def test_d4_catalogs_are_compiled_for_every_language():
    for language in LANGUAGES[1:]:
        with translation.override(language):
            assert gettext("Open the meeting") != "Open the meeting", language


def test_d4_an_unknown_language_falls_back_to_english(w):
    w.book(hours_ahead=50)
    item = last(Topic.N1, w.expert)
    message = compose_in(item, "xx")
    assert message.language == "en" and message.title.startswith("New meeting request")


# --- the recipient's time zone (D4, Q1) ----------------------------------------------


def test_d4_amsterdam_recipient_sees_cet_in_winter_and_cest_in_summer(w):
    w.book(start=datetime(2026, 3, 5, 9, 0, tzinfo=UTC))
    winter = compose_in(last(Topic.N1, w.expert), "en")
    assert "Thursday 5 March 2026, 10:00–10:30 CET" in winter.text
    assert winter.subject == "New meeting request: Expert advice with Cleo Client, Thu 5 Mar 10:00 CET"
    w.book(start=datetime(2026, 3, 30, 9, 0, tzinfo=UTC))
    summer = compose_in(last(Topic.N1, w.expert), "en")
    assert "Monday 30 March 2026, 11:00–11:30 CEST" in summer.text
    assert summer.subject.endswith("Mon 30 Mar 11:00 CEST")


def test_d4_dates_are_worded_in_the_recipients_language(w):
    w.agreed(start=datetime(2026, 3, 5, 9, 0, tzinfo=UTC))
    item = last(Topic.N4_CONFIRMED, w.client)
    expected = {
        "en": ("Thursday 5 March 2026, 10:00–10:30 CET", "Thu 5 Mar 10:00 CET"),
        "nl": ("donderdag 5 maart 2026, 10:00–10:30 CET", "do 5 mrt 10:00 CET"),
        "de": ("Donnerstag, 5. März 2026, 10:00–10:30 Uhr CET", "Do, 5. März, 10:00 Uhr CET"),
        "cs": ("čtvrtek 5. března 2026, 10:00–10:30 CET", "čt 5. 3. 10:00 CET"),
        "sk": ("štvrtok 5. 3. 2026, 10:00–10:30 CET", "št 5. 3. 10:00 CET"),
    }
    for language, (long, short) in expected.items():
        message = compose_in(item, language)
        assert long in message.text and long in message.html and long in message.body, language
        assert message.subject.endswith(short), (language, message.subject)


def test_d4_new_york_guest_sees_eastern_time_before_and_after_the_us_change(w):
    w.book(service=w.free_service, by=w.guest, start=datetime(2026, 3, 5, 15, 0, tzinfo=UTC))
    guest = compose_in(last(Topic.N2, w.guest), "en")
    assert "Thursday 5 March 2026, 10:00–10:15 EST" in guest.text
    assert guest.subject == "Meeting booked: Intro call with Eve Expert, Thu 5 Mar 10:00 EST"
    expert = compose_in(last(Topic.N2, w.expert), "en")
    assert "Thursday 5 March 2026, 16:00–16:15 CET" in expert.text
    w.book(service=w.free_service, by=w.guest, start=datetime(2026, 3, 12, 14, 0, tzinfo=UTC))
    after = compose_in(last(Topic.N2, w.guest), "en")
    assert "Thursday 12 March 2026, 10:00–10:15 EDT" in after.text  # New York moved on 8 March
    assert "15:00–15:15 CET" in compose_in(last(Topic.N2, w.expert), "en").text  # Amsterdam not yet


def test_d4_a_zone_without_an_abbreviation_shows_its_offset():
    moment = datetime(2026, 3, 5, 15, 0, tzinfo=UTC)
    assert zone_label(moment.astimezone(ZoneInfo("America/Sao_Paulo"))) == "UTC-03:00"
    assert zone_label(moment.astimezone(ZoneInfo("Asia/Kathmandu"))) == "UTC+05:45"
    assert zone_label(moment.astimezone(ZoneInfo("UTC"))) == "UTC"


def test_n3_time_options_are_listed_in_the_clients_zone(w):
    w.client.time_zone = "America/New_York"
    w.client.save()
    lifecycle.offer_time_options(
        w.expert,
        service=w.service,
        party=Party(client=w.client),
        options=[(datetime(2026, 3, 5, 15, 0, tzinfo=UTC), 30), (datetime(2026, 3, 6, 15, 0, tzinfo=UTC), 60)],
    )
    message = compose_in(last(Topic.N3, w.client), "en")
    assert "- Thursday 5 March 2026, 10:00–10:30 EST" in message.text
    assert "- Friday 6 March 2026, 10:00–11:00 EST" in message.text
    assert "offers several times to choose from" in message.body


# --- guests (B5, O3) -------------------------------------------------------------------


def test_n2_n6_n7_n8_b5_guest_gets_the_guest_key_and_signed_link_never_a_member_link(w):
    found = scenes(w)
    guest_items = [item for item in found.values() if item.recipient_guest_id]
    assert len(guest_items) >= 5
    for item in guest_items:
        meeting = item.meeting
        for language in LANGUAGES:
            message = compose_in(item, language)
            token = guest_links.link_token(meeting)
            if item.topic in (Topic.N7, Topic.N8):  # V2: the reminders lead to the room's join link
                assert message.link == f"{BASE}/join/{token}/"
            else:
                assert message.link == f"{BASE}/g/{token}/"
            assert guest_links.meeting_for_link(token).pk == meeting.pk
            assert meeting.guest_key in message.text and meeting.guest_key in message.html
            assert "/orgs/" not in message.text + message.html + message.link
            assert f"/o/{w.org.slug}/" not in message.text + message.html + message.link
    member = compose_in(found["N2 expert"], "en")
    assert member.link == f"{BASE}/o/{w.org.slug}/meetings/{found['N2 expert'].meeting_id}/"
    assert found["N2 expert"].meeting.guest_key not in member.text + member.html
    client = compose_in(found["N4 confirmed client"], "en")
    assert found["N4 confirmed client"].meeting.guest_key not in client.text + client.html


def test_b5_guest_is_told_how_to_enter_with_the_key(w):
    w.book(service=w.free_service, by=w.guest, hours_ahead=60)
    meeting = Meeting.objects.get(guest=w.guest)
    message = compose_in(last(Topic.N2, w.guest), "nl")
    assert f"Uw toegangscode is {meeting.guest_key}." in message.text


def test_n1_link_starts_with_the_configured_base_url(w, settings):
    settings.PARLOUR_BASE_URL = "https://parlour.example/"
    meeting = w.book(hours_ahead=50)
    message = compose_in(last(Topic.N1, w.expert), "en")
    assert message.link == f"https://parlour.example/o/{w.org.slug}/meetings/{meeting.pk}/"


# --- what happened, and why -----------------------------------------------------------


def test_n5_after_l8_states_the_late_charge_and_the_experts_share(w):
    meeting = w.agreed(hours_ahead=24)
    lifecycle.cancel_meeting(w.client, meeting, note="Sick", confirm_late=True)
    item = last(Topic.N5, w.expert)
    message = compose_in(item, "en")
    assert message.title == "Meeting cancelled by Cleo Client"
    charge = "The cancellation came late: Cleo Client is charged 50 credits for it. You receive 40 credits of it."
    assert charge in message.text and charge in message.body
    assert "Reason given by Cleo Client: “Sick”" in message.text
    assert "50 credits" in html_lib.unescape(message.html)
    assert "50 kreditů" in compose_in(item, "cs").body and "40 kreditů" in compose_in(item, "cs").body
    assert "50 Credits" in compose_in(item, "de").body


def test_n5_l9_states_the_experts_reason_and_that_credits_came_back(w):
    meeting = w.agreed(hours_ahead=100)
    lifecycle.cancel_meeting(w.expert, meeting, reason=ExpertCancelReason.SCHEDULE_CONFLICT)
    message = compose_in(last(Topic.N5, w.client), "en")
    assert f"Reason: {ExpertCancelReason.SCHEDULE_CONFLICT.label}" in message.text
    assert "All credits for the meeting have been returned to you." in message.text
    assert "Důvod: Kolize v mém rozvrhu" in compose_in(last(Topic.N5, w.client), "cs").body


def test_n4_rejected_states_the_reason_label_and_the_note(w):
    meeting = w.book(hours_ahead=50)
    lifecycle.reject_meeting(w.expert, meeting, reason=RejectReason.NOT_MY_FIELD, note="Try Carl.")
    item = last(Topic.N4_REJECTED, w.client)
    message = compose_in(item, "en")
    assert message.title == "Meeting rejected by Eve Expert"
    assert f"Reason: {RejectReason.NOT_MY_FIELD.label}" in message.text
    assert f"Reason: {RejectReason.NOT_MY_FIELD.label}" in message.body
    assert "Message from Eve Expert: “Try Carl.”" in message.text
    assert "The credits held for it have been returned to you." in message.text
    assert "Reden: Het onderwerp valt buiten mijn vakgebied" in compose_in(item, "nl").text
    assert "Grund: Das Thema liegt außerhalb meines Fachgebiets" in compose_in(item, "de").text


def test_n4_every_reason_of_the_lists_has_its_label():
    """The lists of reasons.py, worded the same in English, so each code reads as its label."""
    for reasons in (RejectReason, ExpertCancelReason):
        for reason in reasons:
            english = REASON_LABELS[reason.value]
            assert english == reason.label
            for language in LANGUAGES[1:]:
                with translation.override(language):
                    # D4: the label is translated, and says what the mails say
                    assert gettext(english) != english and str(reason.label) == gettext(english), (reason, language)


def test_n6_reassigned_names_both_experts_to_everyone_told(w):
    """L15: the expert it was taken from, the one it went to and the client all read both
    names; the in-app body names the other expert (and both, for the client)."""
    meeting = w.agreed(hours_ahead=100)
    lifecycle.reassign_meeting(w.admin, meeting, expert=w.colleague)
    for person, named in (
        (w.expert, ["Carl Colleague"]),
        (w.colleague, ["Eve Expert"]),
        (w.client, ["Eve Expert", "Carl Colleague"]),
    ):
        for language in LANGUAGES:
            message = compose_in(last(Topic.N6, person), language)
            assert "Eve Expert" in message.text and "Carl Colleague" in message.text, (person, language)
            assert all(name in message.body for name in named), (person, language)
    assert compose_in(last(Topic.N6, w.client), "en").title == "Meeting reassigned to Carl Colleague"


def test_n6_l10_names_the_new_date_and_the_date_that_stands_until_then(w):
    meeting = w.agreed(start=datetime(2026, 3, 5, 9, 0, tzinfo=UTC))
    lifecycle.propose_alternative(w.expert, meeting, start=datetime(2026, 3, 6, 13, 0, tzinfo=UTC))
    message = compose_in(last(Topic.N6, w.client), "en")
    assert message.title == "Agreed meeting rescheduled by Eve Expert"
    assert "Eve Expert proposes a new date for the meeting “Expert advice”: Friday 6 March 2026, 14:00–14:30 CET" in (
        message.body
    )
    assert "stays on its current date: Thursday 5 March 2026, 10:00–10:30 CET." in message.text
    assert message.subject.endswith("Fri 6 Mar 14:00 CET")


def test_n6_l16_tells_what_the_time_was_before(w):
    meeting = w.book(service=w.free_service, start=datetime(2026, 3, 5, 9, 0, tzinfo=UTC))
    lifecycle.change_meeting_time(w.client, meeting, start=datetime(2026, 3, 5, 11, 0, tzinfo=UTC), length=30)
    expert = compose_in(last(Topic.N6, w.expert), "en")
    assert expert.title == "Meeting changed by Cleo Client"
    assert "it now takes place on Thursday 5 March 2026, 12:00–12:30 CET" in expert.body
    assert "Before: Thursday 5 March 2026, 10:00–10:30 CET" in expert.text
    mine = compose_in(last(Topic.N6, w.client), "en")
    assert mine.title == "Meeting changed" and mine.body.startswith("You changed the meeting")


def test_n9_asks_the_client_with_the_deadline_in_their_zone(w):
    w.org.reviews_enabled = True
    w.org.save()
    meeting = w.agreed(start=datetime(2026, 3, 5, 9, 0, tzinfo=UTC))
    item = queue(meeting, Topic.N9, w.client, deadline=(meeting.end + timedelta(hours=168)).isoformat())
    message = compose_in(item, "en")
    assert message.title == "How did your meeting go?"
    assert "Please answer by Thursday 12 March 2026 10:30 CET" in message.text
    assert "write a review of Eve Expert" in message.text


def test_n10_new_message_quotes_the_excerpt(w):
    item = queue(
        None, Topic.N10, w.client, organization=w.org, excerpt="Could we talk about the slides?", sender="Eve Expert"
    )
    message = compose_in(item, "de")
    assert message.title == "Neue Nachricht von Eve Expert"
    assert "„Could we talk about the slides?“" in message.body
    assert message.attachments == ()


def test_html_escapes_what_people_wrote_and_text_keeps_it(w):
    meeting = w.book(hours_ahead=50)
    lifecycle.reject_meeting(w.expert, meeting, reason=RejectReason.OTHER, note="<b>no</b> & more")
    message = compose_in(last(Topic.N4_REJECTED, w.client), "en")
    assert "<b>no</b> & more" in message.text
    assert "<b>no</b>" not in message.html and "&lt;b&gt;no&lt;/b&gt; &amp; more" in message.html


def test_room_commands_and_items_without_a_person_are_not_messages(w):
    w.book(service=w.free_service, hours_ahead=60)
    room = OutboxItem.objects.get(topic="room.create")
    assert compose(room) is None


# --- calendar requests (K2) --------------------------------------------------------------


def method_of(message: Message) -> str | None:
    if not message.attachments:
        return None
    ((name, content, content_type),) = message.attachments
    assert name == "invite.ics"
    calendar = Calendar.from_ical(content)
    method = str(calendar["METHOD"])
    assert content_type == (ICS_CANCEL if method == "CANCEL" else ICS_REQUEST)
    (event,) = calendar.walk("VEVENT")
    if member_link := re.search(r"/meetings/(\d+)", message.link):
        assert str(event["UID"]).startswith(f"meeting-{member_link[1]}@")
    else:
        assert "/g/" in message.link or "/join/" in message.link
    return method


def test_k2_n2_n4_n5_n6_n7_n8_lapsed_carry_the_right_calendar_method(w):
    found = scenes(w)
    expected = {
        "N1": None,
        "N1 new date": None,
        "N2 expert": "REQUEST",
        "N2 guest": "REQUEST",
        "N3": None,
        "N3 options": None,
        "N4 confirmed expert": "REQUEST",
        "N4 rejected": None,
        "N4 rejected new date": None,
        "N5 by expert": "CANCEL",
        "N5 late": "CANCEL",
        "N6 reassigned new": "REQUEST",
        "N6 reassigned guest": "REQUEST",
        "N6 reassigned previous": "CANCEL",
        "N6 rejected new date": None,  # a rejected meeting is in no calendar until it is agreed
        "N7 client": "REQUEST",
        "N7 expert": "REQUEST",
        "N8 client": "REQUEST",
        "N9": None,
        "N10": None,
        "lapsed expert": "CANCEL",
        "lapsed client": "CANCEL",
        "outcome client": None,
    }
    for label, method in expected.items():
        assert method_of(compose_in(found[label], "en")) == method, label


def test_k2_the_expert_a_meeting_was_taken_from_alone_gets_the_cancellation(w):
    meeting = w.agreed(hours_ahead=100)
    lifecycle.reassign_meeting(w.expert, meeting, expert=w.colleague)
    message = compose_in(last(Topic.N6, w.expert), "en")
    ((_, content, _),) = message.attachments
    (event,) = Calendar.from_ical(content).walk("VEVENT")
    attendees = event.get("ATTENDEE")
    attendees = attendees if isinstance(attendees, list) else [attendees]
    assert [str(a).lower() for a in attendees] == [f"mailto:{w.expert.email}"]
    assert "removes the meeting from your calendar" in message.text


def test_k2_n4_confirmed_invitation_is_the_agreed_meeting(w):
    meeting = w.agreed(start=datetime(2026, 3, 5, 9, 0, tzinfo=UTC))
    message = compose_in(last(Topic.N4_CONFIRMED, w.client), "en")
    ((_, content, _),) = message.attachments
    (event,) = Calendar.from_ical(content).walk("VEVENT")
    assert event.decoded("DTSTART") == meeting.start
    assert str(event["STATUS"]) == "CONFIRMED"
    assert "The attached invitation adds the meeting to your calendar" in message.text


def test_outcome_s3_tells_each_side_what_it_meant_for_their_credits(w):
    meeting = w.agreed(hours_ahead=72)
    for person in (w.client, w.expert):
        outcome.record_entry(person, meeting, now=at(72))
    outcome.close_meeting(meeting, now=at(72.5))
    outcome.submit_statement(w.client, meeting, said="held", now=at(73))
    client = compose_in(last(Topic.OUTCOME, w.client), "en")
    assert "has been recorded as held" in client.body
    assert "100 credits have been deducted for the meeting." in client.text
    expert = compose_in(last(Topic.OUTCOME, w.expert), "en")
    assert "You have been paid 80 credits for the meeting." in expert.text


def test_lapsed_l18_tells_both_sides_and_returns_the_clients_credits(w):
    meeting = w.book(hours_ahead=30)
    lifecycle.lapse_meeting(meeting, now=at(31))
    client = compose_in(last(Topic.LAPSED, w.client), "en")
    assert client.title == "Meeting lapsed without an answer"
    assert "The credits held for it have been returned to you." in client.text
    expert = compose_in(last(Topic.LAPSED, w.expert), "sk")
    assert "nebolo pred svojím začiatkom potvrdené" in expert.body
