"""The caller's in-app notification list (SPEC §9): the messages delivered to them, newest
first, read and unread. Every query starts from the caller's own rows (STYLE rule 6, O3):
another person's notification answers "not found", exactly like one that does not exist."""

from datetime import datetime

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from parlour.core import clock
from parlour.core.errors import NotFound
from parlour.notifications.models import Notification

from .lookups import viewer
from .paging import keyset_page
from .schemas import ERRORS, MAX_ID, ErrorOut, PageQuery

router = Router(tags=["notifications"])


class NotificationQuery(PageQuery):
    unread: bool = Field(False, description="Only the notifications not read yet.")


class NotificationOut(Schema):
    id: int
    topic: str = Field(description="N1–N10, lapsed or outcome.")
    title: str
    body: str
    link: str = Field(description="Opens the meeting the notification is about.")
    organization: str = Field(description="The organization's slug.")
    meeting_id: int | None
    created_at: datetime
    read: bool
    read_at: datetime | None


class NotificationPage(Schema):
    items: list[NotificationOut]
    next_cursor: str | None


class UnreadCountOut(Schema):
    unread: int


class ReadAllOut(Schema):
    marked: int = Field(description="How many were unread and are now read.")
    unread: int


def _mine(request: HttpRequest) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=viewer(request))


def _one(request: HttpRequest, notification_id: int) -> Notification:
    row = None
    if notification_id <= MAX_ID:
        row = _mine(request).select_related("organization").filter(pk=notification_id).first()
    if row is None:
        raise NotFound("notification")
    return row


def _row(notification: Notification) -> dict:
    return {
        "id": notification.pk,
        "topic": notification.topic,
        "title": notification.title,
        "body": notification.body,
        "link": notification.link,
        "organization": notification.organization.slug,
        "meeting_id": notification.meeting_id,
        "created_at": notification.created_at,
        "read": notification.read_at is not None,
        "read_at": notification.read_at,
    }


@router.get("/me/notifications", response={200: NotificationPage, ERRORS: ErrorOut})
def list_notifications(request: HttpRequest, query: Query[NotificationQuery]):
    """The caller's notifications, newest first, in pages of ``limit``; ``unread=true`` for the
    unread ones only. Pass ``next_cursor`` back as ``cursor`` for the next page."""
    rows = _mine(request).select_related("organization")
    if query.unread:
        rows = rows.filter(read_at__isnull=True)
    page, next_cursor = keyset_page(rows, "created_at", query.cursor, query.limit)
    return {"items": [_row(n) for n in page], "next_cursor": next_cursor}


@router.get("/me/notifications/unread-count", response={200: UnreadCountOut, ERRORS: ErrorOut})
def unread_notifications(request: HttpRequest):
    """How many of the caller's notifications are unread (the badge)."""
    return {"unread": _mine(request).filter(read_at__isnull=True).count()}


@router.post("/me/notifications/read-all", response={200: ReadAllOut, ERRORS: ErrorOut})
def read_all_notifications(request: HttpRequest):
    """Mark every unread notification of the caller read."""
    marked = _mine(request).filter(read_at__isnull=True).update(read_at=clock.now())
    return {"marked": marked, "unread": 0}


@router.post("/me/notifications/{int:notification_id}/read", response={200: NotificationOut, ERRORS: ErrorOut})
def read_notification(request: HttpRequest, notification_id: int):
    """Mark one notification read. Reading it again keeps the time it was first read."""
    notification = _one(request, notification_id)
    if notification.read_at is None:
        notification.read_at = clock.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=notification.read_at)
    return _row(notification)
