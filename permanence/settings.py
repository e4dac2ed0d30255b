"""Settings, read from the environment only (12-factor).

Nothing here is meant to be edited per installation: set environment variables instead.
See the configuration table in README.md.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PERMANENCE_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)
VERSION = "0.1.0"


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _secret_key() -> str:
    """SECRET_KEY from the environment, or generated once into var/ for local use."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()
DEBUG = env_bool("DEBUG")
# PRODUCTION turns on the HTTPS-only hardening checked by `check --deploy`.
PRODUCTION = env_bool("PRODUCTION")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Public base URL (links in e-mails). Unset: derived from HOST/PORT, those `make demo` and
# `manage.py runstack` listen on (0.0.0.0 / :: are reached through 127.0.0.1).
_SITE_HOST = os.environ.get("HOST", "127.0.0.1").strip() or "127.0.0.1"
if _SITE_HOST in ("0.0.0.0", "::"):  # noqa: S104 (not a bind: the address to link to)  # nosec B104
    _SITE_HOST = "127.0.0.1"
elif ":" in _SITE_HOST:
    _SITE_HOST = f"[{_SITE_HOST}]"
SITE_URL = (os.environ.get("SITE_URL", "").strip() or (
    f"http://{_SITE_HOST}:{os.environ.get('PORT', '').strip() or '8000'}")).rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "channels",
    "django_htmx",
    "template_partials",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "permanence.core",
    "permanence.accounts",
    "permanence.calendars",
    "permanence.audit",
    "permanence.portal",
    "permanence.inbox",
    "permanence.desk",
    "permanence.agenda",
    # Before channels_email: on a live chat, the inbox prefers the chat reply channel (the
    # first registered that can reach the contact); once the chat is over, e-mail takes it.
    "permanence.livechat",
    "permanence.channels_email",
    "permanence.channels_webform",
    # After channels_email: the inbox prefers the reply channel registered first (e-mail).
    "permanence.channels_sms",
    "permanence.integrations",
    "permanence.catalog",
    "permanence.shop",
    "permanence.payments",
    "permanence.billing",
    "permanence.recovery",
    "permanence.einvoicing",
    "permanence.knowledge",
    "permanence.feedback",
    "permanence.quality",
    "permanence.reports",
    "permanence.privacy",
    "permanence.status",
    "permanence.planning",
    "permanence.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "permanence.core.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "permanence.core.middleware.LanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "permanence.core.middleware.RequestContextMiddleware",
    "permanence.core.middleware.DomainErrorMiddleware",
    # Staff whose role requires two-factor authentication are sent to enrol first.
    "permanence.accounts.middleware.TwoFactorPolicyMiddleware",
    # Axes last: it turns a locked-out login into a clear French page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "permanence.urls"
ASGI_APPLICATION = "permanence.asgi.application"
WSGI_APPLICATION = "permanence.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "permanence" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "permanence.context_processors.platform",
            ],
        },
    }
]

# --- Database -----------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'permanence.sqlite3'}"
# No persistent connections: under ASGI (uvicorn) each request's synchronous code runs in a
# thread of its own, and a connection kept by a finished thread is never reused nor closed —
# /healthz under load exhausted PostgreSQL's max_connections. On PostgreSQL, psycopg's pool
# instead (DB_POOL, on by default): a request takes a connection and gives it back when it
# ends, rather than opening one (a new server process, ~2 ms) for each request.
DATABASES = {"default": dj_database_url.parse(
    DATABASE_URL, conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "0")))}
