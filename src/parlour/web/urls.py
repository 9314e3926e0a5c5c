"""The web application's addresses: each area of pages keeps its own list."""

from django.urls import path

from . import (
    account,
    booking,
    conversations,
    expert_profile,
    external_calendar,
    free_dates,
    meeting,
    notifications,
    organization,
    organization_clients,
    overview,
    password,
    proposals,
    public_organization,
    signup,
    views,
    webhooks,
)

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("signin/", views.SignIn.as_view(), name="signin"),
    path("signout/", views.SignOut.as_view(), name="signout"),
    path("language/", views.language, name="language"),
    path("meetings/", views.meetings, name="meetings"),
    *overview.urlpatterns,
    *meeting.urlpatterns,
    *booking.urlpatterns,
    *public_organization.urlpatterns,
    *account.urlpatterns,
    *expert_profile.urlpatterns,
    *free_dates.urlpatterns,
    *external_calendar.urlpatterns,
    *organization.urlpatterns,
    *organization_clients.urlpatterns,
    *proposals.urlpatterns,
    *conversations.urlpatterns,
    *password.urlpatterns,
    *signup.urlpatterns,
    *notifications.urlpatterns,
    *webhooks.urlpatterns,
]
