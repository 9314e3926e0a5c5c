"""D1, D3: the meetings overview and the dashboard of an organization."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import path
from django.views.decorators.http import require_GET

from .pages import organization_page


@login_required
@require_GET
def dashboard(request: HttpRequest, slug: str) -> HttpResponse:
    organization = organization_page(request, slug)
    return redirect("web:overview", slug=organization.slug)


@login_required
@require_GET
def overview(request: HttpRequest, slug: str) -> HttpResponse:
    organization_page(request, slug)
    return redirect("web:meetings")


urlpatterns = [
    path("o/<slug:slug>/", dashboard, name="dashboard"),
    path("o/<slug:slug>/meetings/", overview, name="overview"),
]