if (DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
        and DATABASES["default"]["CONN_MAX_AGE"] == 0 and env_bool("DB_POOL", default=True)):
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": int(os.environ.get("DB_POOL_MIN", "1")),
        "max_size": int(os.environ.get("DB_POOL_MAX", "10")),
        "timeout": float(os.environ.get("DB_POOL_TIMEOUT", "10")),
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool(
        "DB_PREPARED", default=False):
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"server_side_binding": True, "prepare_threshold": 3})
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # IMMEDIATE: writers take the lock at BEGIN, so concurrent writers wait (busy timeout)
        # instead of failing halfway through a transaction.
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        ),
    }
    # Tests use a file, as the product does, not Django's shared-cache in-memory default:
    # that one takes table locks that fail at once ("database table is locked") instead of
    # waiting for the busy timeout, so tests with concurrent writers saw a database the
    # product never runs on. One file per test process (several test runs may share a
    # checkout; pytest-xdist workers are processes of their own too).
    DATABASES["default"]["TEST"] = {
        "NAME": str(VAR_DIR / f"test-permanence-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache and channel layer -----------------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            # Redis down, the cache degrades to misses and skipped writes instead of 500s
            # (core/resilient_cache.py); short timeouts bound what a hung Redis costs a page.
            "BACKEND": "permanence.core.resilient_cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 2},
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "permanence")
            + os.environ.get("PYTEST_XDIST_WORKER", ""),  # as the channel layer's prefix
        }
    }
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # Test workers running in parallel (pytest-xdist sets PYTEST_XDIST_WORKER, which
            # the processes a test starts inherit) share one Redis: each its own groups.
            # socket_timeout: redis-py's default (5 s) equals channels_redis's blocking pop
            # (5 s), so an idle socket's receive could time out and drop it
            # (django/channels_redis#422): wait without a limit instead.
            # max_connections: redis-py's pool refuses a command past 100 connections in use
            # (MaxConnectionsError) instead of waiting; 200 chat visitors connecting at once
            # each join their groups at the same moment.
            "CONFIG": {"hosts": [{"address": REDIS_URL, "socket_timeout": None,
                                  "max_connections": 1000}],
                       "prefix": "asgi" + os.environ.get("PYTEST_XDIST_WORKER", "")},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # In-memory in the web process; the other processes (gateway, worker, scheduler) relay
    # their pushes to it over loopback when runstack gives them LIVE_RELAY_URL
    # (see permanence/core/live_layer.py).
    CHANNEL_LAYERS = {"default": {
        "BACKEND": "permanence.core.live_layer.RelayChannelLayer",
        "CONFIG": {"relay_url": os.environ.get("LIVE_RELAY_URL", "")},
    }}

# --- Background tasks -------------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": os.environ.get("TASKS_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default", "email"],
        # django-tasks 0.12 has no ENQUEUE_ON_COMMIT: services enqueue from
        # transaction.on_commit themselves (see inbox/events.py, core/mail.py).
    }
}

# --- Authentication ---------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "after_login"
LOGOUT_REDIRECT_URL = "home"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24

# Login rate limiting: after AXES_FAILURE_LIMIT failures for one user from one IP, refuse
# further attempts for AXES_COOLOFF_MINUTES.
# Staff two-factor authentication: the roles (accounts.models.Role values, comma-separated)
# that must enrol before using the back-office. `make demo` sets it empty.
TWO_FACTOR_REQUIRED_ROLES = [
    r.strip() for r in os.environ.get("TWO_FACTOR_REQUIRED_ROLES", "admin,billing").split(",")
    if r.strip()]
# How long the code step of a login waits after the password step, in seconds.
TWO_FACTOR_PENDING_SECONDS = 300
# Field-level encryption (core.crypto): comma-separated Fernet keys, the first encrypts, all
# decrypt (rotation: README › Sécurité). Empty: a key derived from SECRET_KEY.
FIELD_ENCRYPTION_KEYS = os.environ.get("FIELD_ENCRYPTION_KEYS", "")
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["ip_address", "username"]]
AXES_USERNAME_FORM_FIELD = "username"
# Case-insensitive, like the login itself (see accounts.forms.axes_username).
AXES_USERNAME_CALLABLE = "permanence.accounts.forms.axes_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
AXES_ENABLE_ACCESS_FAILURE_LOG = False
AXES_IPWARE_PROXY_COUNT = int(os.environ.get("PROXY_COUNT", "0")) or None

# --- Internationalisation ---------------------------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "permanence" / "locale"]
TIME_ZONE = os.environ.get("TIME_ZONE", "Europe/Paris")
USE_I18N = True
USE_TZ = True

# --- Static and media -------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("STATIC_MANIFEST", PRODUCTION)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# A request body larger than this is refused with 413 before it is received
# (core/body_limit.py): several attachments of 10 Mo fit, a disk-filling upload does not.
REQUEST_MAX_BYTES = int(os.environ.get("REQUEST_MAX_BYTES", str(64 * 1024 * 1024)))

