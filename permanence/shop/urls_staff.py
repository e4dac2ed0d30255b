from django.urls import path

from . import views_staff

app_name = "orders"

urlpatterns = [
    path("", views_staff.board, name="board"),
    path("<int:pk>/", views_staff.detail, name="detail"),
    path("<int:pk>/verifier/", views_staff.check, name="check"),
    path("<int:pk>/informations/", views_staff.information, name="information"),
    path("<int:pk>/statut/", views_staff.transition, name="transition"),
    path("<int:pk>/contacter/", views_staff.contact, name="contact"),
    path("<int:pk>/recapitulatif.pdf", views_staff.summary_pdf, name="summary_pdf"),
]
