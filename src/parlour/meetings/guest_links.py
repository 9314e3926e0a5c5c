"""Signed guest links (B5, O3): how a guest reaches their own meeting from their email
without an account.

A link's token is the meeting's id and its guest key, signed with the site's secret under a
salt of its own (so no other signed value of Parlour can be passed off as a link). It does
not expire: it opens the meeting for as long as the meeting exists, and what can be done
there is decided by the lifecycle's rules. Giving the meeting a new guest key makes every
link sent before it stop working. Anything wrong with a token — forged, truncated, for
another meeting, for a meeting without a guest, or whose key has changed — is "not found"."""

from django.core import signing

from parlour.core.errors import NotFound

from .models import Meeting

SALT = "parlour.meetings.guest_link"


def _signer() -> signing.Signer:
    return signing.Signer(salt=SALT)


def link_token(meeting: Meeting) -> str:
    """The token of the guest link of ``meeting`` (a meeting with a guest)."""
    if meeting.guest_id is None:
        raise ValueError("only a meeting with a guest has a guest link")
    return _signer().sign_object([meeting.pk, meeting.guest_key])


def meeting_for_link(token: str) -> Meeting:
    """The meeting a valid token names; ``NotFound`` for anything else."""
    try:
        meeting_id, guest_key = _signer().unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError, UnicodeError):
        raise NotFound("meeting") from None
    if not isinstance(meeting_id, int) or isinstance(meeting_id, bool) or not isinstance(guest_key, str):
        raise NotFound("meeting")
    meeting = (
        Meeting.objects.filter(pk=meeting_id, guest_key=guest_key, guest__isnull=False)
        .select_related("organization", "service", "expert", "guest")
        .first()
    )
    if meeting is None:
        raise NotFound("meeting")
    return meeting