# --- E-mail -----------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "127.0.0.1")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "1025"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS")
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL")
EMAIL_TIMEOUT = 15
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "mails"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Permanence <no-reply@permanence.test>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_MAX_ATTEMPTS = 5

# --- Security ---------------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = 60 * 60 * 12
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
# /healthz is probed over plain HTTP by load balancers.
# The live relay is posted to over loopback HTTP by the other local processes.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^internal/live-relay/$"]

# --- Logging ----------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # Library chatter that drowns the demo's console: WeasyPrint logs every layout step, the
    # SMTP server every command of every session.
    "loggers": {"axes": {"level": "WARNING"}, "weasyprint": {"level": "WARNING"},
                "factur-x": {"level": "WARNING"},
                "mail.log": {"level": "WARNING"}},
}

# --- Permanence -------------------------------------------------------------------------------
# Each worker beats every WORKER_HEARTBEAT_SECONDS; after WORKER_HEARTBEAT_STALE_AFTER
# seconds without a beat /healthz says "stale", and the tasks it was running are queued again
# by the other workers (core/task_leases.py).
WORKER_HEARTBEAT_SECONDS = float(os.environ.get("WORKER_HEARTBEAT_SECONDS", "15"))
WORKER_HEARTBEAT_STALE_AFTER = float(os.environ.get("WORKER_STALE_SECONDS", "120"))
NINJA_PAGINATION_PER_PAGE = 50
# Backups (manage.py backup / restore, privacy/backup.py): where the archives go, how many are
# kept, and after how many hours without a successful one /healthz says "stale" and the
# administrators get an e-mail (once a day). The encryption key is read from the BACKUP_KEY
# environment variable by the commands themselves, never kept in settings.
BACKUP_DIR = Path(os.environ.get("BACKUP_DIR", VAR_DIR / "backups"))
BACKUP_KEEP = int(os.environ.get("BACKUP_KEEP", "14"))
BACKUP_STALE_HOURS = float(os.environ.get("BACKUP_STALE_HOURS", "26"))
# A data export's ZIP (access, portability, reversibility) is deleted this many days after it
# was built: it holds a copy of personal data in clear (privacy.requests.exports_expire).
PRIVACY_EXPORT_KEEP_DAYS = int(os.environ.get("PRIVACY_EXPORT_KEEP_DAYS", "30"))
# Knowledge base: an article not reviewed for this many days is flagged stale; the bot hands
# over to a person below this confidence (0..1).
KNOWLEDGE_STALE_DAYS = int(os.environ.get("KNOWLEDGE_STALE_DAYS", "180"))
BOT_CONFIDENCE_THRESHOLD = float(os.environ.get("BOT_CONFIDENCE_THRESHOLD", "0.5"))
# Inbound e-mail gateway (manage.py mailgateway): SMTP on 127.0.0.1:MAILGATEWAY_PORT.
MAILGATEWAY_HOST = os.environ.get("MAILGATEWAY_HOST", "127.0.0.1")
MAILGATEWAY_PORT = int(os.environ.get("MAILGATEWAY_PORT", "2525"))
MAILGATEWAY_PROCESSES = int(os.environ.get("MAILGATEWAY_PROCESSES", "1"))
MAILGATEWAY_MAX_BYTES = int(os.environ.get("MAILGATEWAY_MAX_BYTES", str(25 * 1024 * 1024)))
# At most this many automatic replies (acknowledgements) per contact per day.
AUTO_REPLY_DAILY_LIMIT = int(os.environ.get("AUTO_REPLY_DAILY_LIMIT", "5"))

# --- Payments (Stripe hosted Checkout; payments engineer) -------------------------------------
# Without STRIPE_SECRET_KEY the site runs in test mode: the Stripe client talks to the local
# stand-in (manage.py stripe_standin, started by runstack on 127.0.0.1:STRIPE_STANDIN_PORT) and
# pages say "Mode test". runstack shares one generated webhook secret with every process.
STRIPE_SECRET_KEY = os.environ.get("STRIPE_SECRET_KEY", "")
PAYMENTS_TEST_MODE = not STRIPE_SECRET_KEY
STRIPE_STANDIN_PORT = int(os.environ.get("STRIPE_STANDIN_PORT", "12111"))
if PAYMENTS_TEST_MODE:
    STRIPE_SECRET_KEY = "sk_test_standin"  # noqa: S105 (the local stand-in's key)  # nosec B105
