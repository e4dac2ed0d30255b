# French model names for the audit log, and phone numbers in E.164 (issue 9): the numbers
# typed at checkout before phonenumbers was used are normalised; what cannot be parsed is kept.

import phonenumbers
from django.db import migrations


def e164(value):
    text = (value or "").strip()
    if not text:
        return value
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, "FR")
    except phonenumbers.NumberParseException:
        return value
    if not phonenumbers.is_valid_number(number):
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise(apps, schema_editor):
    for model, field in (("Order", "billing_phone"), ("Quote", "requester_phone")):
        Model = apps.get_model("shop", model)
        for pk, value in Model.objects.exclude(**{field: ""}).values_list("pk", field):
            new = e164(value)
            if new != value:
                Model.objects.filter(pk=pk).update(**{field: new})


class Migration(migrations.Migration):

    dependencies = [
        ('shop', '0003_order_event'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='order',
            options={'ordering': ['-created_at', '-pk'], 'verbose_name': 'commande'},
        ),
        migrations.AlterModelOptions(
            name='quote',
            options={'ordering': ['-created_at', '-pk'], 'verbose_name': 'devis', 'verbose_name_plural': 'devis'},
        ),
        migrations.RunPython(normalise, migrations.RunPython.noop),
    ]
