"""The demo's conversations (I4, X1–X3): one per party that booked, with messages, some
assigned and one waiting for someone to take it."""

from datetime import UTC, datetime

from parlour import demo
from parlour.conversations.models import Conversation, Message

NOW = datetime(2030, 3, 27, 14, 37, tzinfo=UTC)


def test_x1_x3_the_demo_has_conversations_with_messages_one_unassigned(db):
    loaded = demo.load(now=NOW)
    conversations = Conversation.objects.filter(organization=loaded.organization)
    parties = {c.party_name for c in conversations}
    assert {"Cleo Client", "Chris Customer", "Gus Guest"} <= parties
    with_messages = [c for c in conversations if c.messages.exists()]
    assert len(with_messages) >= 3
    assert any(c.assigned_to is None and c.messages.exists() for c in conversations)
    assert {c.assigned_to.name for c in conversations if c.assigned_to} == {"Eve Evans", "Tom Baker"}
    assert not Message.objects.filter(at__gt=NOW).exists()
