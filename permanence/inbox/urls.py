from django.urls import path

from . import views, views_settings
from .complaints import views as views_complaints

app_name = "inbox"

urlpatterns = [
    path("", views.inbox, name="list"),
    path("appel/", views.phone_message, name="phone"),
    path("saisie-manuelle/", views.manual_entry, name="manual"),
    path("notifications/", views.notifications, name="notifications"),
    path("non-lus/", views.unread, name="unread"),
    path("groupe/", views.bulk, name="bulk"),
    path("presence/", views.presence, name="presence"),
    path("<int:pk>/", views.conversation_detail, name="detail"),
    path("<int:pk>/fil/", views.conversation_timeline, name="timeline"),
    path("<int:pk>/repondre/", views.reply, name="reply"),
    path("<int:pk>/note/", views.note, name="note"),
    path("<int:pk>/rappel-effectue/", views.callback_done, name="callback_done"),
    path("<int:pk>/rappeler/", views.callback_plan, name="callback_plan"),
    path("<int:pk>/statut/", views.set_status, name="status"),
    path("<int:pk>/attribuer/", views.assign, name="assign"),
    path("<int:pk>/qualifier/", views.qualify, name="qualify"),
    path("<int:pk>/fusionner/", views.merge, name="merge"),
    path("<int:pk>/commande/", views.link_order, name="link_order"),
    path("message/<int:message_id>/scinder/", views.split, name="split"),
    path("reclamations/", views_complaints.register, name="complaints"),
    path("reclamations/export.csv", views_complaints.register_csv, name="complaints_csv"),
    path("<int:pk>/reclamation/<slug:step>/", views_complaints.complaint_step,
         name="complaint_step"),
    path("parametres/delais/", views_settings.sla_policy, name="sla"),
    path("parametres/<slug:kind>/", views_settings.setting_list, name="settings"),
    path("parametres/<slug:kind>/<int:pk>/", views_settings.setting_edit, name="setting_edit"),
    path("parametres/<slug:kind>/<int:pk>/supprimer/", views_settings.setting_remove,
         name="setting_delete"),
    path("piece-jointe/<int:attachment_id>/", views.attachment, name="attachment"),
]
