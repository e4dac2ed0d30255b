"""Conversation.preview: the start of the last message, shown in the inbox list; filled here
for the existing conversations, in batches (the list never reads the messages)."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery
from django.db.models.functions import Substr

BATCH = 2000
PREVIEW_LENGTH = 120  # as inbox.models.PREVIEW_LENGTH when this migration was written


def _preview(text):
    line = " ".join((text or "").split())
    return line if len(line) <= PREVIEW_LENGTH else line[:PREVIEW_LENGTH - 1].rstrip() + "…"


def backfill(apps, schema_editor):
    Conversation = apps.get_model("inbox", "Conversation")
    Message = apps.get_model("inbox", "Message")
    last_body = Subquery(Message.objects.filter(
        conversation=OuterRef("pk"), direction__in=["in", "out", "note"],
    ).order_by("-created_at", "-id").values("body_text")[:1])
    last = 0
    while True:
        rows = list(Conversation.objects.filter(pk__gt=last).order_by("pk")
                    .annotate(body=Substr(last_body, 1, 1000)).values_list("pk", "body")[:BATCH])
        if not rows:
            return
        last = rows[-1][0]
        changed = [Conversation(pk=pk, preview=_preview(body)) for pk, body in rows if body]
        Conversation.objects.bulk_update(changed, ["preview"], batch_size=500)


class Migration(migrations.Migration):

    dependencies = [
        ("inbox", "0011_delivery_truth_sla_clock"),
    ]

    operations = [
        migrations.AddField(
            model_name="conversation",
            name="preview",
            field=models.CharField(blank=True, default="", max_length=120,
                                   verbose_name="aperçu"),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True),
    ]
