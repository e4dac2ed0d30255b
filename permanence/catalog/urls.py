"""The operator's public site (mounted at "/", after the shop's public URLs)."""

from django.urls import path

from . import views

app_name = "site"

urlpatterns = [
    path("offres/", views.plans, name="plans"),
    path("offres/<slug:slug>/", views.plan, name="plan"),
    path("offres/<slug:slug>/prix/", views.plan_price, name="plan_price"),
    path("secteurs/", views.sectors, name="sectors"),
    path("secteurs/<str:sector>/", views.sector, name="sector"),
    path("service-client/", views.service_client, name="service_client"),
    path("cgv/", views.terms, name="terms"),
    path("cgv/<str:version>.pdf", views.terms_version_pdf, name="terms_pdf"),
    path("cgv/<str:version>/", views.terms_version, name="terms_version"),
    path("pages/<slug:slug>/", views.page, name="page"),
]
