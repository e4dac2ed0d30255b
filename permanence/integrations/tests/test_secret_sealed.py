"""The outgoing webhooks' signing secret is a credential we must use again: stored encrypted
(core.crypto), read back for signing, and a row written before that is sealed by the key
rotation command."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from permanence.core.crypto import PREFIX
from permanence.integrations.models import WebhookEndpoint

pytestmark = pytest.mark.django_db


def _raw(pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM integrations_webhookendpoint WHERE id = %s", [pk])
        return str(cursor.fetchone()[0])


def test_the_signing_secret_is_ciphertext_at_rest(account: Any) -> None:
    endpoint = WebhookEndpoint.objects.create(account=account, url="https://hooks.example.fr/x")
    plain = endpoint.secret
    assert plain.startswith("whsec_")
    assert _raw(endpoint.pk).startswith(PREFIX) and plain not in _raw(endpoint.pk)
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).secret == plain


def test_a_secret_stored_before_is_sealed_by_the_rotation(account: Any) -> None:
    endpoint = WebhookEndpoint.objects.create(account=account, url="https://hooks.example.fr/x")
    with connection.cursor() as cursor:  # as a row written before the field was sealed
        cursor.execute("UPDATE integrations_webhookendpoint SET secret = %s WHERE id = %s",
                       ["whsec_legacy", endpoint.pk])
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).secret == "whsec_legacy"
    out = StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    assert "integrations.WebhookEndpoint.secret: 1" in out.getvalue()
    assert _raw(endpoint.pk).startswith(PREFIX)
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).secret == "whsec_legacy"
