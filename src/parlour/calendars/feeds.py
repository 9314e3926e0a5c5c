"""K3: every person's private calendar feed: an address with an unguessable token that a
calendar program subscribes to, listing the person's meetings in every organization, as
expert or as client.

Only a hash of the token is stored (``CalendarFeed``); the address is shown once, when it
is made. A person has at most one working feed: making a new one revokes the old ("rotate"),
and revoking ends it. An unknown, revoked or inactive person's token is "not found" (O3),
exactly like one that never existed; a feed never shows anything of another person.

What the feed holds, from 90 days ago on (so it stays small however long the history):

- meetings agreed, awaiting approval or planning (TENTATIVE until agreed);
- meetings that took place or were missed or failed, so that a refresh does not take past
  meetings out of the person's calendar;
- meetings cancelled or rejected within the last 30 days, as STATUS:CANCELLED, so that
  programs that already show them take them away; older ones are left out.
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q, QuerySet

from parlour.accounts.models import User
from parlour.core import clock
from parlour.core.errors import NotFound
from parlour.meetings.models import ENDED_STATUSES, OPEN_STATUSES, Meeting, Status

from .models import CalendarFeed

FEED_PAST = timedelta(days=90)
CANCELLED_KEPT = timedelta(days=30)
SHOWN_STATUSES = (*OPEN_STATUSES, *ENDED_STATUSES)
GONE_STATUSES = (Status.CANCELLED, Status.REJECTED)


def issue_feed(user: User) -> str:
    """A new feed token for ``user``; the previous working feed, if any, stops working at
    once ("rotate"). The token is returned here only: only its hash is kept."""
    with transaction.atomic():
        # Two requests at once still leave one working feed: the second waits for the first.
        User.objects.select_for_update().filter(pk=user.pk).first()
        revoke_feeds(user)
        _, token = CalendarFeed.issue(user)
    return token


def revoke_feeds(user: User) -> int:
    """Every working feed of ``user`` stops working; how many did. Doing it twice is harmless."""
    return CalendarFeed.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=clock.now())


def feed_meetings(token: str, *, now: datetime | None = None) -> tuple[User, QuerySet[Meeting]]:
    """The person a working feed token belongs to and the meetings their feed shows, soonest
    first. ``NotFound`` for a token that is unknown or revoked, or whose person is inactive.
    One query for the feed, one (when evaluated) for the meetings however many there are."""
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(digest=CalendarFeed.hash(token), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if feed is None:
        raise NotFound("calendar feed")
    return feed.user, _meetings_of(feed.user, now or clock.now())


def _meetings_of(user: User, now: datetime) -> QuerySet[Meeting]:
    shown = Q(status__in=SHOWN_STATUSES) | Q(status__in=GONE_STATUSES, updated_at__gte=now - CANCELLED_KEPT)
    return (
        Meeting.objects.filter(Q(expert=user) | Q(client=user))
        .filter(start__gte=now - FEED_PAST)
        .filter(shown)
        .select_related("organization", "service", "expert", "client", "guest")
        .order_by("start", "id")
    )
