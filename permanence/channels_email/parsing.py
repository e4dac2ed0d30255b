"""From raw RFC 5322 bytes to what the inbox stores, without ever raising.

Anything we fail to understand (MIME defects, unknown charsets, undecodable parts, a parser
exception) is collected in `problems`: the gateway then keeps the original .eml and flags
the message for review instead of dropping it.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser
from typing import Any

from permanence.core import uploads
from permanence.inbox.attachments import MAX_ATTACHMENT_BYTES

UNREADABLE_NOTICE = "Message illisible conservé pour vérification"

MSGID_RE = re.compile(r"<[^<>\s]+>")
SURROGATES_RE = re.compile("[\ud800-\udfff]")
# Local parts of robots that must never receive an automatic reply.
ROBOT_LOCALS = ("mailer-daemon", "postmaster", "noreply", "no-reply", "no_reply",
                "donotreply", "do-not-reply")


@dataclass
class ParsedMail:
    subject: str = ""
    from_name: str = ""
    from_address: str = ""
    reply_to: str = ""
    message_id: str = ""
    in_reply_to: str = ""
    references: str = ""
    recipients: list[str] = field(default_factory=list)
    body_text: str = ""
    body_html: str = ""
    attachments: list[tuple[str, bytes]] = field(default_factory=list)
    dropped_attachments: list[dict[str, Any]] = field(default_factory=list)
    auto_reason: str = ""
    problems: list[str] = field(default_factory=list)
    headers_ok: bool = False

    @property
    def needs_review(self) -> bool:
        return bool(self.problems)

    @property
    def thread_ids(self) -> list[str]:
        """Message-IDs this mail answers, the most relevant (In-Reply-To, newest) first."""
        ids = MSGID_RE.findall(self.in_reply_to) + MSGID_RE.findall(self.references)[::-1]
        return list(dict.fromkeys(ids))


def clean(text: Any) -> str:
    """A string any database accepts: lone surrogates (from undecodable bytes) replaced,
    NUL characters removed (PostgreSQL refuses them in text columns)."""
    return SURROGATES_RE.sub("\ufffd", str(text or "")).replace("\x00", "")


def one_line(text: Any) -> str:
    return " ".join(clean(text).split())


def normalize_msgid(value: Any) -> str:
    value = one_line(value)
    if not value:
        return ""
    found = MSGID_RE.search(value)
    if found:
        return found.group(0)[:250]
    return f"<{value.strip('<>')}>"[:250] if " " not in value else ""


def parse_message(raw: bytes, *, mail_from: str = "") -> ParsedMail:
    """Parse with the stdlib (policy.default). Never raises."""
    parsed = ParsedMail()
    envelope_from = "" if mail_from in ("", "<>") else mail_from.strip().lower()
    try:
        msg = BytesParser(EmailMessage, policy=policy.default).parsebytes(raw)
    except Exception as exc:  # the stdlib parser is lenient, but never trust it blindly
        parsed.problems.append(f"parser: {exc.__class__.__name__}: {exc}"[:300])
        parsed.from_address = envelope_from
        parsed.auto_reason = "null_sender" if not envelope_from else ""
        return parsed
    with _content_headers_parsed_once(msg):
        _read_headers(msg, parsed)
        if not parsed.from_address:
            parsed.from_address = envelope_from
        _read_content(msg, parsed)
        _collect_defects(msg, parsed)
        parsed.auto_reason = auto_reason(msg, mail_from=mail_from,
                                         from_address=parsed.from_address)
    return parsed


_MEMO_HEADERS = frozenset({"content-type", "content-disposition", "content-transfer-encoding"})


@contextmanager
def _content_headers_parsed_once(msg: Message) -> Iterator[None]:
    """The Content-* headers of the message's parts parsed once instead of at each lookup.

    policy.default parses a header anew every time it is read, and walking a message's
    structure (get_body, get_content_type, get_content…) reads Content-Type some ten times
    per part. Stored as parsed header objects (which the policy hands back as they are) for
    the duration of the parse, then the original values are put back. Attached messages
    (message/*) are left alone: they are re-serialised during the parse and must come out
    as received."""
    saved: list[tuple[Message, list[tuple[str, Any]]]] = []
    with suppress(Exception):  # never worse than not memoising
        _memoise(msg, saved)
    try:
        yield
    finally:
        for part, headers in saved:
            part._headers = headers  # type: ignore[attr-defined]


def _memoise(part: Message, saved: list[tuple[Message, list[tuple[str, Any]]]]) -> None:
    headers = part._headers  # type: ignore[attr-defined]
    memo = []
    for name, raw in headers:
        value = raw
        if name.lower() in _MEMO_HEADERS and not hasattr(raw, "name"):
            # On failure left as it was: read (and reported) as before.
            with suppress(Exception):
                value = part.policy.header_fetch_parse(name, raw)
        memo.append((name, value))
    part._headers = memo  # type: ignore[attr-defined]
    saved.append((part, headers))
    if part.get_content_maintype() == "message":
        part._headers = headers  # type: ignore[attr-defined]
        return
    payload = part.get_payload() if part.is_multipart() else None
    for sub in payload if isinstance(payload, list) else []:
        if isinstance(sub, Message):
            _memoise(sub, saved)


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except Exception:  # a header the policy cannot even represent
        return ""
    return clean(value) if value is not None else ""


def _read_headers(msg: EmailMessage, parsed: ParsedMail) -> None:
    try:
        parsed.subject = one_line(_header(msg, "Subject"))
        name, address = _first_address(msg, "From")
        parsed.from_name = one_line(name)[:200]
        parsed.from_address = address
        parsed.reply_to = _first_address(msg, "Reply-To")[1]
        parsed.message_id = normalize_msgid(_header(msg, "Message-ID"))
        parsed.in_reply_to = " ".join(MSGID_RE.findall(_header(msg, "In-Reply-To")))[:250]
        parsed.references = " ".join(MSGID_RE.findall(_header(msg, "References")))
        recipients: list[str] = []
        for name_ in ("To", "Cc"):
            recipients += [a.strip().lower() for _n, a in
                           getaddresses([_header(msg, name_)]) if "@" in a]
        parsed.recipients = list(dict.fromkeys(recipients))[:50]
        parsed.headers_ok = True
    except Exception as exc:  # headers beyond repair: the envelope still tells who sent it
        parsed.problems.append(f"headers: {exc.__class__.__name__}: {exc}"[:300])


def _first_address(msg: EmailMessage, name: str) -> tuple[str, str]:
    header = msg.get(name)
    addresses = getattr(header, "addresses", None)
    if addresses:
        first = addresses[0]
        address = clean(first.addr_spec).strip().lower()
        if "@" in address:
            return clean(first.display_name), address
    display, address = parseaddr(_header(msg, name))
    address = address.strip().lower()
    return display, address if "@" in address else ""


def _read_content(msg: EmailMessage, parsed: ParsedMail) -> None:
    try:
        plain = msg.get_body(preferencelist=("plain",))
        html = msg.get_body(preferencelist=("html",))
        if plain is not None:
            parsed.body_text = _text_of(plain, parsed)
        if html is not None:
            parsed.body_html = _text_of(html, parsed)
            if plain is None:
                parsed.body_text = html_to_text(parsed.body_html)
        extra_text = []
        for part in _leaves(msg):
            if part is plain or part is html:
                continue
            filename = part.get_filename()
            if (part.get_content_type() == "text/plain" and not filename
                    and part.get_content_disposition() != "attachment"):
                # Some clients split one body around inline images: keep every chunk.
                extra_text.append(_text_of(part, parsed))
                continue
            if (part.get_content_type() == "text/html" and not filename
                    and part.get_content_disposition() != "attachment"):
                continue  # an alternative rendering of text we already have
            _add_attachment(part, filename, parsed)
        if extra_text:
            parsed.body_text = "\n\n".join(t for t in [parsed.body_text, *extra_text] if t)
    except Exception as exc:
        parsed.problems.append(f"content: {exc.__class__.__name__}: {exc}"[:300])


def _leaves(part: Message) -> list[Message]:
    """Non-multipart parts in order; an attached message (message/rfc822) is one leaf."""
    if part.get_content_maintype() == "multipart":
        payload = part.get_payload()
        if not isinstance(payload, list):
            return []
        return [leaf for sub in payload if isinstance(sub, Message) for leaf in _leaves(sub)]
    return [part]


def _text_of(part: Message, parsed: ParsedMail) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
        if isinstance(content, str):
            return clean(content)
    except Exception as exc:  # unknown charset, undecodable transfer encoding
        parsed.problems.append(f"decoding: {exc.__class__.__name__}: {exc}"[:300])
    payload = part.get_payload(decode=True)
    return clean(payload.decode("utf-8", "replace") if isinstance(payload, bytes) else "")


def _add_attachment(part: Message, filename: str | None, parsed: ParsedMail) -> None:
    content_type = part.get_content_type()
    if content_type == "message/rfc822":
        inner = part.get_payload(0) if part.is_multipart() else None
        data = inner.as_bytes() if isinstance(inner, Message) else part.as_bytes()
        name = filename or "message-joint.eml"
    else:
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        extension = mimetypes.guess_extension(content_type) or ".bin"
        name = filename or f"piece-jointe{extension}"
    name = one_line(name)[:200] or "piece-jointe"
    if len(data) > MAX_ATTACHMENT_BYTES:
        # The inbox refuses files over 10 Mo; losing the whole mail for it would be worse.
        parsed.dropped_attachments.append({"filename": name, "size": len(data),
                                           "reason": "too_large"})
        return
    try:
        uploads.check((name, data), uploads.ATTACHMENT, field="attachments")
    except uploads.UploadRefused as exc:
        # The mail is kept; this file is not (a program, a disguised file, an image or zip
        # bomb): it stays out of the file store, noted on the message for the agents, and
        # the original .eml is not kept for it either (it would hold the file).
        parsed.dropped_attachments.append({"filename": name, "size": len(data),
                                           "reason": exc.code})
        return
    parsed.attachments.append((name, data))


def _collect_defects(msg: EmailMessage, parsed: ParsedMail) -> None:
    for part in msg.walk():
        for defect in getattr(part, "defects", []):
            parsed.problems.append(f"mime: {defect.__class__.__name__}")
    parsed.problems = list(dict.fromkeys(parsed.problems))[:20]


def auto_reason(msg: Message, *, mail_from: str, from_address: str) -> str:
    """Why this mail looks machine-sent ("" when it looks human), after RFC 3834:
    auto-replies go to humans only, never to robots, lists or bounces."""
    if mail_from.strip() in ("", "<>"):
        return "null_sender"
    auto_submitted = _header(msg, "Auto-Submitted").strip().lower()
    if auto_submitted and auto_submitted.split("(")[0].strip() != "no":
        return "auto_submitted"
    if _header(msg, "X-Autoreply") or _header(msg, "X-Autorespond"):
        return "auto_submitted"
    if _header(msg, "Precedence").strip().lower() in ("bulk", "junk", "list"):
        return "precedence"
    if _header(msg, "List-Id") or _header(msg, "List-Unsubscribe"):
        return "mailing_list"
    if msg.get_content_type() == "multipart/report":
        return "delivery_report"
    for address in (mail_from, from_address):
        local = address.strip().strip("<>").lower().rpartition("@")[0]
        if local and (local in ROBOT_LOCALS or local.startswith(ROBOT_LOCALS)):
            return "robot_sender"
    return ""


class _TextExtractor(HTMLParser):
    # Paragraph-like blocks are separated by a blank line, line-like ones by a line break
    # (Gmail and Outlook wrap every typed line in a <div>: those must not be double-spaced).
    PARAGRAPHS = frozenset({"p", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6",
                            "blockquote", "pre", "hr", "section", "article"})
    LINES = frozenset({"br", "li", "tr", "div"})
    SKIP = frozenset({"script", "style", "head", "title"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.pending = 0  # line breaks owed before the next text
        self.bullet = False

    def _break(self, count: int, *, additive: bool = False) -> None:
        self.pending = min(2, self.pending + count) if additive else max(self.pending, count)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.PARAGRAPHS:
            self._break(2)
        elif tag == "br":
            self._break(1, additive=True)
        elif tag in self.LINES:
            self._break(1)
            self.bullet = tag == "li"

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.PARAGRAPHS:
            self._break(2)
        elif tag in self.LINES:
            self._break(1)

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        if not data.strip():
            if not self.pending:
                self.parts.append(data)
            return
        if self.pending and self.parts:
            self.parts.append("\n" * self.pending)
        self.pending = 0
        if self.bullet:
            self.parts.append("- ")
            self.bullet = False
        self.parts.append(data)


def html_to_text(html: str) -> str:
    """Readable plain text from an HTML-only mail (what agents and the search index see)."""
    extractor = _TextExtractor()
    try:
        extractor.feed(html)
        extractor.close()
    except Exception:  # HTMLParser is forgiving; this is belt and braces
        return clean(re.sub(r"<[^>]+>", " ", html))
    lines = (" ".join(line.split()) for line in "".join(extractor.parts).splitlines())
    return clean(re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip())
