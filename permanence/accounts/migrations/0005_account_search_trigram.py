"""Client-account search at scale (issue 9): trigram indexes for accounts.selectors.
account_list on PostgreSQL — word similarity of the name and legal name (typos: "ordonance"
finds "Pharmacie de l'Ordonnance") and substrings (Django's icontains, `UPPER(col) LIKE`) of
the name, billing e-mail and the accounts' e-mail addresses and phone numbers. Nothing to do
on other engines."""

from typing import Any

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

INDEXES = {
    "accounts_clientaccount_name_trgm": "accounts_clientaccount USING gin (name gin_trgm_ops)",
    "accounts_clientaccount_legal_name_trgm":
        "accounts_clientaccount USING gin (legal_name gin_trgm_ops)",
    "accounts_clientaccount_upper_name_trgm":
        "accounts_clientaccount USING gin ((UPPER(name::text)) gin_trgm_ops)",
    "accounts_clientaccount_upper_billing_email_trgm":
        "accounts_clientaccount USING gin ((UPPER(billing_email::text)) gin_trgm_ops)",
    "accounts_contactchannel_upper_value_trgm":
        "accounts_contactchannel USING gin ((UPPER(value::text)) gin_trgm_ops)",
}


def install(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for name, definition in INDEXES.items():
            schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}",
                                  params=None)


def uninstall(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for name in INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}", params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("accounts", "0004_model_names_and_phones_e164"),
    ]

    operations = [
        TrigramExtension(),
        migrations.RunPython(install, uninstall, elidable=False),
    ]
