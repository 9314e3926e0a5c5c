"""Sign-up for clients (O1): "Create an account" on an organization's page for visitors.

A visitor gives a name and an email address; the time zone is the one their browser reports
(put into the form's select by ``signup.js``, the ``tz`` cookie's before that, a select to
change it by hand), the language is the page's (the browser's or the one chosen in the
footer). The page answers the same "we sent you a mail" whatever the address, so nobody
learns who has an account:

- **A new address** gets an account without a usable password and a client account of the
  organization at once (so its admins can grant credits before the first booking), and a
  mail with a link to choose the password (``web.password``'s link and view: Django's token
  generator, one use, ``PASSWORD_RESET_TIMEOUT``). Once the password is chosen the person
  is signed in and lands on the organization's page.
- **An address that has an account** gets a mail saying so, in the account's language and
  to the account's name, with a link to sign in and a link to choose a new password. Being
  a client of one organization makes nobody a client of another (O1: a client account may
  belong to several, each its own wallet), and a visitor typing someone's address must not
  put that person on an organization's list of clients; so no client account is made here.
  It is made when the person, signed in, asks for it: both links lead back to this page,
  which shows a signed-in person "Become a client of …" (a form), or when they book (the
  lifecycle makes it then, as before). A deactivated account gets no mail.

Requests are limited like the forgotten-password page's: per visitor address, and per
visitor and email address together, counted whether or not the address has an account."""

import logging
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from parlour.accounts.access import belongs_to
from parlour.accounts.models import ClientAccount, Organization, User
from parlour.notifications.messages import base_url
from parlour.rooms.views import _client_address as client_address

from .booking import public_organization
from .booking_calendar import visitor_zone, zone_choices
from .password import MAILS_PER_ADDRESS, REQUESTS_PER_VISITOR, SetPassword, _over_limit

logger = logging.getLogger(__name__)

TEMPLATES = "web/signup/"
LANGUAGES = {code for code, _name in settings.LANGUAGES}


def time_zone_choices() -> list[tuple[str, str]]:
    return [(zone, zone.replace("_", " ")) for zone in zone_choices()]


class SignupForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Your name"), max_length=User._meta.get_field("name").max_length)
    email = forms.EmailField(label=gettext_lazy("Email address"), max_length=254)
    time_zone = forms.ChoiceField(
        label=gettext_lazy("Time zone"),
        choices=time_zone_choices,
        help_text=gettext_lazy("Times of your meetings are shown on this clock."),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs.update({"autocomplete": "name"})
        self.fields["email"].widget.attrs.update({"autocomplete": "email"})
        # signup.js puts the browser's zone here, unless the visitor has sent one already.
        follows = "false" if self.is_bound else "true"
        self.fields["time_zone"].widget.attrs.update({"autocomplete": "off", "data-follows-browser": follows})

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError(_("Write your name."))
        # The name is written into a mail to the address given: it is not a place for links.
        if "://" in name or "www." in name.lower():
            raise forms.ValidationError(_("Write your name only, without a web address."))
        return name

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()


# --- the mails --------------------------------------------------------------------------


def password_link(user: User, organization: Organization) -> str:
    """The one-time link to choose ``user``'s password, leading to ``organization``'s page
    once chosen; on Parlour's own address, never the request's Host."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return base_url() + reverse("web:signup_password", args=[organization.slug, uid, token])


def _send(user: User, organization: Organization, template: str, subject) -> None:
    """``subject``: lazy, so that it is translated into the person's language here."""
    language = user.language if user.language in LANGUAGES else settings.LANGUAGE_CODE
    with translation.override(language):
        context = {
            "person_name": user.name,
            "email": user.email,
            "org_name": organization.name,
            "link": password_link(user, organization),
            "hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
            "sign_in": base_url()
            + reverse("web:signin")
            + "?"
            + urlencode({"next": reverse("web:signup", args=[organization.slug])}),
        }
        subject = str(subject) % {"organization": organization.name}
        text = render_to_string(TEMPLATES + template, context)
    message = mail.EmailMessage(
        subject=" ".join(subject.split()), body=text, to=[user.email], headers={"Content-Language": language}
    )
    message.send(fail_silently=False)


def send_welcome_mail(user: User, organization: Organization) -> None:
    """To someone new: choose your password. Raises what the mail server raises."""
    _send(user, organization, "welcome_mail.txt", gettext_lazy("Choose your password for %(organization)s on Parlour"))


def send_existing_account_mail(user: User, organization: Organization) -> None:
    """To someone who has an account already: sign in, or choose a new password."""
    subject = gettext_lazy("You already have an account on Parlour")
    _send(user, organization, "existing_mail.txt", subject)


# --- the page ---------------------------------------------------------------------------


def _page(request, organization, form, status=200) -> HttpResponse:
    context = {"organization": organization, "form": form}
    return render(request, TEMPLATES + "form.html", context, status=status)


def _initial_zone(request: HttpRequest) -> str:
    zone = visitor_zone(request, None)[0]
    return zone if zone in zone_choices() else "UTC"


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest, slug: str) -> HttpResponse:
    """O1: "Create an account" for a visitor; for a signed-in person, "Become a client"."""
    organization = public_organization(request, slug)
    if request.user.is_authenticated:
        return _join(request, organization)
    if request.method == "GET":
        return _page(request, organization, SignupForm(initial={"time_zone": _initial_zone(request)}))
    form = SignupForm(request.POST)
    if not form.is_valid():
        return _page(request, organization, form, status=400)
    email = form.cleaned_data["email"]
    visitor = client_address(request)
    if _over_limit(f"parlour.signup.visitor.{visitor}", REQUESTS_PER_VISITOR) or _over_limit(
        f"parlour.signup.email.{visitor}.{email}", MAILS_PER_ADDRESS
    ):
        form.add_error(None, _("Too many requests for an account. Wait an hour, then try again."))
        return _page(request, organization, form, status=429)
    person, new = _account_for(organization, form.cleaned_data, translation.get_language())
    if person is not None and person.is_active:
        try:
            if new:
                send_welcome_mail(person, organization)
            else:
                send_existing_account_mail(person, organization)
        except Exception:
            # Said to nobody but the log: the page must not tell whether the address has an account.
            logger.exception("The sign-up mail could not be sent to user %s", person.pk)
    context = {
        "organization": organization,
        "email": email,
        "timeout_hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
    }
    return render(request, TEMPLATES + "sent.html", context)


