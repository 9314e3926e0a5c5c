"""Keyset paging, newest first (D1, C2).

A cursor is the (time, id) of the last row a page showed, wrapped so that callers treat it
as opaque. The next page is everything strictly after it in (time desc, id desc) order, so a
row added or removed between two fetches never shifts what the next page holds: no row is
shown twice and none is skipped."""

import base64
import binascii
import json
from datetime import datetime

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from parlour.core.errors import DomainError


def encode_cursor(at: datetime, pk: int) -> str:
    raw = json.dumps([at.isoformat(), pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, pk = json.loads(raw)
        at = datetime.fromisoformat(at)
        if at.tzinfo is None or not isinstance(pk, int) or isinstance(pk, bool):
            raise ValueError
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise DomainError(
            "invalid_input", _("The cursor is not one this API gave out; start from the first page."), "Q2"
        ) from None
    return at, pk


def keyset_page(queryset: QuerySet, field: str, cursor: str | None, limit: int) -> tuple[list, str | None]:
    """One page of ``queryset`` in (``field`` desc, id desc) order, and the cursor of the next
    page (None when this is the last)."""
    if cursor:
        at, pk = decode_cursor(cursor)
        queryset = queryset.filter(Q(**{f"{field}__lt": at}) | Q(**{field: at, "pk__lt": pk}))
    rows = list(queryset.order_by(f"-{field}", "-pk")[: limit + 1])
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    return rows, encode_cursor(getattr(last, field), last.pk)
