from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrateur")
    SUPERVISOR = "supervisor", _("Superviseur")
    AGENT = "agent", _("Télésecrétaire")
    BILLING = "billing", _("Comptabilité")
    CLIENT = "client", _("Client")


STAFF_ROLES = (Role.ADMIN, Role.SUPERVISOR, Role.AGENT, Role.BILLING)
# Who answers customers and may be given a conversation (billing reads, it does not answer).
ASSIGNABLE_ROLES = (Role.ADMIN, Role.SUPERVISOR, Role.AGENT)


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, username: str | None) -> User:
        # E-mail login is case-insensitive.
        return self.get(email__iexact=username)

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("role", Role.ADMIN)
        extra.setdefault("is_superuser", True)
        extra.setdefault("is_staff", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(_("adresse e-mail"), unique=True)
    full_name = models.CharField(_("nom complet"), max_length=150, blank=True)
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    role = models.CharField(_("rôle"), max_length=16, choices=Role.choices, default=Role.CLIENT)
    is_active = models.BooleanField(_("actif"), default=True)
    # Django's is_staff only opens the Django admin, which we keep for superusers.
    is_staff = models.BooleanField(default=False)
    language = models.CharField(
        _("langue"), max_length=8, choices=settings.LANGUAGES, default="fr"
    )
    date_joined = models.DateTimeField(default=timezone.now)
    notify_by_email = models.BooleanField(_("notifications par e-mail"), default=True)
    # Two-factor authentication (staff; see accounts/services_two_factor.py). The TOTP secret is
    # encrypted (accounts.totp); it is set but not yet in force while enrolment awaits its
    # first code (totp_enabled_at empty).
    totp_secret_encrypted = models.TextField(blank=True, default="")
    totp_enabled_at = models.DateTimeField(_("double authentification depuis"), null=True,
                                           blank=True)
    totp_last_step = models.BigIntegerField(null=True, blank=True)  # refuses replays
    # Bumped to sign out every other session (2FA enabled, disabled or reset).
    session_epoch = models.PositiveIntegerField(default=0)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []  # type: ignore[misc]

    class Meta:
        verbose_name = _("utilisateur")
        ordering = ["email"]
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self) -> str:
        return self.full_name or self.email

    @property
    def is_staff_member(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_client(self) -> bool:
        return self.role == Role.CLIENT

    @property
    def two_factor_enabled(self) -> bool:
        return self.totp_enabled_at is not None

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        # Django signs each session with a hash of the password, so a password change signs
        # out the other sessions; the epoch does the same on a change of two-factor
        # authentication. Epoch 0 keeps Django's own hash (no one signed out on upgrade).
        if not self.session_epoch:
            return super()._get_session_auth_hash(secret=secret)  # type: ignore[misc]
        return salted_hmac(
            "permanence.accounts.User.get_session_auth_hash",
            f"{self.password}:{self.session_epoch}", secret=secret, algorithm="sha256",
        ).hexdigest()


class AccountKind(models.TextChoices):
    PROFESSIONAL = "professionnel", _("Professionnel")
    INDIVIDUAL = "particulier", _("Particulier")


class Sector(models.TextChoices):
    MEDICAL = "medical", _("Médical")
    LEGAL = "juridique", _("Juridique")
    TRADES = "artisan_btp", _("Artisan / BTP")
    ECOMMERCE = "ecommerce", _("E-commerce")
    SERVICES = "services", _("Services")
    OTHER = "autre", _("Autre")


class AccountStatus(models.TextChoices):
    PROSPECT = "prospect", _("Prospect")
    ACTIVE = "actif", _("Actif")
    SUSPENDED = "suspendu", _("Suspendu")
    TERMINATED = "resilie", _("Résilié")


class ClientAccount(models.Model):
    """A client business's workspace (compte client). The operator is one too."""

    name = models.CharField(_("nom"), max_length=200)
    slug = models.SlugField(_("identifiant"), max_length=80, unique=True)
    kind = models.CharField(
        _("type"), max_length=16, choices=AccountKind.choices, default=AccountKind.PROFESSIONAL
    )
    sector = models.CharField(_("secteur"), max_length=16, choices=Sector.choices,
                              default=Sector.OTHER)
    status = models.CharField(_("statut"), max_length=16, choices=AccountStatus.choices,
                              default=AccountStatus.PROSPECT)
    is_operator = models.BooleanField(_("compte de l'opérateur"), default=False)
    legal_name = models.CharField(_("raison sociale"), max_length=200, blank=True)
    siret = models.CharField(_("SIRET"), max_length=14, blank=True)
    vat_number = models.CharField(_("n° TVA intracommunautaire"), max_length=20, blank=True)
    billing_address = models.TextField(_("adresse de facturation"), blank=True)
    billing_email = models.EmailField(_("e-mail de facturation"), blank=True)
    notes = models.TextField(_("notes internes"), blank=True)
    calendar = models.ForeignKey(
        "calendars.BusinessCalendar", verbose_name=_("calendrier ouvré"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="accounts",
        help_text=_("Vide : le calendrier de l'opérateur s'applique."),
    )
    assigned_agents = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("télésecrétaires affectés"), blank=True,
        related_name="assigned_accounts",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("compte client")
        verbose_name_plural = _("comptes clients")
        ordering = ["name"]
        indexes = [
            models.Index(fields=["status", "name"]),
            models.Index(fields=["sector", "name"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["is_operator"], condition=models.Q(is_operator=True),
                name="single_operator_account",
            )
        ]

    def __str__(self) -> str:
        return self.name


class MembershipRole(models.TextChoices):
    OWNER = "titulaire", _("Titulaire")
    MEMBER = "membre", _("Membre")


class Membership(models.Model):
    """A client user's access to a client account."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="memberships")
    account = models.ForeignKey(ClientAccount, on_delete=models.CASCADE,
                                related_name="memberships")
    role = models.CharField(_("rôle"), max_length=16, choices=MembershipRole.choices,
                            default=MembershipRole.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("accès à un compte client")
        verbose_name_plural = _("accès aux comptes clients")
        constraints = [
            models.UniqueConstraint(fields=["user", "account"], name="membership_unique")
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.account}"


class ContactChannel(models.Model):
    """An e-mail address or phone number that reaches one account (unique across accounts)."""

    class Kind(models.TextChoices):
        EMAIL = "email", _("E-mail")
        PHONE = "phone", _("Téléphone")

    account = models.ForeignKey(ClientAccount, on_delete=models.CASCADE,
                                related_name="channels")
    kind = models.CharField(_("type"), max_length=8, choices=Kind.choices)
    # Normalised: e-mails lower-cased, phone numbers in E.164.
    value = models.CharField(_("adresse ou numéro"), max_length=254, unique=True)
    label = models.CharField(_("libellé"), max_length=80, blank=True)

    class Meta:
        ordering = ["kind", "value"]
        verbose_name = _("canal de contact")

    def __str__(self) -> str:
        return self.value


def operator_logo_path(instance: OperatorIdentity, filename: str) -> str:
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "png"
    return f"operator/logo-{timezone.now():%Y%m%d%H%M%S}.{ext}"


class OperatorIdentity(models.Model):
    """The télésecrétariat company itself (singleton, pk=1)."""

    legal_name = models.CharField(_("raison sociale"), max_length=200)
    siren = models.CharField(_("SIREN"), max_length=9, blank=True)
    siret = models.CharField(_("SIRET"), max_length=14, blank=True)
    vat_number = models.CharField(_("n° TVA intracommunautaire"), max_length=20, blank=True)
    address = models.TextField(_("adresse"), blank=True)
    iban = models.CharField(_("IBAN"), max_length=34, blank=True)
    # A FileField (no Pillow needed); the form checks the content is PNG, JPEG or SVG-free.
    logo = models.FileField(_("logo"), upload_to=operator_logo_path, blank=True)
    support_email = models.EmailField(_("e-mail du service client"), blank=True)
    support_phone = models.CharField(_("téléphone du service client"), max_length=30, blank=True)
    opening_hours_text = models.TextField(_("horaires d'ouverture (texte)"), blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("identité de l'opérateur")

    def __str__(self) -> str:
        return self.legal_name


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiToken(models.Model):
    """A personal API token. Only its SHA-256 is stored; the raw token is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="api_tokens")
    name = models.CharField(_("nom"), max_length=80)
    prefix = models.CharField(max_length=12)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("jeton d'API")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class BackupCode(models.Model):
    """A single-use recovery code for two-factor authentication; only its hash is kept."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="backup_codes")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("code de secours")
        constraints = [models.UniqueConstraint(fields=["user", "code_hash"],
                                               name="backup_code_user_hash_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} #{self.pk}"
