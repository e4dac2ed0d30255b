from django.urls import path

from . import (
    views,
    views_activity,
    views_calls,
    views_consignes,
    views_orders,
    views_quotes,
    views_recordings,
    views_setup,
)

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("compte/", views.switch_account, name="switch"),
    path("profil/", views.profile, name="profile"),
    path("demandes/", views.requests_list, name="requests"),
    path("demandes/nouvelle/", views.request_new, name="request_new"),
    path("demandes/<int:pk>/", views.request_detail, name="request_detail"),
    path("demandes/<int:pk>/repondre/", views.request_reply, name="request_reply"),
    path("demandes/piece-jointe/<int:attachment_id>/", views.request_attachment,
         name="request_attachment"),
    path("activite/", views_activity.activity_list, name="activity"),
    path("activite/<int:pk>/", views_activity.activity_detail, name="activity_detail"),
    path("activite/<int:pk>/consigne/", views_activity.activity_instruction,
         name="activity_instruction"),
    path("appels/", views_calls.calls, name="calls"),
    path("appels/export.csv", views_calls.calls_csv, name="calls_csv"),
    path("appels/recapitulatif/", views_calls.digest_toggle, name="calls_digest"),
    path("appels/<int:pk>/", views_calls.call_detail, name="call_detail"),
    path("appels/<int:pk>/traite/", views_calls.call_handled, name="call_handled"),
    path("consignes/", views_consignes.consignes_page, name="consignes"),
    path("consignes/modifier/", views_consignes.consignes_edit, name="consignes_edit"),
    path("consignes/historique/", views_consignes.consignes_history,
         name="consignes_history"),
    path("commandes/", views_orders.orders, name="orders"),
    path("commandes/<str:reference>/", views_orders.order_detail, name="order_detail"),
    path("commandes/<str:reference>/recapitulatif.pdf", views_orders.order_pdf,
         name="order_pdf"),
    path("devis/", views_quotes.quotes, name="quotes"),
    path("appels/<int:pk>/enregistrement/", views_recordings.call_recording,
         name="call_recording"),
    path("mise-en-place/", views_setup.setup_page, name="setup"),
    path("mise-en-place/valider/", views_setup.setup_tick, name="setup_tick"),
    # Sections not built yet; /espace/demandes/ above takes precedence over this pattern.
    path("<slug:name>/", views.section, name="section"),
]
