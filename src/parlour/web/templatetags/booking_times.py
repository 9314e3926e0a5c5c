"""``{% when start end %}``: a meeting's or slot's time as the booking pages show it, on the
active zone's clock: "Monday June 3, 2030, 12:00–12:30 CEST" (the weekday and date in the
active language's format).

Django's ``date`` filter leaves the zone's abbreviation out for an hour that happens twice
(the autumn change), where it is the only thing telling the two apart (E4); this asks the
zone itself."""

from datetime import datetime

from django import template
from django.utils import formats, timezone

register = template.Library()


@register.simple_tag
def when(start: datetime, end: datetime | None = None) -> str:
    if start is None:
        return ""
    local = timezone.localtime(start)
    text = f"{formats.date_format(local, 'l')} {formats.date_format(local, 'DATE_FORMAT')}, {local:%H:%M}"
    if end is not None:
        text += f"–{timezone.localtime(end):%H:%M}"
    return f"{text} {local.tzname() or ''}".strip()
