from django.urls import path

from . import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("signin/", views.SignIn.as_view(), name="signin"),
    path("signout/", views.SignOut.as_view(), name="signout"),
    path("meetings/", views.meetings, name="meetings"),
]
