"""Forgotten passwords and invitations (O1): a mail with a one-time link to set a password.

- **Forgot your password?** (from the sign-in page): a person gives their email; if an
  active account has it, a mail with a link goes to it. The page answers the same whether
  or not the address has an account, so nobody learns who has one.
- **Invitation**: an admin who adds someone new to the organization (``web.organization``)
  has this mail sent to them, worded as an invitation, with the same kind of link.

The link carries Django's ``PasswordResetTokenGenerator`` token: it holds no secret of its
own but a signature over the account's password and last sign-in, so it works once (setting
the password, and the sign-in that follows, change both) and only for
``settings.PASSWORD_RESET_TIMEOUT`` seconds (Django's default of three days). Following it
opens Django's own confirm view, which moves the token into the session before showing the
form, so that it cannot leak through the Referer of the page. The person is then signed in.

The mail is sent directly, in the person's language (D4), from ``DEFAULT_FROM_EMAIL``
through the configured mail server, like every other mail. It does not go through the
outbox: outbox rows belong to an organization (someone who forgets their password may
belong to none), would need a new topic (a migration), are listed in the app's notification
list once delivered, and would keep a live sign-in link in the database. A mail that cannot
be sent is logged; the person can ask again.

Requests are limited, with counters in the cache as for guest keys (``rooms.views``): per
visitor address, and per visitor and email address together, whether or not the address has
an account (so the limit says nothing about accounts either). The second is not per email
address alone: then anyone could ask three times for someone's address and keep them from
a new password for an hour."""

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth import views as auth_views
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse, reverse_lazy
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from parlour.accounts.models import User
from parlour.notifications.messages import base_url
from parlour.rooms.views import _client_address as client_address

logger = logging.getLogger(__name__)

TEMPLATES = "web/password/"
# Requests counted over this many seconds: per visitor address, and per visitor and email
# address together (counted per email address alone, anyone could block a person's reset).
WINDOW = 60 * 60
REQUESTS_PER_VISITOR = 10
MAILS_PER_ADDRESS = 3


# --- the mail ---------------------------------------------------------------------------


def password_link(user: User, *, invitation: bool = False) -> str:
    """The one-time link to set ``user``'s password, on Parlour's own address (never the
    address a request named: a forged Host header must not lead the link elsewhere)."""
    name = "web:invitation" if invitation else "web:password_set"
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return base_url() + reverse(name, args=[uid, default_token_generator.make_token(user)])


def send_password_mail(user: User, *, invitation: bool = False, invited_by: User | None = None, organization=None):
    """Mail ``user`` the link to set their password: a reset, or an invitation to
    ``organization`` from ``invited_by``. Raises what the mail server raises."""
    language = user.language if user.language in {code for code, _n in settings.LANGUAGES} else settings.LANGUAGE_CODE
    with translation.override(language):
        context = {
            "person_name": user.name,
            "email": user.email,
            "link": password_link(user, invitation=invitation),
            "hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
            "inviter": invited_by.name if invited_by else "",
            "org_name": organization.name if organization else "",
            "sign_in": base_url() + reverse("web:signin"),
        }
        if invitation:
            subject = _("You are invited to %(organization)s on Parlour") % {"organization": context["org_name"]}
            text = render_to_string(TEMPLATES + "invitation_mail.txt", context)
        else:
            subject = _("Set a new password for Parlour")
            text = render_to_string(TEMPLATES + "reset_mail.txt", context)
    message = mail.EmailMessage(
        subject=" ".join(subject.split()), body=text, to=[user.email], headers={"Content-Language": language}
    )
    message.send(fail_silently=False)


# --- asking for the mail ----------------------------------------------------------------


def _over_limit(counter: str, limit: int) -> bool:
    """Count one more request on ``counter``; whether there were already ``limit``."""
    if (cache.get(counter) or 0) >= limit:
        return True
    cache.add(counter, 0, WINDOW)
    try:
        cache.incr(counter)
    except ValueError:  # expired between add and incr
        cache.set(counter, 1, WINDOW)
    return False


@require_http_methods(["GET", "POST"])
def forgot(request: HttpRequest) -> HttpResponse:
    """O1: "Forgot your password?" — an email address in, the same answer out."""
    if request.user.is_authenticated:
        return redirect(reverse("web:account") + "#password")
    email = (request.POST.get("email") or request.GET.get("email") or "").strip()[:254]
    if request.method == "GET":
        return render(request, TEMPLATES + "forgot.html", {"email": email})
    try:
        validate_email(email)
    except ValidationError:
        error = _("Enter the email address you sign in with.")
        return render(request, TEMPLATES + "forgot.html", {"email": email, "error": error}, status=400)
    address = email.lower()
    visitor = client_address(request)
    if _over_limit(f"parlour.password.visitor.{visitor}", REQUESTS_PER_VISITOR) or _over_limit(
        f"parlour.password.email.{visitor}.{address}", MAILS_PER_ADDRESS
    ):
        error = _("Too many requests for a new password. Wait an hour, then try again.")
        return render(request, TEMPLATES + "forgot.html", {"email": email, "error": error}, status=429)
    user = get_user_model().objects.filter(email__iexact=address, is_active=True).first()
    if user is not None:
        try:
            send_password_mail(user)
        except Exception:
            # Said to nobody but the log: the page must not tell whether the address has an account.
            logger.exception("The mail to set a new password could not be sent to user %s", user.pk)
    context = {"email": email, "timeout_hours": settings.PASSWORD_RESET_TIMEOUT // 3600}
    return render(request, TEMPLATES + "sent.html", context)


# --- following the link -----------------------------------------------------------------


class SetPassword(auth_views.PasswordResetConfirmView):
    """The page the mailed link opens: a new password, twice; then the person is signed in.
    A used, expired or altered link shows a page saying so, with the way to ask again."""

    template_name = TEMPLATES + "set.html"
    post_reset_login = True
    success_url = reverse_lazy("web:meetings")
    invitation = False

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        return user if user is not None and user.is_active else None

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "invitation": self.invitation}

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, _("Your password is set; you are signed in."))
        return response


class AcceptInvitation(SetPassword):
    invitation = True


urlpatterns = [
    path("signin/forgot/", forgot, name="password_forgot"),
    path("signin/password/<uidb64>/<token>/", SetPassword.as_view(), name="password_set"),
    path("signin/welcome/<uidb64>/<token>/", AcceptInvitation.as_view(), name="invitation"),
]
