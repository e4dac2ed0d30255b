"""An issued invoice (or credit note) never changes: the database itself refuses to alter its
content or its lines (PostgreSQL and SQLite), or to delete either (PostgreSQL). Only the payment
status, the amount paid, the e-invoicing lifecycle status, the e-mail stamp and the archived
PDF's location (written once, right after issue) may move."""

from django.db import migrations

CONTENT = ["kind", "number", "account_id", "subscription_id", "order_id", "credit_of_id",
           "issued_on", "period_start", "period_end", "due_on", "seller", "buyer", "currency",
           "total_ht_cents", "total_vat_cents", "total_ttc_cents", "vat_breakdown", "mentions",
           "reason", "complaint_conversation_id", "content_hash", "facturx_xml", "created_at"]
MESSAGE = "billing: an issued invoice cannot be changed (issue a credit note)"

PG = f"""
CREATE OR REPLACE FUNCTION billing_invoice_immutable() RETURNS trigger AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    RAISE EXCEPTION '{MESSAGE}';
  END IF;
  IF ({", ".join("NEW." + c for c in CONTENT)}) IS DISTINCT FROM
     ({", ".join("OLD." + c for c in CONTENT)}) THEN
    RAISE EXCEPTION '{MESSAGE}';
  END IF;
  IF OLD.pdf_sha256 <> '' AND (NEW.pdf_sha256 IS DISTINCT FROM OLD.pdf_sha256
                               OR NEW.pdf IS DISTINCT FROM OLD.pdf) THEN
    RAISE EXCEPTION '{MESSAGE}';
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER billing_invoice_immutable BEFORE UPDATE OR DELETE ON billing_invoice
  FOR EACH ROW EXECUTE FUNCTION billing_invoice_immutable();
CREATE OR REPLACE FUNCTION billing_invoiceline_immutable() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION '{MESSAGE}';
END $$ LANGUAGE plpgsql;
CREATE TRIGGER billing_invoiceline_immutable BEFORE UPDATE OR DELETE ON billing_invoiceline
  FOR EACH ROW EXECUTE FUNCTION billing_invoiceline_immutable();
"""

PG_DROP = """
DROP TRIGGER IF EXISTS billing_invoice_immutable ON billing_invoice;
DROP FUNCTION IF EXISTS billing_invoice_immutable();
DROP TRIGGER IF EXISTS billing_invoiceline_immutable ON billing_invoiceline;
DROP FUNCTION IF EXISTS billing_invoiceline_immutable();
"""

_CHANGED = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in CONTENT)
# SQLite: no DELETE trigger. Its TRUNCATE is a DELETE, which the test suite's flush between
# tests runs; deletion is refused there by the foreign keys (PROTECT) and by no code path
# deleting invoices. PostgreSQL's TRUNCATE does not fire row triggers: it has both.
SQLITE = [
    f"""CREATE TRIGGER billing_invoice_immutable BEFORE UPDATE ON billing_invoice
        WHEN {_CHANGED} OR (OLD.pdf_sha256 <> '' AND (NEW.pdf_sha256 IS NOT OLD.pdf_sha256
                                                      OR NEW.pdf IS NOT OLD.pdf))
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
    f"""CREATE TRIGGER billing_invoiceline_immutable BEFORE UPDATE ON billing_invoiceline
        BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END""",
]
SQLITE_DROP = ["DROP TRIGGER IF EXISTS billing_invoice_immutable",
               "DROP TRIGGER IF EXISTS billing_invoiceline_immutable"]


def forwards(apps, schema_editor):  # noqa: ARG001
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE:
            schema_editor.execute(statement)


def backwards(apps, schema_editor):  # noqa: ARG001
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_DROP)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE_DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("billing", "0005_invoices_usage")]
    operations = [migrations.RunPython(forwards, backwards)]
