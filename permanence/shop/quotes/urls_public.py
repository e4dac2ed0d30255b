"""The public quote pages (/devis/): the request form, and the quote behind its link."""

from django.urls import path

from . import views

app_name = "quote_public"

urlpatterns = [
    path("demande/", views.quote_request, name="request"),
    path("<str:token>/", views.quote_public, name="detail"),
    path("<str:token>/pdf/", views.quote_public_pdf, name="pdf"),
    path("<str:token>/accepter/", views.quote_accept, name="accept"),
    path("<str:token>/refuser/", views.quote_decline, name="decline"),
]