def _account_for(organization: Organization, data: dict, language: str | None) -> tuple[User | None, bool]:
    """The account of the address, and whether it was made now: a new one (no usable
    password yet) with its client account of ``organization``."""
    found = User.objects.filter(email__iexact=data["email"]).first()
    if found is not None:
        return found, False
    try:
        with transaction.atomic():
            person = User.objects.create_user(
                data["email"],
                None,  # no password until they choose one through the mailed link
                name=data["name"],
                time_zone=data["time_zone"],
                language=language if language in LANGUAGES else settings.LANGUAGE_CODE,
            )
            ClientAccount.objects.create(organization=organization, user=person)
    except IntegrityError:  # the same address signed up at the same moment
        return User.objects.filter(email__iexact=data["email"]).first(), False
    return person, True


def _join(request: HttpRequest, organization: Organization) -> HttpResponse:
    """A signed-in person: one who belongs goes to the organization's page; anyone else may
    become its client (the same as booking there would make them)."""
    dashboard = redirect("web:dashboard", slug=organization.slug)
    if belongs_to(request.user, organization):
        return dashboard
    if request.method == "GET":
        return render(request, TEMPLATES + "join.html", {"organization": organization})
    ClientAccount.objects.get_or_create(organization=organization, user=request.user)
    messages.success(request, _("You are a client of %(organization)s now.") % {"organization": organization.name})
    return dashboard


# --- following the link -----------------------------------------------------------------


class ChoosePassword(SetPassword):
    """The mailed link: choose the password (the first, or a new one), be signed in, and
    land on the organization's page (or, for someone who is not its client, on the page
    that offers to become one)."""

    def dispatch(self, *args, **kwargs):
        self.organization = get_object_or_404(Organization, slug=kwargs["slug"])
        return super().dispatch(*args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = getattr(self, "user", None)
        context["invitation"] = user is not None and not user.has_usable_password()
        return context

    def get_success_url(self) -> str:
        if belongs_to(self.user, self.organization):
            return reverse("web:dashboard", args=[self.organization.slug])
        return reverse("web:signup", args=[self.organization.slug])


urlpatterns = [
    path("o/<slug:slug>/signup/", signup, name="signup"),
    path("o/<slug:slug>/signup/password/<uidb64>/<token>/", ChoosePassword.as_view(), name="signup_password"),
]
