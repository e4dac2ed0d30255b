from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.static import serve

from permanence import views as core_views
from permanence.accounts import views_two_factor as two_factor_views
from permanence.accounts.forms import FrenchPasswordResetForm
from permanence.api import api
from permanence.core import live_layer
from permanence.desk import views_calls as desk_calls_views
from permanence.inbox.surveys import views as surveys_views
from permanence.privacy import views as privacy_views
from permanence.privacy import views_backups as privacy_backups
from permanence.privacy import views_breaches as privacy_breaches
from permanence.privacy import views_requests as privacy_requests
from permanence.privacy import views_retention as privacy_retention
from permanence.reports import views as reports_views
from permanence.reports import views_client as reports_client
from permanence.reports import views_exports as reports_exports
from permanence.reports import views_team as reports_team
from permanence.shop import views_staff as shop_staff_views

# Django's admin is for superusers only (maintenance), not for daily work.
admin.site.has_permission = lambda request: (  # type: ignore[method-assign]
    request.user.is_active and request.user.is_superuser
)
admin.site.site_header = "Permanence — maintenance"

# The database unreachable: 503 with Retry-After (French page, JSON for the API), not 500.
handler500 = "permanence.core.unavailable.server_error"

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("favicon.ico", core_views.favicon, name="favicon"),
    # Live pushes of the other local processes (gateway, worker, scheduler) without Redis.
    path("internal/live-relay/", live_layer.relay, name="live_relay"),
    # The password step; staff with two-factor authentication then give their code.
    path("connexion/", two_factor_views.LoginView.as_view(), name="login"),
    path("connexion/code/", two_factor_views.login_code, name="login_code"),
    path("deconnexion/", auth_views.LogoutView.as_view(), name="logout"),
    path("mot-de-passe/oubli/", auth_views.PasswordResetView.as_view(
        form_class=FrenchPasswordResetForm,
    ), name="password_reset"),
    path("mot-de-passe/oubli/envoye/", auth_views.PasswordResetDoneView.as_view(),
         name="password_reset_done"),
    path("mot-de-passe/nouveau/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(),
         name="password_reset_confirm"),
    path("mot-de-passe/nouveau/termine/", auth_views.PasswordResetCompleteView.as_view(),
         name="password_reset_complete"),
    path("apres-connexion/", core_views.after_login, name="after_login"),
    path("app/", core_views.dashboard, name="dashboard"),
    path("app/boite/", include("permanence.inbox.urls")),
    path("app/poste/", include("permanence.desk.urls")),
    path("app/sms/", include("permanence.channels_sms.urls")),
    path("app/boutique/", shop_staff_views.shop_home, name="shop"),
    path("app/boutique/commandes/", include("permanence.shop.urls_staff")),
    path("app/boutique/devis/", include("permanence.shop.quotes.urls")),
    path("app/boutique/paiements/", include("permanence.payments.urls")),
    path("app/site/", include("permanence.catalog.urls_staff")),
    # Issue 12: payment incidents (Facturation › Impayés) and the invoice's payment page
    # (/espace/factures/<number>/payer/), before the billing and portal includes.
    path("", include("permanence.recovery.urls")),
    path("", include("permanence.feedback.urls")),
    # Issue 15: the public status page and the incident log.
    path("", include("permanence.status.urls")),
    path("app/qualite/", include("permanence.quality.urls")),
    # Live chat: the console (/app/chats/), the widget and its API (/chat/…).
    path("", include("permanence.livechat.urls")),
    path("app/facturation/", include("permanence.billing.urls")),
    path("app/facturation/", include("permanence.einvoicing.urls")),
    path("app/agenda/", include("permanence.agenda.urls")),
    path("app/connaissances/", include("permanence.knowledge.urls")),
    path("", include("permanence.planning.urls")),
    path("app/rapports/", reports_views.home, name="reports"),
    path("app/rapports/satisfaction/", reports_views.satisfaction, name="reports_satisfaction"),
    path("app/rapports/detail/", reports_views.drill_down, name="reports_drill"),
    path("app/confidentialite/registre/", privacy_views.registry_page, name="privacy_registry"),
    path("app/confidentialite/consentements/", privacy_views.consents_page,
         name="privacy_consents"),
    path("app/confidentialite/sauvegardes/", privacy_backups.backups_page,
         name="privacy_backups"),
    path("app/confidentialite/conservation/", privacy_retention.retention_page,
         name="privacy_retention"),
    path("app/confidentialite/conservation/simuler/", privacy_retention.retention_simulate,
         name="privacy_retention_simulate"),
    path("app/confidentialite/violations/", privacy_breaches.breach_list,
         name="privacy_breaches"),
    path("app/confidentialite/violations/nouvelle/", privacy_breaches.breach_new,
         name="privacy_breach_new"),
    path("app/confidentialite/violations/<int:pk>/", privacy_breaches.breach_detail,
         name="privacy_breach"),
    path("espace/confidentialite/", privacy_views.client_accesses, name="privacy_client_accesses"),
    path("app/confidentialite/demandes/", privacy_requests.request_list,
         name="privacy_requests"),
    path("app/confidentialite/demandes/nouvelle/", privacy_requests.request_create,
         name="privacy_request_create"),
    path("app/confidentialite/demandes/<int:pk>/", privacy_requests.request_detail,
         name="privacy_request_detail"),
    path("app/confidentialite/demandes/<int:pk>/action/", privacy_requests.request_action,
         name="privacy_request_action"),
    path("app/confidentialite/exports/<int:pk>/", privacy_requests.export_download,
         name="privacy_export_download"),
    path("espace/confidentialite/donnees/", privacy_requests.client_exports,
         name="privacy_client_exports"),
    path("espace/confidentialite/donnees/<int:pk>/", privacy_requests.client_export_download,
         name="privacy_client_export_download"),
    path("app/rapports/envois/", reports_exports.scheduled_exports,
         name="reports_scheduled_exports"),
    path("app/rapports/envois/<int:pk>/arreter/", reports_exports.scheduled_export_delete,
         name="reports_scheduled_export_delete"),
    path("app/rapports/direct/", reports_team.live, name="reports_live"),
    path("app/rapports/equipe/", reports_team.team_page, name="reports_team"),
    path("app/rapports/effectifs/", reports_team.staffing_page, name="reports_staffing"),
    path("app/rapports/objectifs/", reports_team.objectives_page, name="reports_objectives"),
    path("app/rapports/objectifs/<int:pk>/supprimer/", reports_team.objective_delete,
         name="reports_objective_delete"),
    path("app/rapports/challenges/<int:pk>/supprimer/", reports_team.challenge_delete,
         name="reports_challenge_delete"),
    path("espace/rapports/", reports_client.client_reports, name="reports_client"),
    path("espace/rapports/<int:year>-<int:month>.pdf", reports_client.client_pdf,
         name="reports_client_pdf"),
    path("app/rapports/export.csv", reports_views.export, {"fmt": "csv"},
         name="reports_export_csv"),
    path("app/rapports/export.xlsx", reports_views.export, {"fmt": "xlsx"},
         name="reports_export_xlsx"),
    path("app/", include("permanence.accounts.urls")),
    path("app/", include("permanence.calendars.urls")),
    path("app/audit/", include("permanence.accounts.urls_audit")),
    path("app/parametres/webhooks/", include("permanence.integrations.urls")),
    path("espace/aide/", include("permanence.knowledge.urls_portal")),
    path("espace/", include("permanence.portal.urls")),
    path("contact/", include("permanence.channels_webform.urls")),
    path("devis/", include("permanence.shop.quotes.urls_public")),
    path("", include("permanence.shop.urls")),
    path("", include("permanence.catalog.urls")),
    path("", include("permanence.agenda.urls_public")),
    path("", include("permanence.knowledge.urls_public")),
    path("satisfaction/<str:token>/", surveys_views.survey, name="survey"),
    # « J'ai pris connaissance »: the recipient of a forwarded message, without logging in.
    path("poste/lu/<str:token>/", desk_calls_views.forward_read, name="forward_read"),
    path("api/v1/", api.urls),
    path("django-admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
]

if settings.DEBUG:
    urlpatterns.append(path("media/<path:path>", serve, {"document_root": settings.MEDIA_ROOT}))
