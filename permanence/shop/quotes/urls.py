"""Quotes in the back office (/app/boutique/devis/): administrators, supervisors, billing."""

from django.urls import path

from . import views

app_name = "quotes"

urlpatterns = [
    path("", views.quote_list, name="list"),
    path("nouveau/", views.quote_new, name="create"),
    path("<int:pk>/", views.quote_detail, name="detail"),
    path("<int:pk>/envoyer/", views.quote_send, name="send"),
    path("<int:pk>/annuler/", views.quote_cancel, name="cancel"),
    path("<int:pk>/brouillon/", views.quote_reopen, name="reopen"),
    path("<int:pk>/dupliquer/", views.quote_duplicate, name="duplicate"),
    path("<int:pk>/compte/", views.quote_link_account, name="link_account"),
    path("<int:pk>/pdf/", views.quote_staff_pdf, name="pdf"),
]
