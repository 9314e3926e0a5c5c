from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "parlour.catalog"
    label = "catalog"
    verbose_name = "Services and experts"
