from django.urls import path

from . import views

app_name = "payments"

urlpatterns = [
    path("", views.payment_list, name="list"),
    path("<int:pk>/", views.payment_detail, name="detail"),
    path("<int:pk>/rembourser/", views.payment_refund, name="refund"),
    path("virements/rapprocher/", views.transfer_match, name="transfer_match"),
    path("evenements/", views.event_list, name="events"),
    path("evenements/<int:pk>/retraiter/", views.event_retry, name="event_retry"),
]
