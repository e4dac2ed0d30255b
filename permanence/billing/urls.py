from django.urls import path

from . import views, views_credits, views_exports, views_schedules, views_subscriptions

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
    path("factures/<str:number>/geste/", views_credits.gesture_new, name="gesture_new"),
    path("factures/<str:number>/remboursement/", views_credits.refund_new, name="refund_new"),
    path("factures/<str:number>/echeancier/", views_schedules.schedule_new,
         name="schedule_new"),
    path("echeanciers/", views_schedules.schedule_list, name="schedules"),
    path("echeanciers/<int:pk>/", views_schedules.schedule_detail, name="schedule"),
    path("echeanciers/<int:pk>/<slug:action>/", views_schedules.schedule_action,
         name="schedule_action"),
    path("exports/", views_exports.exports, name="exports"),
    path("exports/journal-des-ventes.<slug:fmt>", views_exports.sales_journal,
         name="export_sales"),
    path("exports/journal-des-paiements.<slug:fmt>", views_exports.payments_journal,
         name="export_payments"),
    path("exports/fec.txt", views_exports.fec_file, name="export_fec"),
]
