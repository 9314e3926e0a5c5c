"""Area D: an expert edits their profile (E1): the introduction clients read, their photo and
their skills (chosen from the organization's). The time zone is kept with the free dates
(``web.free_dates``), where it matters; the name on the account page.

Whose profile follows the free dates page: an expert edits their own; an admin may open any
expert's with ``?expert=<user id>`` (an admin who is not an expert first picks one); anyone
else, and any id of another organization, hears "not found" (O3).

The photo is served by ``photo`` from ``MEDIA_ROOT/experts/`` at the address the profile's
``photo.url`` names (``MEDIA_URL`` + ``experts/<name>``), by Parlour itself: only a photo a
profile names, with the content type its bytes say, ``nosniff`` and a day's caching.

Admins also see each expert's average stars here and on the members page (E1: never
clients)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Avg, Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.http import http_date
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST, require_safe
from django.views.static import was_modified_since

from parlour.accounts.access import is_admin
from parlour.accounts.models import Membership, Organization
from parlour.catalog import profiles
from parlour.catalog.models import Skill
from parlour.catalog.profiles import profile_for
from parlour.meetings.models import Side, Statement

from .free_dates import choose_expert, page_url, whose
from .pages import organization_page

PHOTO_CACHE_SECONDS = 24 * 60 * 60


# --- the admins' view of the stars (E1) ---------------------------------------------------


def star_averages(organization: Organization) -> dict[int, dict]:
    """Per expert (user id): the average of the stars clients gave, and how many gave them."""
    rated = Statement.objects.filter(meeting__organization=organization, side=Side.CLIENT, stars__isnull=False)
    rows = rated.values("meeting__expert").annotate(average=Avg("stars"), count=Count("id"))
    return {row["meeting__expert"]: {"average": row["average"], "count": row["count"]} for row in rows}


# --- forms --------------------------------------------------------------------------------


class ProfileForm(forms.Form):
    bio = forms.CharField(
        label=gettext_lazy("Introduction"),
        max_length=profiles.MAX_BIO,
        required=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=gettext_lazy("What clients read about the expert, at most 2000 characters."),
    )
    skills = forms.ModelMultipleChoiceField(
        label=gettext_lazy("Skills"),
        queryset=Skill.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, organization: Organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["skills"].queryset = Skill.objects.filter(organization=organization).order_by("name")


class PhotoForm(forms.Form):
    photo = forms.FileField(
        label=gettext_lazy("A new photo"),
        widget=forms.FileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}),
        help_text=gettext_lazy("A JPEG, PNG or WebP picture of at most 2 MB."),
    )

    def clean_photo(self):
        upload = self.cleaned_data["photo"]
        try:
            profiles.check(upload)
        except profiles.PhotoRefused as refusal:
            raise forms.ValidationError(refusal.message) from None
        return upload


# --- the page -----------------------------------------------------------------------------


def chosen(request: HttpRequest, slug: str) -> tuple[Organization, Membership | None]:
    organization = organization_page(request, slug)
    return organization, whose(request, organization)


def profile_page(request, organization, membership, *, form=None, photo_form=None, status=200) -> HttpResponse:
    profile = profile_for(membership)
    if form is None:
        form = ProfileForm(
            organization=organization, initial={"bio": profile.bio, "skills": list(profile.skills.all())}
        )
    admin = is_admin(request.user, organization)
    context = {
        "organization": organization,
        "expert": membership.user,
        "profile": profile,
        "for_other": membership.user_id != request.user.pk,
        "form": form,
        "photo_form": photo_form or PhotoForm(),
        "stars": star_averages(organization).get(membership.user_id) if admin else None,
        "urls": {
            "save": page_url(organization, membership, request, "web:expert_profile_save"),
            "photo": page_url(organization, membership, request, "web:expert_profile_photo"),
            "remove": page_url(organization, membership, request, "web:expert_profile_photo_remove"),
            "free_dates": page_url(organization, membership, request, "web:free_dates"),
        },
    }
    return render(request, "web/account/profile_edit.html", context, status=status)


@login_required
@require_GET
def edit_profile(request: HttpRequest, slug: str) -> HttpResponse:
    organization, membership = chosen(request, slug)
    if membership is None:
        return choose_expert(
            request,
            organization,
            url_name="web:expert_profile_edit",
            title=_("Profiles"),
            question=_("Whose profile?"),
        )
    return profile_page(request, organization, membership)


def back(request, organization, membership) -> HttpResponse:
    return redirect(page_url(organization, membership, request, "web:expert_profile_edit"))


@login_required
@require_POST
def save_profile(request: HttpRequest, slug: str) -> HttpResponse:
    organization, membership = chosen(request, slug)
    if membership is None:
        raise Http404
    form = ProfileForm(request.POST, organization=organization)
    if not form.is_valid():
        return profile_page(request, organization, membership, form=form, status=400)
    data = form.cleaned_data
    profiles.save_about(profile_for(membership), bio=data["bio"], skills=list(data["skills"]))
    messages.success(request, _("The profile is saved."))
    return back(request, organization, membership)


@login_required
@require_POST
def upload_photo(request: HttpRequest, slug: str) -> HttpResponse:
    organization, membership = chosen(request, slug)
    if membership is None:
        raise Http404
    photo_form = PhotoForm(request.POST, request.FILES)
    if not photo_form.is_valid():
        return profile_page(request, organization, membership, photo_form=photo_form, status=400)
    profiles.replace_photo(profile_for(membership), photo_form.cleaned_data["photo"])
    messages.success(request, _("The photo is saved."))
    return back(request, organization, membership)


@login_required
@require_POST
def remove_photo(request: HttpRequest, slug: str) -> HttpResponse:
    organization, membership = chosen(request, slug)
    if membership is None:
        raise Http404
    profiles.remove_photo(profile_for(membership))
    messages.success(request, _("The photo is removed."))
    return back(request, organization, membership)


# --- serving a photo ----------------------------------------------------------------------


@require_safe
def photo(request: HttpRequest, name: str) -> HttpResponse:
    """An expert's photo, to anyone (it is on their public page); anything else: not found."""
    found = profiles.served(name)
    if found is None:
        raise Http404
    path_, content_type = found
    modified = path_.stat().st_mtime
    if not was_modified_since(request.META.get("HTTP_IF_MODIFIED_SINCE"), modified):
        response = HttpResponseNotModified()
    else:
        # A photo is small: read whole, not streamed (a sync stream is buffered under ASGI anyway).
        response = HttpResponse(path_.read_bytes(), content_type=content_type)
    response["Last-Modified"] = http_date(modified)
    response["Cache-Control"] = f"public, max-age={PHOTO_CACHE_SECONDS}"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


urlpatterns = [
    path("o/<slug:slug>/profile/", edit_profile, name="expert_profile_edit"),
    path("o/<slug:slug>/profile/save/", save_profile, name="expert_profile_save"),
    path("o/<slug:slug>/profile/photo/", upload_photo, name="expert_profile_photo"),
    path("o/<slug:slug>/profile/photo/remove/", remove_photo, name="expert_profile_photo_remove"),
    path("media/" + profiles.FOLDER + "/<str:name>", photo, name="expert_photo"),
]
