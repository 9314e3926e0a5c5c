"""Every error the API answers is JSON ``{"code", "message", "rule"}`` (plus ``details`` when
there are some), with the status the refusal carries (I2)."""

import logging
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from parlour.core.errors import DomainError

logger = logging.getLogger(__name__)

SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}
HTTP_CODES = {
    400: "invalid_input",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    429: "too_many_requests",
}


def install_error_handlers(api: NinjaAPI) -> None:
    def answer(request: HttpRequest, body: dict[str, Any], status: int) -> HttpResponse:
        return api.create_response(request, body, status=status)

    def domain_error(request, exc: DomainError):
        return answer(request, exc.as_dict(), exc.status)

    def validation_error(request, exc: ValidationError):
        return answer(request, *invalid_input(exc.errors))

    def not_authenticated(request, exc: AuthenticationError):
        body = {"code": "not_authenticated", "message": _("Sign in, or send an API token."), "rule": "I2"}
        return answer(request, body, 401)

    def http_error(request, exc: HttpError):
        code = HTTP_CODES.get(exc.status_code, "error")
        rule = "Q2" if exc.status_code == 400 else "I2"
        return answer(request, {"code": code, "message": str(exc) + ".", "rule": rule}, exc.status_code)

    def not_found(request, exc: Http404):
        return answer(request, {"code": "not_found", "message": _("Not found."), "rule": "O3"}, 404)

    def unexpected(request, exc: Exception):
        logger.exception("API request %s %s failed", request.method, request.path, exc_info=exc)
        body = {"code": "server_error", "message": _("Something went wrong on our side."), "rule": ""}
        return answer(request, body, 500)

    api.add_exception_handler(DomainError, domain_error)
    api.add_exception_handler(ValidationError, validation_error)
    api.add_exception_handler(AuthenticationError, not_authenticated)
    api.add_exception_handler(HttpError, http_error)
    api.add_exception_handler(Http404, not_found)
    api.add_exception_handler(Exception, unexpected)


def invalid_input(errors: list[dict[str, Any]]) -> tuple[dict[str, Any], int]:
    """Pydantic's errors as one ``invalid_input`` answer: 422 (Q2), or 400 when the only
    fault is a date without its offset (Q1)."""
    listed = [{"field": _field(e.get("loc", ())), "message": _fault(e), "type": e.get("type", "")} for e in errors]
    summary = "; ".join(f"{e['field']}: {e['message']}" if e["field"] else e["message"] for e in listed[:5])
    if listed and all(e["type"] == "timezone_aware" for e in listed):
        message = _("Give dates in ISO 8601 with their offset, e.g. 2030-05-01T09:30:00+02:00 (%(errors)s).") % {
            "errors": summary
        }
        return {"code": "invalid_input", "message": message, "rule": "Q1", "details": {"errors": listed}}, 400
    return {"code": "invalid_input", "message": summary + ".", "rule": "Q2", "details": {"errors": listed}}, 422


# Pydantic's words for the usual faults, in the caller's language (D4); any other fault is
# said as pydantic says it.
FAULTS = {
    "missing": gettext_lazy("Field required"),
    "extra_forbidden": gettext_lazy("Extra inputs are not permitted"),
    "json_invalid": gettext_lazy("The body is not valid JSON"),
    "string_type": gettext_lazy("Input should be a valid string"),
    "int_type": gettext_lazy("Input should be a valid integer"),
    "int_parsing": gettext_lazy("Input should be a valid integer"),
    "int_from_float": gettext_lazy("Input should be a valid integer"),
    "float_type": gettext_lazy("Input should be a valid number"),
    "float_parsing": gettext_lazy("Input should be a valid number"),
    "bool_type": gettext_lazy("Input should be a valid boolean"),
    "bool_parsing": gettext_lazy("Input should be a valid boolean"),
    "datetime_type": gettext_lazy("Input should be a valid datetime"),
    "datetime_parsing": gettext_lazy("Input should be a valid datetime"),
    "datetime_from_date_parsing": gettext_lazy("Input should be a valid datetime"),
    "date_type": gettext_lazy("Input should be a valid date"),
    "date_parsing": gettext_lazy("Input should be a valid date"),
    "date_from_datetime_parsing": gettext_lazy("Input should be a valid date"),
    "time_type": gettext_lazy("Input should be a valid time"),
    "time_parsing": gettext_lazy("Input should be a valid time"),
    "timezone_aware": gettext_lazy("Input should have timezone info"),
    "list_type": gettext_lazy("Input should be a valid list"),
    "dict_type": gettext_lazy("Input should be an object"),
    "model_type": gettext_lazy("Input should be an object"),
    "model_attributes_type": gettext_lazy("Input should be an object"),
    "literal_error": gettext_lazy("Input should be %(expected)s"),
    "enum": gettext_lazy("Input should be %(expected)s"),
    "greater_than": gettext_lazy("Input should be greater than %(gt)s"),
    "greater_than_equal": gettext_lazy("Input should be greater than or equal to %(ge)s"),
    "less_than": gettext_lazy("Input should be less than %(lt)s"),
    "less_than_equal": gettext_lazy("Input should be less than or equal to %(le)s"),
    "string_too_short": gettext_lazy("String should have at least %(min_length)s characters"),
    "string_too_long": gettext_lazy("String should have at most %(max_length)s characters"),
    "too_short": gettext_lazy("List should have at least %(min_length)s items"),
    "too_long": gettext_lazy("List should have at most %(max_length)s items"),
}


def _fault(error: dict[str, Any]) -> str:
    """One fault in words: our own validators' message as they wrote it (already in the
    caller's language), pydantic's usual ones from ``FAULTS``."""
    said = error.get("msg", "")
    if error.get("type") == "value_error":
        return said.removeprefix("Value error, ")
    words = FAULTS.get(error.get("type", ""))
    if words is None:
        return said
    try:
        return str(words) % {key: str(value) for key, value in (error.get("ctx") or {}).items()}
    except (KeyError, TypeError, ValueError):
        return said


def _field(loc) -> str:
    """``("body", "payload", "options", 0, "start")`` → ``options.0.start``: where the fault
    is in what the caller sent, without the source or the view's argument name."""
    parts = list(loc)
    if parts and parts[0] in SOURCES:
        source = parts.pop(0)
        if source == "body" and len(parts) > 1:
            parts.pop(0)
    return ".".join(str(p) for p in parts)


def no_such_endpoint(request: HttpRequest, rest: str = "") -> JsonResponse:
    """Any other path under the API answers in the API's own words."""
    body = {"code": "not_found", "message": _("There is no such endpoint in this API."), "rule": "I2"}
    return JsonResponse(body, status=404)
