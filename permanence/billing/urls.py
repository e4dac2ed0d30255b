from django.urls import path

from . import views, views_subscriptions

app_name = "billing"

urlpatterns = [
    path("", views.home, name="home"),
    path("facturation-mensuelle/", views.run_page, name="run"),
    path("abonnements/", views_subscriptions.subscriptions, name="subscriptions"),
    path("abonnements/<int:pk>/<slug:action>/", views_subscriptions.subscription_action,
         name="subscription_action"),
    path("factures/<str:number>/", views.invoice, name="invoice"),
    path("factures/<str:number>/pdf/", views.invoice_pdf, name="invoice_pdf"),
    path("factures/<str:number>/avoir/", views.credit_note_new, name="credit_note_new"),
]
