"""The one error a refused action raises.

Every refusal names the spec rule that decided it and says, in words a person understands,
what was wrong. The API turns it into ``{"code", "message", "rule"}`` with ``status``; the
web pages show ``message``. Messages are written when the refusal is raised, in the language
active for the request (D4); ``code`` and ``rule`` never change with it."""

from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    status = 400

    def __init__(
        self,
        code: str,
        message: str,
        rule: str = "",
        *,
        status: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.rule = rule
        if status is not None:
            self.status = status
        self.details = details or {}

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"code": self.code, "message": self.message, "rule": self.rule}
        if self.details:
            body["details"] = self.details
        return body

    def __repr__(self) -> str:
        return f"DomainError({self.code!r}, rule={self.rule!r})"


# "No such …" for each thing looked up: a whole sentence, since the word's gender changes it.
NOT_FOUND = {
    "calendar feed": _("No such calendar feed."),
    "client": _("No such client."),
    "conversation": _("No such conversation."),
    "expert": _("No such expert."),
    "guest": _("No such guest."),
    "meeting": _("No such meeting."),
    "member": _("No such member."),
    "notification": _("No such notification."),
    "object": _("No such object."),
    "organization": _("No such organization."),
    "person": _("No such person."),
    "service": _("No such service."),
    "skill": _("No such skill."),
    "time off": _("No such time off."),
    "token": _("No such token."),
}


class NotFound(DomainError):
    """What one may not see answers exactly like what does not exist (O3)."""

    status = 404

    def __init__(self, what: str = "object") -> None:
        message = NOT_FOUND.get(what)
        text = str(message) if message is not None else gettext("No such %(what)s.") % {"what": what}
        super().__init__("not_found", text, "O3")


class Forbidden(DomainError):
    """The thing is visible but this person may not do this to it."""

    status = 403


class Conflict(DomainError):
    """The action needs a knowing second confirmation (L8, L9, L17) or lost a race."""

    status = 409
