"""The one error a refused action raises.

Every refusal names the spec rule that decided it and says, in words a person understands,
what was wrong. The API turns it into ``{"code", "message", "rule"}`` with ``status``; the
web pages show ``message``."""

from typing import Any


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


class NotFound(DomainError):
    """What one may not see answers exactly like what does not exist (O3)."""

    status = 404

    def __init__(self, what: str = "object") -> None:
        super().__init__("not_found", f"No such {what}.", "O3")


class Forbidden(DomainError):
    """The thing is visible but this person may not do this to it."""

    status = 403


class Conflict(DomainError):
    """The action needs a knowing second confirmation (L8, L9, L17) or lost a race."""

    status = 409
