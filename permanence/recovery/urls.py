"""Mounted at the root (permanence/urls.py): the board under Facturation, the payment page
under the espace client's invoices."""

from django.urls import path

from . import views

app_name = "recovery"

urlpatterns = [
    path("app/facturation/impayes/", views.board, name="board"),
    path("app/facturation/impayes/<int:pk>/", views.incident, name="incident"),
    path("app/facturation/impayes/<int:pk>/<slug:action>/", views.incident_action,
         name="incident_action"),
    path("app/facturation/factures/<str:number>/virement/", views.transfer_match,
         name="transfer_match"),
    path("espace/factures/<str:number>/payer/", views.pay, name="pay"),
]