STRIPE_API_BASE = (os.environ.get("STRIPE_API_BASE") or (
    f"http://127.0.0.1:{STRIPE_STANDIN_PORT}" if PAYMENTS_TEST_MODE
    else "https://api.stripe.com")).rstrip("/")
STRIPE_WEBHOOK_SECRET = os.environ.get("STRIPE_WEBHOOK_SECRET", "")
if PAYMENTS_TEST_MODE and not STRIPE_WEBHOOK_SECRET:
    import hashlib as _hashlib

    STRIPE_WEBHOOK_SECRET = "whsec_" + _hashlib.sha256(
        f"stripe-standin:{SECRET_KEY}".encode()).hexdigest()[:32]
STRIPE_WEBHOOK_TOLERANCE = int(os.environ.get("STRIPE_WEBHOOK_TOLERANCE", "300"))

# --- Dunning (recovery: payment incidents, issue 12) -------------------------------------------
# Days after a payment failed: retries of the saved card / SEPA mandate, reminder e-mails,
# then the subscription is suspended (« en défaut de paiement ») until the invoice is paid.
BILLING_DUNNING_RETRY_DAYS = (2, 9, 19)
BILLING_DUNNING_REMINDER_DAYS = (3, 10, 20)
BILLING_DUNNING_SUSPEND_DAYS = 30

# --- E-invoicing (einvoicing: the plateforme agréée, AFNOR XP Z12-013 flow API) -----------------
# Issued invoices to French businesses are deposited there (Bearer EINVOICING_PLATFORM_TOKEN);
# their lifecycle statuses are polled back. Without EINVOICING_PLATFORM_URL the site runs in
# e-invoicing test mode: the local stand-in (manage.py einvoicing_standin) on
# 127.0.0.1:EINVOICING_STANDIN_PORT. EINVOICING_SYNTAX: "Factur-X" (the PDF/A-3) or "CII" (the
# XML alone). EINVOICING_FROM (YYYY-MM-DD): invoices issued before it are never transmitted.
EINVOICING_PLATFORM_URL = os.environ.get("EINVOICING_PLATFORM_URL", "").rstrip("/")
EINVOICING_TEST_MODE = not EINVOICING_PLATFORM_URL
EINVOICING_STANDIN_PORT = int(os.environ.get("EINVOICING_STANDIN_PORT", "12112"))
EINVOICING_PLATFORM_TOKEN = os.environ.get("EINVOICING_PLATFORM_TOKEN", "")
if EINVOICING_TEST_MODE:
    EINVOICING_PLATFORM_URL = f"http://127.0.0.1:{EINVOICING_STANDIN_PORT}"
    EINVOICING_PLATFORM_TOKEN = EINVOICING_PLATFORM_TOKEN or "standin-token"
EINVOICING_SYNTAX = os.environ.get("EINVOICING_SYNTAX", "Factur-X")
if EINVOICING_SYNTAX not in ("Factur-X", "CII"):
    raise ImproperlyConfigured("EINVOICING_SYNTAX must be Factur-X or CII")
EINVOICING_FROM = os.environ.get("EINVOICING_FROM", "")

# --- Telephony (desk: call events from a PBX or a provider) -------------------------------------
# Generic webhook POST /api/v1/telephony/events, signed with TELEPHONY_WEBHOOK_SECRET. Unset, the
# desk runs in telephony test mode: a secret is derived from SECRET_KEY (the same in every process
# of one installation, so `manage.py simulate_call` signs what the web process accepts) and
# supervisors get a « Simuler un appel » button.
TELEPHONY_WEBHOOK_SECRET = os.environ.get("TELEPHONY_WEBHOOK_SECRET", "")
TELEPHONY_TEST_MODE = not TELEPHONY_WEBHOOK_SECRET
if TELEPHONY_TEST_MODE:
    import hashlib as _hashlib

    TELEPHONY_WEBHOOK_SECRET = "telsec_" + _hashlib.sha256(
        f"telephony-test:{SECRET_KEY}".encode()).hexdigest()[:32]
