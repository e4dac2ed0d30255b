"""No double booking on PostgreSQL: an exclusion constraint over the resource and the block
(the appointment with its buffers) of active appointments. btree_gist lets the GiST index
compare the resource id with `=`. SQLite has no such constraint: the booking service checks
inside its write transaction, which SQLite serialises (see agenda.services)."""

from django.db import migrations

ACTIVE = "('held', 'confirmed', 'honoured', 'no_show')"


def forwards(apps, schema_editor):  # noqa: ARG001
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    schema_editor.execute(
        "ALTER TABLE agenda_appointment ADD CONSTRAINT agenda_no_overlap EXCLUDE USING gist "
        "(resource_id WITH =, tstzrange(block_start, block_end, '[)') WITH &&) "
        f"WHERE (status IN {ACTIVE})")


def backwards(apps, schema_editor):  # noqa: ARG001
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "ALTER TABLE agenda_appointment DROP CONSTRAINT IF EXISTS agenda_no_overlap")


class Migration(migrations.Migration):
    dependencies = [("agenda", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
