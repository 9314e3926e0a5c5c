"""K3: every person's private calendar feed, reached by an unguessable token and revocable.
Only a hash of the token is kept; revoking it and making a new one changes the address."""

import hashlib
import secrets

from django.db import models
from django.utils import timezone

from parlour.accounts.models import User


class CalendarFeed(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="calendar_feeds")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Calendar feed of {self.user} ({'revoked' if self.revoked_at else 'active'})"

    @staticmethod
    def hash(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def issue(cls, user: User) -> tuple["CalendarFeed", str]:
        token = secrets.token_urlsafe(32)
        return cls.objects.create(user=user, digest=cls.hash(token)), token