TELEPHONY_WEBHOOK_TOLERANCE = int(os.environ.get("TELEPHONY_WEBHOOK_TOLERANCE", "300"))
# How stored call events are processed: "background" (a thread of each web process, woken by
# each new event, processes them in batches: the PBX's answer waits only for the storage) or
# "inline" (in the request). The test suite uses "inline": its data lives in a transaction a
# thread of its own would not see.
TELEPHONY_PROCESSING = os.environ.get("TELEPHONY_PROCESSING", "background")
if TELEPHONY_PROCESSING not in ("background", "inline"):
    raise ImproperlyConfigured("TELEPHONY_PROCESSING must be background or inline")
# Twilio voice status callbacks (X-Twilio-Signature is checked with this token).
TWILIO_AUTH_TOKEN = os.environ.get("TWILIO_AUTH_TOKEN", "")
# Asterisk AMI (manage.py ami_listener); ASTERISK_AGENTS maps extensions to agents' e-mails:
# "101=agent@exemple.fr,102=agent2@exemple.fr".
AMI_HOST = os.environ.get("AMI_HOST", "127.0.0.1")
AMI_PORT = int(os.environ.get("AMI_PORT", "5038"))
AMI_USERNAME = os.environ.get("AMI_USERNAME", "")
AMI_SECRET = os.environ.get("AMI_SECRET", "")
ASTERISK_AGENTS = os.environ.get("ASTERISK_AGENTS", "")
# A missed call is to be called back within this many business minutes (unless the consignes
# say otherwise: their "callback_minutes").
DESK_CALLBACK_MINUTES = int(os.environ.get("DESK_CALLBACK_MINUTES", "60"))

# --- SMS (channels_sms: providers, receipts, inbound SMS) ---------------------------------------
# SMS_BACKEND: "file" (demo: each SMS written to SMS_FILE_PATH, then reported delivered),
# "twilio" (Messaging API; TWILIO_AUTH_TOKEN above also checks its webhooks) or "brevo".
SMS_BACKEND = os.environ.get("SMS_BACKEND", "file").strip().lower()
SMS_FILE_PATH = os.environ.get("SMS_FILE_PATH", str(VAR_DIR / "sms"))
SMS_FROM = os.environ.get("SMS_FROM", "Permanence")  # the file backend's default sender
TWILIO_ACCOUNT_SID = os.environ.get("TWILIO_ACCOUNT_SID", "")
TWILIO_FROM = os.environ.get("TWILIO_FROM", "")
TWILIO_MESSAGING_SERVICE_SID = os.environ.get("TWILIO_MESSAGING_SERVICE_SID", "")
TWILIO_API_BASE = os.environ.get("TWILIO_API_BASE", "https://api.twilio.com").rstrip("/")
# Outbound campaigns: "manual" (the agent dials; the page gives a tel: link) or "twilio"
# (click-to-call through Twilio's Calls API: rings the agent's phone, then the person).
CALL_DIALER = os.environ.get("CALL_DIALER", "manual")
# Call recordings are fetched server-side (never linked directly); a PBX on the local network
# needs this set to 1 (private addresses are refused otherwise, like outgoing webhooks).
RECORDINGS_ALLOW_PRIVATE = os.environ.get("RECORDINGS_ALLOW_PRIVATE", "") == "1"
# CalDAV servers on a private or loopback address (an agenda server inside the operator's
# network): refused unless allowed, so that an agenda's URL cannot reach internal services.
CALDAV_ALLOW_PRIVATE = os.environ.get("CALDAV_ALLOW_PRIVATE", "") == "1"
BREVO_API_KEY = os.environ.get("BREVO_API_KEY", "")
BREVO_SMS_SENDER = os.environ.get("BREVO_SMS_SENDER", "Permanence")
BREVO_API_BASE = os.environ.get("BREVO_API_BASE", "https://api.brevo.com").rstrip("/")
BREVO_WEBHOOK_TOKEN = os.environ.get("BREVO_WEBHOOK_TOKEN", "")
