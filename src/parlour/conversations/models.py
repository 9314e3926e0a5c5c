"""Conversations (SPEC §11, X1–X3): one thread per party (a guest or a client) and
organization, with its member participants, its messages and who has read what.

Only ``parlour.conversations.domain`` writes these rows; everything else reads.

The meetings of a conversation are not stored: they are every meeting of its party in its
organization (``Conversation.meetings``), so a meeting belongs to it from the moment it
exists, whoever made it, and can never belong to another one (X1)."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from parlour.accounts.models import Guest, Organization, User
from parlour.catalog.models import Service


class Kind(models.TextChoices):
    """How the conversation began: a party's self-booking opens one for the service's members
    (``service``); a member starting one with a client is one-to-one (``direct``). X3's
    assignment treats them differently."""

    SERVICE = "service", "Opened by a booking, for the service's members"
    DIRECT = "direct", "One-to-one, started by a member"


class Conversation(models.Model):
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="conversations")
    service = models.ForeignKey(Service, null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations")
    client = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.CASCADE, related_name="conversations_as_client"
    )
    guest = models.ForeignKey(Guest, null=True, blank=True, on_delete=models.CASCADE, related_name="conversations")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.SERVICE)
    assigned_to = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="conversations_assigned"
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # The time of the newest message (or the creation): the lists' order.
    last_message_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-last_message_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(client__isnull=False, guest__isnull=True) | Q(client__isnull=True, guest__isnull=False),
                name="conversation_has_client_or_guest",
            ),
            # X1: one conversation per party and organization, not one per meeting.
            models.UniqueConstraint(
                fields=["organization", "guest"], condition=Q(guest__isnull=False), name="one_conversation_per_guest"
            ),
            models.UniqueConstraint(
                fields=["organization", "client"],
                condition=Q(client__isnull=False),
                name="one_conversation_per_client",
            ),
        ]
        indexes = [models.Index(fields=["organization", "-last_message_at"])]

    def __str__(self) -> str:
        return f"Conversation with {self.party_name} ({self.organization})"

    @property
    def party(self) -> User | Guest:
        return self.client if self.client_id else self.guest

    @property
    def party_name(self) -> str:
        return self.party.name

    @property
    def party_email(self) -> str:
        return self.party.email

    @property
    def meetings(self):
        """Every meeting of the party in the organization, newest first (X1)."""
        from parlour.meetings.models import Meeting

        party = {"client_id": self.client_id} if self.client_id else {"guest_id": self.guest_id}
        return Meeting.objects.filter(organization_id=self.organization_id, **party)


class Participant(models.Model):
    """A member taking part in the conversation (X3): told of the party's messages (N10)."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="conversation_participations")
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [models.UniqueConstraint(fields=["conversation", "user"], name="one_participant_per_member")]

    def __str__(self) -> str:
        return f"{self.user.name} in {self.conversation}"


class Author(models.TextChoices):
    MEMBER = "member", "Member"
    PARTY = "party", "Client or guest"


class Message(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    side = models.CharField(max_length=10, choices=Author.choices)
    author = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    author_guest = models.ForeignKey(Guest, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField()
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["conversation", "at"])]

    def __str__(self) -> str:
        return f"{self.author_name}: {self.text[:40]}"

    @property
    def author_name(self) -> str:
        if self.author_id:
            return self.author.name
        if self.author_guest_id:
            return self.author_guest.name
        return ""


class Presence(models.Model):
    """Where one person is in one conversation: the last message time they have read (unread
    counts) and when a page of theirs last showed it (online, N10). Any viewer may have one:
    a participant, an admin, a colleague, the client or the guest."""

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="presences")
    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    guest = models.ForeignKey(Guest, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    last_read_at = models.DateTimeField(null=True, blank=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False, guest__isnull=True) | Q(user__isnull=True, guest__isnull=False),
                name="presence_of_user_or_guest",
            ),
            models.UniqueConstraint(
                fields=["conversation", "user"], condition=Q(user__isnull=False), name="one_presence_per_user"
            ),
            models.UniqueConstraint(
                fields=["conversation", "guest"], condition=Q(guest__isnull=False), name="one_presence_per_guest"
            ),
        ]

    def __str__(self) -> str:
        return f"Presence in {self.conversation_id}"
