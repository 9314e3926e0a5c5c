"""Pages of the web application (being built)."""

urlpatterns: list = []
