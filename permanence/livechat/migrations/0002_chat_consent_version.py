import hashlib

from django.db import migrations, models


def backfill(apps, schema_editor):
    """The chats started before: the version of the text they kept (the same hash as
    core.consent.text_version, written out: a migration does not import the app's code)."""
    ChatSession = apps.get_model("livechat", "ChatSession")
    for pk, text in ChatSession.objects.filter(consent_version="").values_list(
            "pk", "consent_text").iterator():
        version = hashlib.sha256(" ".join(text.split()).encode()).hexdigest()[:12]
        ChatSession.objects.filter(pk=pk).update(consent_version=version)


class Migration(migrations.Migration):

    dependencies = [
        ("livechat", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="chatsession",
            name="consent_version",
            field=models.CharField(blank=True, default="", max_length=12),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
