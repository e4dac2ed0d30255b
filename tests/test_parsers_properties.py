"""Property tests on the parsers that take what the outside world sends (issue 15's
robustness suite): whatever arrives — random bytes, random fields, wrong types — each parser
answers with a result or its own documented refusal, never another exception. (The inbound
e-mail parser has its own in channels_email/tests/test_parsing.py.)"""

from __future__ import annotations

import io
import string
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from permanence.core.errors import DomainError
from permanence.desk.adapters.asterisk import AmiMapper, parse_stream
from permanence.desk.adapters.twilio_voice import to_generic
from permanence.desk.calls import event_parse
from permanence.desk.campaign_import import FileRefused, read_contacts

FAST = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

json_scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
                | st.text(max_size=40))
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=4),
                           max_leaves=12)


@FAST
@given(data=st.binary(max_size=3000), name=st.sampled_from(["liste.csv", "liste.xlsx",
                                                              "liste.txt", "sans-nom"]))
def test_a_campaign_file_of_random_bytes_is_read_or_refused(data: bytes, name: str) -> None:
    try:
        report = read_contacts(name, io.BytesIO(data), existing=set())
    except FileRefused:
        return
    assert report.rows is not None


PHONES = ["06 12 34 56 78", "+33 6 98 76 54 32", "01 45 00 00 01", "0612", "abc", ""]
names = st.text(alphabet=string.ascii_letters + " éèàç-'", min_size=0, max_size=20)


@FAST
@given(lines=st.lists(st.tuples(names, st.sampled_from(PHONES)), min_size=1, max_size=30))
def test_every_line_of_a_campaign_file_lands_somewhere_once(lines: list[tuple[str, str]]) -> None:
    body = "Nom;Téléphone\n" + "".join(f"{n.replace(';', ' ')};{p}\n" for n, p in lines)
    report = read_contacts("liste.csv", io.BytesIO(body.encode()), existing=set())
    counted = len(report.rows) + len(report.errors) + len(report.duplicates)
    non_blank = sum(1 for n, p in lines if n.strip() or p.strip())
    assert counted == non_blank
    # A number is imported once whatever its spelling (E.164).
    assert len({r.phone for r in report.rows}) == len(report.rows)


@FAST
@given(lines=st.lists(st.text(max_size=60), max_size=40))
def test_an_ami_stream_of_random_lines_yields_blocks_of_text(lines: list[str]) -> None:
    for block in parse_stream(lines):
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in block.items())


AMI_KEYS = ["Event", "Linkedid", "Uniqueid", "Exten", "CallerIDNum", "CallerIDName",
            "DestChannel", "Channel", "Timestamp", "Cause", "DialStatus", "Queue"]


@FAST
@given(events=st.lists(st.dictionaries(
    st.sampled_from(AMI_KEYS),
    st.sampled_from(["Newchannel", "DialBegin", "DialEnd", "BridgeEnter", "Hangup",
                     "1700000000.5", "1e300", "nan", "inf", "-1e20", "abc", "",
                     "PJSIP/101-0001", "16"]) | st.text(max_size=12), max_size=8),
    max_size=12))
@example(events=[{"Event": "Newchannel", "Linkedid": stamp, "Uniqueid": stamp, "Exten": "1",
                  "Timestamp": stamp} for stamp in ("inf", "1e300", "-1e20", "nan")])
def test_the_ami_mapper_maps_or_ignores_any_event(events: list[dict[str, str]]) -> None:
    mapper = AmiMapper(agents={"101": "agent@exemple.fr"})
    for event in events:
        result = mapper.map(event)
        assert result is None or isinstance(result, dict)


TWILIO_KEYS = ["CallSid", "CallStatus", "RecordingStatus", "SequenceNumber", "RecordingSid",
               "Timestamp", "Direction", "From", "To", "CallerName", "ForwardedFrom",
               "ParentCallSid", "CallDuration", "RecordingUrl"]


@pytest.mark.django_db
@FAST
@given(params=st.dictionaries(st.sampled_from(TWILIO_KEYS), st.text(max_size=30)
                              | st.sampled_from(["completed", "ringing", "in-progress",
                                                 "busy", "no-answer", "²", "12",
                                                 "Thu, 04 Dec 2026 10:00:00 +0000"]),
                              max_size=len(TWILIO_KEYS)))
@example(params={"CallSid": "CA1", "CallStatus": "completed", "CallDuration": "²"})
def test_a_twilio_callback_becomes_a_generic_event_or_a_field_error(
        params: dict[str, str]) -> None:
    _parsed_or_refused(to_generic(params))


@pytest.mark.django_db
@FAST
@given(data=json_values | st.dictionaries(
    st.sampled_from(["event_id", "event", "occurred_at", "call_id", "direction", "from", "to",
                     "agent", "cause", "cause_code", "talk_s", "wait_s", "recording_url",
                     "caller_name", "parent_call_id", "forwarded_from"]),
    json_values, max_size=10))
def test_a_telephony_event_of_any_shape_is_parsed_or_refused_field_by_field(data: Any) -> None:
    _parsed_or_refused(data)


def _parsed_or_refused(data: Any) -> None:
    """event_parse's contract: a parsed event, or a 422 naming the fields at fault."""
    refused = None
    try:
        event_parse(data)
    except DomainError as exc:
        refused = exc
    assert refused is None or (refused.status == 422 and bool(refused.fields))
