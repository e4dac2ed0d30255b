# Phone numbers in E.164 (issue 9): the stored numbers written before phonenumbers was used
# (the operator's support phone "+33 4 72 00 00 00", users' phones as typed) are normalised;
# a number that cannot be parsed, or whose normal form another channel already holds, is left
# as it is.

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
    ContactChannel = apps.get_model("accounts", "ContactChannel")
    User = apps.get_model("accounts", "User")
    OperatorIdentity = apps.get_model("accounts", "OperatorIdentity")
    for channel in ContactChannel.objects.filter(kind="phone").only("pk", "value"):
        new = e164(channel.value)
        if new != channel.value and not ContactChannel.objects.filter(value=new).exists():
            ContactChannel.objects.filter(pk=channel.pk).update(value=new)
    for user in User.objects.exclude(phone="").only("pk", "phone"):
        new = e164(user.phone)
        if new != user.phone:
            User.objects.filter(pk=user.pk).update(phone=new)
    for identity in OperatorIdentity.objects.exclude(support_phone="").only("pk", "support_phone"):
        new = e164(identity.support_phone)
        if new != identity.support_phone:
            OperatorIdentity.objects.filter(pk=identity.pk).update(support_phone=new)


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_alter_clientaccount_calendar'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='membership',
            options={'verbose_name': 'accès à un compte client', 'verbose_name_plural': 'accès aux comptes clients'},
        ),
        migrations.RunPython(normalise, migrations.RunPython.noop),
    ]
