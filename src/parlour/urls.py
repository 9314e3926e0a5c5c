from django.contrib import admin
from django.urls import include, path, re_path

from parlour.api import api
from parlour.api.errors import no_such_endpoint

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    re_path(r"^api/v1/(?P<rest>.*)$", no_such_endpoint),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("parlour.rooms.urls")),
    path("", include("parlour.web.urls")),
]
