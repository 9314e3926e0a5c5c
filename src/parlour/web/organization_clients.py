"""Area F: the organization's clients, for its admins only (O1, C2, C3, O3).

A settings page beside the members: every client account of the organization with the
person's email, their available and blocked credits (the ledger's accounts, summed in the
same query as the list: as many queries for five hundred clients as for five), a link to
grant them credits on the wallet page (C3), and a form to add a client by email. Someone
new gets an account and, like a new member, a mailed invitation to choose their password
(``web.password``); someone who is already a member or a client is told so, and nothing
changes. Anyone but an admin gets "not found", as on the other settings pages."""

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import IntegerField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from parlour.accounts.models import ClientAccount, Organization, User
from parlour.credits.models import Account, AccountKind

from .account import amount_text
from .organization import admin_page, send_invitation, show
from .organization_forms import AddClientForm

logger = logging.getLogger(__name__)

PAGE_SIZE = 50


def clients_with_credits(organization: Organization) -> QuerySet[ClientAccount]:
    """C2: the organization's client accounts with their people and what they have
    available (``available``) and blocked for meetings (``blocked``), as ``ledger.balance_of``
    counts them, in one query."""
    owned = Account.objects.filter(organization=organization, owner=OuterRef("user_id")).order_by()

    def total(kind: str):
        sums = owned.filter(kind=kind).values("owner").annotate(total=Sum("balance")).values("total")
        return Coalesce(Subquery(sums[:1]), Value(0), output_field=IntegerField())

    return (
        ClientAccount.objects.filter(organization=organization)
        .select_related("user")
        .annotate(available=total(AccountKind.WALLET), blocked=total(AccountKind.ESCROW))
        .order_by("user__name", "user_id")
    )


def clients_page(request, organization, *, add_form=None, new_person=None, status=200) -> HttpResponse:
    page = Paginator(clients_with_credits(organization), PAGE_SIZE).get_page(request.GET.get("page"))
    for row in page:
        row.available_text, row.blocked_text = amount_text(row.available), amount_text(row.blocked)
    context = {
        "section": "clients",
        "page": page,
        "add_form": add_form or AddClientForm(organization=organization),
        "new_person": new_person,
    }
    response = show(request, organization, "clients.html", context, status)
    if new_person:
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def clients(request: HttpRequest, slug: str) -> HttpResponse:
    return clients_page(request, admin_page(request, slug))


@login_required
@require_POST
def add_client(request: HttpRequest, slug: str) -> HttpResponse:
    """O1: an existing person becomes a client; someone new gets an account too (in the
    admin's language and time zone, without a usable password) and an invitation to choose
    one. When the invitation cannot be mailed, the admin is shown a password instead, as
    for a new member."""
    organization = admin_page(request, slug)
    form = AddClientForm(request.POST, organization=organization)
    if not form.is_valid():
        return clients_page(request, organization, add_form=form, status=400)
    with transaction.atomic():
        person, new = form.person, form.person is None
        if new:
            person = User.objects.create_user(
                form.cleaned_data["email"],
                None,  # no password until they choose one through the invitation
                name=" ".join(form.cleaned_data["name"].split()),
                language=request.user.language,
                time_zone=request.user.time_zone,
            )
        _account, made = ClientAccount.objects.get_or_create(organization=organization, user=person)
    if not new:
        if made:
            messages.success(request, _("%(name)s is a client now.") % {"name": person.name})
        return redirect("web:settings_clients", slug=organization.slug)
    if (password := send_invitation(request, organization, person)) is not None:
        return clients_page(request, organization, new_person={"person": person, "password": password})
    messages.success(
        request,
        _("%(name)s has an account now and is a client. A link to choose a password is mailed to %(email)s.")
        % {"name": person.name, "email": person.email},
    )
    return redirect("web:settings_clients", slug=organization.slug)


base = "o/<slug:slug>/settings/"
urlpatterns = [
    path(base + "clients/", clients, name="settings_clients"),
    path(base + "clients/new/", add_client, name="settings_client_add"),
]
