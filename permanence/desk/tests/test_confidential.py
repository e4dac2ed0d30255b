"""Field-level encryption of the desk's most sensitive text (desk.confidential, core.crypto):
what the database holds is ciphertext, readers see the text, search does not reveal it, keys
rotate, and a dropped key never destroys a value."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from permanence.accounts.models import Sector
from permanence.audit.models import AuditEvent
from permanence.core import clock
from permanence.core.crypto import PREFIX, Unreadable
from permanence.core.errors import DomainError
from permanence.core.fields import SealedDict, UnreadableDict
from permanence.desk.consignes import consigne_save
from permanence.desk.models import Call, ConsigneVersion
from permanence.desk.record import call_record_save
from permanence.desk.selectors import call_search_condition
from permanence.inbox.models import Conversation, Direction, Message
from permanence.inbox.search import search_conversations

from .screen_helpers import THU_10H, manual_call, medical_practice, record_urgent, urgent_answers

SECRET_WORDS = "Douleur thoracique, rappeler immédiatement."


def _raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608  # nosec B608
        value = cursor.fetchone()[0]
    return value if isinstance(value, str) else str(value)


@pytest.fixture
def medical(account: Any, supervisor: Any) -> Any:
    account.sector = Sector.MEDICAL
    account.save(update_fields=["sector"])
    medical_practice(account, supervisor)
    return account


@pytest.fixture
def ordinary(account: Any) -> Any:
    account.sector = Sector.OTHER
    account.save(update_fields=["sector"])
    return account


@pytest.fixture
def keys(settings: Any) -> list[str]:
    first = [Fernet.generate_key().decode()]
    settings.FIELD_ENCRYPTION_KEYS = first[0]
    return first


def test_a_medical_accounts_message_is_ciphertext_in_the_database(
        medical: Any, agent: Any, keys: Any) -> None:
    call = record_urgent(agent, manual_call(agent, medical))
    raw_message = _raw("desk_call", "message", call.pk)
    assert raw_message.startswith(PREFIX) and "thoracique" not in raw_message
    raw_answers = _raw("desk_call", "answers", call.pk)
    assert PREFIX in raw_answers and "emergency" not in raw_answers
    first = call.conversation.messages.get(direction=Direction.IN)
    raw_body = _raw("inbox_message", "body_text", first.pk)
    assert raw_body.startswith(PREFIX) and "thoracique" not in raw_body
    # Nor a copy beside it: the list's preview and the search text hold none of its words.
    conversation = Conversation.objects.get(pk=call.conversation_id)
    assert "thoracique" not in conversation.preview + conversation.search_text
    # Readers get the text back.
    again = Call.objects.get(pk=call.pk)
    assert again.message == SECRET_WORDS and isinstance(again.answers, SealedDict)
    assert "emergency" in again.answers
    assert SECRET_WORDS in Message.objects.get(pk=first.pk).body_text


def test_an_ordinary_accounts_message_stays_plain_and_searchable(
        ordinary: Any, supervisor: Any, agent: Any, keys: Any) -> None:
    medical_practice(ordinary, supervisor)
    call = record_urgent(agent, manual_call(agent, ordinary))
    assert _raw("desk_call", "message", call.pk) == SECRET_WORDS
    found = Call.objects.filter(call_search_condition("thoracique"))
    assert list(found) == [call]


def test_a_sealed_message_is_not_found_by_its_words_nor_by_chance(
        medical: Any, agent: Any, keys: Any) -> None:
    call = record_urgent(agent, manual_call(agent, medical))
    assert not Call.objects.filter(call_search_condition("thoracique")).exists()
    # Three letters of the ciphertext itself would match a plain ILIKE: not here.
    token = _raw("desk_call", "message", call.pk)[len(PREFIX) + 10:len(PREFIX) + 16]
    assert not Call.objects.filter(call_search_condition(token)).exists()
    assert not search_conversations(Conversation.objects.all(), "thoracique").exists()
    # The caller is still found by name.
    assert list(Call.objects.filter(call_search_condition("Dupont"))) == [call]


def test_a_correction_is_sealed_and_the_audit_log_keeps_no_copy(
        medical: Any, agent: Any, keys: Any) -> None:
    call = record_urgent(agent, manual_call(agent, medical))
    with clock.frozen(THU_10H + timedelta(minutes=2)):
        call_record_save(actor=agent, call=call, motif="urgence",
                         answers=urgent_answers("non"), urgency="normal",
                         message="Finalement pas urgent.", caller_name="Jean Dupont")
    note = Message.objects.get(conversation=call.conversation, direction=Direction.NOTE)
    assert "Finalement" not in _raw("inbox_message", "body_text", note.pk)
    assert "Finalement pas urgent." in note.body_text
    logged = AuditEvent.objects.filter(target_id=str(call.pk), target_type__icontains="call")
    assert logged.exists()
    assert all("Finalement" not in str(entry.changes) and "thoracique" not in str(entry.changes)
               for entry in logged)


def test_consignes_marked_confidential_are_sealed_and_read_back(
        ordinary: Any, supervisor: Any, keys: Any) -> None:
    account = ordinary
    version = medical_practice(account, supervisor)
    assert not _raw("desk_consigneversion", "content", version.pk).lstrip('"').startswith(
        PREFIX)
    content = dict(version.content, confidential=True, notes="Code porte 4512B")
    with clock.frozen(THU_10H + timedelta(minutes=5)):
        sealed = consigne_save(actor=supervisor, account=account, content=content)
    raw = _raw("desk_consigneversion", "content", sealed.pk)
    assert raw.lstrip('"').startswith(PREFIX) and "4512B" not in raw
    again = ConsigneVersion.objects.get(pk=sealed.pk)
    assert again.content["notes"] == "Code porte 4512B" and again.content["confidential"]


def test_a_wrong_type_for_the_confidential_flag_is_a_field_error(
        account: Any, supervisor: Any) -> None:
    version = medical_practice(account, supervisor)
    with pytest.raises(DomainError) as exc:
        consigne_save(actor=supervisor, account=account,
                      content=dict(version.content, confidential="oui"))
    assert "confidential" in exc.value.fields


def test_keys_rotate_and_old_rows_still_read(medical: Any, agent: Any, settings: Any,
                                              keys: Any) -> None:
    call = record_urgent(agent, manual_call(agent, medical))
    before = _raw("desk_call", "message", call.pk)
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = f"{new_key},{keys[0]}"
    assert Call.objects.get(pk=call.pk).message == SECRET_WORDS  # old key still decrypts
    out = StringIO()
    call_command("rotate_encryption_keys", stdout=out)
    assert "desk.Call.message: 1" in out.getvalue()
    after = _raw("desk_call", "message", call.pk)
    assert after != before and after.startswith(PREFIX)
    settings.FIELD_ENCRYPTION_KEYS = new_key  # the old key dropped: the rows still read
    again = Call.objects.get(pk=call.pk)
    assert again.message == SECRET_WORDS and "emergency" in again.answers
    assert SECRET_WORDS in Message.objects.filter(
        conversation=call.conversation_id, direction=Direction.IN).get().body_text
    # Running it again changes nothing it need not (every value is already under the key).
    call_command("rotate_encryption_keys", stdout=StringIO())
    assert Call.objects.get(pk=call.pk).message == SECRET_WORDS


def test_a_value_no_key_opens_is_shown_as_such_and_never_overwritten(
        medical: Any, agent: Any, settings: Any, keys: Any) -> None:
    call = record_urgent(agent, manual_call(agent, medical))
    stored = _raw("desk_call", "message", call.pk)
    stored_answers = _raw("desk_call", "answers", call.pk)
    settings.FIELD_ENCRYPTION_KEYS = Fernet.generate_key().decode()  # the key was lost
    lost = Call.objects.get(pk=call.pk)
    assert isinstance(lost.message, Unreadable) and "illisible" in lost.message
    assert isinstance(lost.answers, UnreadableDict) and lost.answers == {}
    lost.save()  # a save of the row (another field changed) keeps the ciphertext
    assert _raw("desk_call", "message", call.pk) == stored
    assert _raw("desk_call", "answers", call.pk) == stored_answers
