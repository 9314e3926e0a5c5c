"""The pages around the rooms: signing in and out, and the way in to one's meetings (the
organization's overview, ``web.overview``). Parse, call the domain, render."""

import re

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST
from django.views.i18n import set_language

from parlour.accounts.access import organizations_of
from parlour.accounts.models import Organization

from .navigation import current_organization


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return redirect("web:meetings" if request.user.is_authenticated else "web:signin")


@require_POST
def language(request: HttpRequest) -> HttpResponse:
    """D4: the footer's language switch. A signed-in person's choice is their setting (the
    pages follow it everywhere); a visitor's is kept in a cookie."""
    chosen = request.POST.get("language", "")
    user = request.user
    if user.is_authenticated and chosen in {code for code, _name in settings.LANGUAGES}:
        user.language = chosen
        user.save(update_fields=["language"])
    return set_language(request)


class SignIn(auth_views.LoginView):
    template_name = "web/signin.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        """E5: where there is one organization, the page a visitor books from is linked here
        (``/`` leads here). With several, none is named: each gives its own address. O1:
        "Create an account" with the organization ``next`` leads back to, or the only one."""
        context = super().get_context_data(**kwargs)
        organizations = list(Organization.objects.order_by("pk").only("slug", "name")[:2])
        context["public_organization"] = organizations[0] if len(organizations) == 1 else None
        context["signup_organization"] = self.organization_of_next() or context["public_organization"]
        return context

    def organization_of_next(self) -> Organization | None:
        """O1: the organization whose page sent the visitor here (``next=/o/<slug>/…``), to
        offer "Create an account" with it."""
        found = re.match(r"/o/([-\w]+)/", self.get_redirect_url() or "")
        return Organization.objects.filter(slug=found.group(1)).only("slug", "name").first() if found else None


class SignOut(auth_views.LogoutView):
    next_page = "web:signin"


@login_required
@require_GET
def meetings(request: HttpRequest) -> HttpResponse:
    """The way in to one's meetings: the overview of the organization opened last, else of
    the first (D1), or a page saying there is none yet."""
    organization = current_organization(request, organizations_of(request.user))
    if organization is not None:
        return redirect("web:overview", slug=organization.slug)
    return render(request, "web/overview/no_organization.html")
