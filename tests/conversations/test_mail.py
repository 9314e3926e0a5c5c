"""N10 through a real SMTP server on loopback: a burst of messages to an offline guest makes
one mail, in the guest's language, whose link opens their conversation without an account;
once it has left, the next message while the guest is away makes another."""

from urllib.parse import urlparse

import pytest
from django.test import Client

from parlour.conversations import access, domain
from parlour.notifications.delivery import deliver_due
from tests.meetings.checks import at
from tests.notifications.smtp import mail_server


@pytest.fixture
def smtp():
    with mail_server() as server:
        yield server


def new_message_mails(smtp, address: str) -> list:
    return [r for r in smtp.to(address) if str(r.message["Subject"]).startswith("Nieuw bericht")]


def test_n10_an_offline_guest_gets_one_mail_with_their_link(w, smtp, frozen_clock):
    w.guest.language = "nl"
    w.guest.save()
    conversation = access.of_meeting(w.book(service=w.free_service, by=w.guest, hours_ahead=24))
    frozen_clock.move_to(at(0.1))
    domain.write_message(w.expert, conversation, "Neem uw cv mee.")
    frozen_clock.move_to(at(0.2))
    domain.write_message(w.expert, conversation, "En een pen.")
    deliver_due(at(0.3), worker="test")
    mails = new_message_mails(smtp, w.guest.email)
    assert len(mails) == 1
    body = mails[0].message.get_body(("plain",)).get_content()
    assert "Eve Expert" in body and "Neem uw cv mee." in body
    link = next(word for word in body.split() if "/conversation/" in word)

    frozen_clock.move_to(at(0.4))
    page = Client().get(urlparse(link).path)  # no account, no session: the link is enough
    assert page.status_code == 200 and "En een pen." in page.content.decode()

    frozen_clock.move_to(at(1))  # the guest has left the page
    domain.write_message(w.expert, conversation, "Tot morgen.")
    deliver_due(at(1.1), worker="test")
    assert len(new_message_mails(smtp, w.guest.email)) == 2
