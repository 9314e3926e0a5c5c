"""Every page in the viewer's language and time zone (D4, Q1).

A signed-in person's own settings count; a visitor's time zone is the one their browser
reported (the ``tz`` cookie, set by the pages' script) and their language the browser's
(Django's LocaleMiddleware, which runs before this). The same holds for the API under the
session; a caller with an API token gets their language when the token is checked."""

import zoneinfo

from django.conf import settings
from django.utils import timezone, translation

TIME_ZONE_COOKIE = "tz"
LANGUAGES = {code for code, _name in settings.LANGUAGES}


def zone_named(name: str | None) -> zoneinfo.ZoneInfo | None:
    if not name:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        return None


class PersonalSettingsMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        zone = None
        if user is not None and user.is_authenticated:
            zone = zone_named(user.time_zone)
            if user.language in LANGUAGES:
                translation.activate(user.language)
                request.LANGUAGE_CODE = user.language
        zone = zone or zone_named(request.COOKIES.get(TIME_ZONE_COOKIE)) or zoneinfo.ZoneInfo("UTC")
        timezone.activate(zone)
        request.time_zone = zone
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
