"""Guests (SPEC §0, B1): a client without an account, known to one organization by their
email address. Booking again with the same address (in any letter case) is the same guest,
so their upcoming meetings are counted together (O5) and their conversation is one (X1)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from parlour.core.errors import DomainError

from .models import Guest, Organization, validate_time_zone

MAX_NAME = 200
MAX_EMAIL = 254
MAX_PHONE = 40
PHONE_CHARACTERS = set("0123456789 +-()./")


def _refuse(field: str, message: str) -> DomainError:
    return DomainError("invalid_guest", message, "B1", details={"errors": [{"field": field, "message": message}]})


def _checked(name: str, email: str, phone: str, time_zone: str | None) -> tuple[str, str, str, str | None]:
    name, email, phone = (name or "").strip(), (email or "").strip(), (phone or "").strip()
    if not name or len(name) > MAX_NAME:
        raise _refuse("name", _("Give your name (at most %(count)s characters).") % {"count": MAX_NAME})
    try:
        if len(email) > MAX_EMAIL:
            raise ValidationError("too long")
        validate_email(email)
    except ValidationError:
        raise _refuse("email", _("Give a valid email address, e.g. name@example.org.")) from None
    if len(phone) > MAX_PHONE or not set(phone) <= PHONE_CHARACTERS or (phone and not any(c.isdigit() for c in phone)):
        raise _refuse(
            "phone",
            _("A phone number has digits, spaces and + - ( ) only, at most %(count)s characters.")
            % {"count": MAX_PHONE},
        )
    if time_zone is not None:
        time_zone = time_zone.strip()
        try:
            validate_time_zone(time_zone)
        except ValidationError:
            raise _refuse(
                "time_zone", _("%(zone)s is not a known time zone (e.g. Europe/Amsterdam).") % {"zone": repr(time_zone)}
            ) from None
    return name, email, phone, time_zone


def guest_for_booking(
    organization: Organization,
    name: str,
    email: str,
    phone: str = "",
    time_zone: str | None = None,
    language: str | None = None,
    *,
    by_member: bool = False,
) -> Guest:
    """The organization's guest with this email address (compared without regard to letter
    case), made if there is none. Bad input raises ``DomainError`` ``invalid_guest``.

    Whoever books as a guest has only typed the address, so a self-booking never changes a
    guest that exists: their name, time zone and language stay, and a phone number is only
    added where there was none (O3). A member making a proposal (``by_member``) updates the
    name, and the phone number, time zone and language (one of Parlour's, else ignored)
    when given.

    Call it inside the booking's transaction, so that a refused booking leaves no guest
    behind."""
    name, email, phone, time_zone = _checked(name, email, phone, time_zone)
    if language not in {code for code, _label in settings.LANGUAGES}:
        language = None
    guest = Guest.objects.select_for_update().filter(organization=organization, email__iexact=email).first()
    if guest is None:
        try:
            with transaction.atomic():  # a savepoint: a racing first booking of the address wins
                return Guest.objects.create(
                    organization=organization,
                    name=name,
                    email=email,
                    phone=phone,
                    time_zone=time_zone or "UTC",
                    language=language or settings.LANGUAGE_CODE,
                )
        except IntegrityError:
            guest = Guest.objects.select_for_update().get(organization=organization, email__iexact=email)
    if not by_member:
        changed = {"phone": phone} if phone and not guest.phone else {}
    else:
        changed = {"name": name}
        if phone:
            changed["phone"] = phone
        if time_zone:
            changed["time_zone"] = time_zone
        if language:
            changed["language"] = language
    changed = {key: value for key, value in changed.items() if getattr(guest, key) != value}
    if changed:
        for key, value in changed.items():
            setattr(guest, key, value)
        guest.save(update_fields=list(changed))
    return guest
