"""Django admin: maintenance tool for superusers only (see urls.py), not the daily UI."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import ApiToken, ClientAccount, ContactChannel, Membership, OperatorIdentity, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "role", "is_active", "is_superuser"]
    list_filter = ["role", "is_active", "is_superuser"]
    search_fields = ["email", "full_name"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profil", {"fields": ("full_name", "phone", "language", "role")}),
        ("Droits", {"fields": ("is_active", "is_staff", "is_superuser")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",),
                             "fields": ("email", "role", "password1", "password2")}),)


class ChannelInline(admin.TabularInline):
    model = ContactChannel
    extra = 0


@admin.register(ClientAccount)
class ClientAccountAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "sector", "kind", "status", "is_operator"]
    list_filter = ["status", "sector", "kind"]
    search_fields = ["name", "slug", "siret"]
    filter_horizontal = ["assigned_agents"]
    inlines = [ChannelInline]


admin.site.register(Membership)
admin.site.register(OperatorIdentity)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["token_hash", "prefix"]
