from django.urls import path  # noqa: F401

app_name = "site_admin"

urlpatterns: list = []
