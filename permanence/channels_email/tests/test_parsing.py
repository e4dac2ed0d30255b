"""MIME parsing without a server: bodies, threading ids, robots, hostile input."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from permanence.channels_email.parsing import clean, html_to_text, parse_message


def _raw(**headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = headers.pop("From", "Jeanne <jeanne@example.org>")
    msg["Subject"] = headers.pop("Subject", "Bonjour")
    for key, value in headers.items():
        msg[key.replace("_", "-")] = value
    msg.set_content("Texte")
    return msg.as_bytes()


def test_thread_ids_put_the_direct_parent_first() -> None:
    parsed = parse_message(_raw(In_Reply_To="<c@x>", References="<a@x> <b@x> <c@x>"),
                           mail_from="jeanne@example.org")
    assert parsed.thread_ids == ["<c@x>", "<b@x>", "<a@x>"]


def test_encoded_headers_are_decoded() -> None:
    parsed = parse_message(_raw(Subject="Réclamation facture n° 12",
                                From="Hélène Rivière <Helene@Example.org>"),
                           mail_from="helene@example.org")
    assert parsed.subject == "Réclamation facture n° 12"
    assert (parsed.from_name, parsed.from_address) == ("Hélène Rivière", "helene@example.org")
    assert not parsed.problems


def test_reply_to_is_kept_apart_from_the_sender() -> None:
    parsed = parse_message(_raw(From="Site web <no-reply@site.example>",
                                Reply_To="Paul <Paul@Example.org>"),
                           mail_from="bounce@site.example")
    assert parsed.from_address == "no-reply@site.example"
    assert parsed.reply_to == "paul@example.org"
    assert parsed.auto_reason == "robot_sender"


def test_forwarded_message_is_kept_as_an_attachment() -> None:
    inner = EmailMessage()
    inner["Subject"] = "Original"
    inner.set_content("Texte d'origine")
    outer = EmailMessage()
    outer["From"] = "jeanne@example.org"
    outer.set_content("Je vous transfère ceci.")
    outer.add_attachment(inner)
    parsed = parse_message(outer.as_bytes(), mail_from="jeanne@example.org")
    assert parsed.body_text.strip() == "Je vous transfère ceci."
    [(name, data)] = parsed.attachments
    assert name.endswith(".eml") and b"Texte d'origine" in data


def test_memoising_content_headers_changes_nothing(monkeypatch: Any) -> None:
    # Content-* headers are parsed once during parse_message (a speed-up) and put back
    # afterwards: bodies, attachments (an attached .eml re-serialised) and problems are
    # exactly what parsing without it gives.
    from contextlib import nullcontext

    from permanence.channels_email import parsing

    inner = (b"From: paul@example.org\r\nSubject: Original\r\n"
             b'Content-Type: text/plain;charset="utf-8"\r\n'
             b"Content-Transfer-Encoding: 8bit\r\n\r\nTexte d'origine\r\n")
    outer = (b"From: jeanne@example.org\r\nSubject: Fwd\r\nMIME-Version: 1.0\r\n"
             b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
             b'--b1\r\nContent-Type: text/plain; charset="utf-8"\r\n\r\n'
             b"Je vous transf\xc3\xa8re ceci.\r\n"
             b'--b1\r\nContent-Type: application/pdf; name="devis.pdf"\r\n'
             b"Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n"
             b"--b1\r\nContent-Type: message/rfc822\r\n"
             b'Content-Disposition: attachment; filename="original.eml"\r\n\r\n'
             + inner + b"--b1--\r\n")
    memoised = parse_message(outer, mail_from="jeanne@example.org")
    monkeypatch.setattr(parsing, "_content_headers_parsed_once", lambda msg: nullcontext())
    plain = parse_message(outer, mail_from="jeanne@example.org")
    assert memoised == plain
    assert memoised.body_text.strip() == "Je vous transfère ceci."
    assert [name for name, _data in memoised.attachments] == ["devis.pdf", "original.eml"]
    assert b"Texte d'origine" in memoised.attachments[1][1]


def test_html_to_text_keeps_structure_and_drops_scripts() -> None:
    html = ("<html><head><style>p{}</style></head><body><div>Ligne 1</div><div>Ligne 2</div>"
            "<p>Para &amp; graphe</p><script>alert(1)</script></body></html>")
    assert html_to_text(html) == "Ligne 1\nLigne 2\n\nPara & graphe"


def test_clean_removes_nul_and_lone_surrogates() -> None:
    assert clean("a\x00b\udce9c") == "ab\ufffdc"


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=2000))
def test_parsing_never_raises_on_arbitrary_bytes(raw: bytes) -> None:
    parsed = parse_message(raw, mail_from="x@example.org")
    for text in (parsed.subject, parsed.body_text, parsed.body_html, parsed.from_address):
        assert "\x00" not in text
        text.encode("utf-8")  # storable anywhere
