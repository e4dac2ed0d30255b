"""Every file the product accepts from outside is checked here first, by what it is.

One call, `check(upload, policy)`, before a file reaches storage or a reader:

1. its size against the policy's limit, from the declared size (an `UploadedFile`'s `size`)
   before a byte is read;
2. its real type from its first bytes (a signature table, no libmagic), never from the name
   or the Content-Type the sender chose. Programs and scripts are refused whatever their
   name; a name that promises an inert type (.pdf, .png, .docx, .txt…) must hold that type
   (an HTML page named .pdf is refused); HTML, SVG or XML carrying scripts is refused;
3. images: the dimensions read from the header alone (PNG IHDR, JPEG SOF, GIF, WebP, TIFF),
   refused above the policy's pixel count — a PNG of a few kilobytes can claim 50,000 ×
   50,000 pixels and take gigabytes to decode (an image bomb);
4. ZIP-based files (.zip, .docx, .xlsx, .odt…): the central directory only, never a byte
   decompressed: too many entries, too large once decompressed in total, an entry
   compressed more than the ratio allows, an archive inside, a program inside, Office
   macros — refused (zip bombs). Python's zipfile, which openpyxl uses, never inflates an
   entry beyond the size the central directory declares, so checking the declared sizes
   bounds what a later reader can decompress.

Refusals are `UploadRefused` (a DomainError: code, French message, 4xx status, the field
named): services let it through as JSON or field errors, forms turn it into a field error
(`validation_error`), the mail gateway notes the file as not kept and stores the mail.
Files that pass are still served as downloads only (inbox.views.attachment_response).
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from permanence.core.errors import DomainError

MB = 1024 * 1024

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
GIF = "image/gif"
WEBP = "image/webp"
TIFF = "image/tiff"
ZIP = "application/zip"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODP = "application/vnd.oasis.opendocument.presentation"
OLE = "application/x-ole-storage"  # .doc, .xls, .ppt, .msg (Office 97–2003)
TEXT = "text/plain"
CALENDAR = "text/calendar"
VCARD = "text/vcard"
EML = "message/rfc822"
# Stored and served as an opaque download: HTML, SVG, XML without scripts, and any binary we
# do not recognise (audio of a voicemail, HEIC photos…).
BINARY = "application/octet-stream"

# Internal labels of what the sniffer found (never stored: stored as BINARY or refused).
_HTML, _SVG, _XML = "text/html", "image/svg+xml", "application/xml"
_EXECUTABLE, _ARCHIVE_OTHER = "executable", "archive"

IMAGES = frozenset({PNG, JPEG, GIF, WEBP, TIFF})
ZIP_FAMILY = frozenset({ZIP, DOCX, XLSX, PPTX, ODT, ODS, ODP})
TEXTS = frozenset({TEXT, CALENDAR, VCARD, EML})

# Pillow's own decompression-bomb warning threshold (its Image.MAX_IMAGE_PIXELS): about
# 89 megapixels, above the largest photos phones take by default (12–50 MP).
MAX_IMAGE_PIXELS = 89_478_485
HEAD_BYTES = 8192
# A markup file is read whole (it is text, within the size limit) to look for scripts.
_ACTIVE_MARKUP = re.compile(rb"<\s*script|\bon[a-z]+\s*=|javascript\s*:|<\s*foreignobject"
                            rb"|<\s*iframe|<\s*embed|<\s*object", re.IGNORECASE)

# Refused whatever they contain: they run when opened.
DANGEROUS_EXTENSIONS = frozenset({
    "exe", "dll", "com", "scr", "pif", "cpl", "msi", "msp", "msc", "bat", "cmd", "vb", "vbs",
    "vbe", "js", "jse", "mjs", "wsf", "wsh", "ws", "ps1", "psm1", "psd1", "hta", "jar", "lnk",
    "reg", "inf", "sh", "bash", "csh", "ksh", "command", "app", "apk", "appx", "msix",
    "iso", "img", "vhd", "vhdx", "docm", "dotm", "xlsm", "xltm", "xlam", "pptm", "potm",
    "ppam", "sldm", "scf", "url", "settingcontent-ms", "gadget", "application", "py", "pyw",
    "pl", "rb", "php"})
# Archives inside an archive (42.zip and friends), or archives we cannot inspect cheaply.
ARCHIVE_EXTENSIONS = frozenset({"zip", "gz", "tgz", "bz2", "xz", "7z", "rar", "tar", "cab",
                                "zst", "lz", "lzma", "z", "arj", "ace"})

# What a name promises. Extensions absent here promise nothing: the content decides.
EXPECTED: dict[str, frozenset[str]] = {
    "pdf": frozenset({PDF}),
    "png": frozenset({PNG}),
    "jpg": frozenset({JPEG}), "jpeg": frozenset({JPEG}), "jpe": frozenset({JPEG}),
    "jfif": frozenset({JPEG}),
    "gif": frozenset({GIF}),
    "webp": frozenset({WEBP}),
    "tif": frozenset({TIFF}), "tiff": frozenset({TIFF}),
    "docx": frozenset({DOCX}), "xlsx": frozenset({XLSX}), "pptx": frozenset({PPTX}),
    "odt": frozenset({ODT}), "ods": frozenset({ODS}), "odp": frozenset({ODP}),
    "zip": ZIP_FAMILY,
    "doc": frozenset({OLE}), "xls": frozenset({OLE}), "ppt": frozenset({OLE}),
    "msg": frozenset({OLE}),
    "txt": TEXTS, "csv": TEXTS, "ics": TEXTS, "vcf": TEXTS, "eml": TEXTS, "log": TEXTS,
    "md": TEXTS,
}

_SIGNATURES: list[tuple[bytes, str]] = [
    (b"%PDF-", PDF),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"\xff\xd8\xff", JPEG),
    (b"GIF87a", GIF),
    (b"GIF89a", GIF),
    (b"II*\x00", TIFF),
    (b"MM\x00*", TIFF),
    (b"PK\x03\x04", ZIP),
    (b"PK\x05\x06", ZIP),  # an empty archive
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", OLE),
    (b"\x7fELF", _EXECUTABLE),
    (b"\xfe\xed\xfa\xce", _EXECUTABLE), (b"\xfe\xed\xfa\xcf", _EXECUTABLE),  # Mach-O
    (b"\xce\xfa\xed\xfe", _EXECUTABLE), (b"\xcf\xfa\xed\xfe", _EXECUTABLE),
    (b"\xca\xfe\xba\xbe", _EXECUTABLE),  # Mach-O universal, Java class
    (b"\x00asm", _EXECUTABLE),  # WebAssembly
    (b"#!", _EXECUTABLE),  # a script with its interpreter
    (b"Rar!\x1a\x07", _ARCHIVE_OTHER),
    (b"7z\xbc\xaf\x27\x1c", _ARCHIVE_OTHER),
    (b"\x1f\x8b", _ARCHIVE_OTHER),  # gzip
    (b"BZh", _ARCHIVE_OTHER),
    (b"\xfd7zXZ\x00", _ARCHIVE_OTHER),
    (b"MSCF", _ARCHIVE_OTHER),  # .cab
]
_MARKUP_STARTS = (b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<iframe",
                  b"<svg", b"<?xml", b"<!--", b"<meta", b"<div", b"<a ", b"<img", b"<p>",
                  b"<table", b"<style")
_HEADER_LINE = re.compile(rb"^[A-Za-z][A-Za-z0-9-]{0,76}:[ \t]")


@dataclass(frozen=True)
class Policy:
    """Limits for one kind of upload."""

    name: str
    max_bytes: int
    label: Any = ""  # what is accepted, in French, for the messages (with `types`)
    types: frozenset[str] | None = None  # None: any content not refused above
    max_pixels: int = MAX_IMAGE_PIXELS
    zip_max_entries: int = 1000
    zip_max_uncompressed: int = 200 * MB
    zip_max_ratio: int = 100  # per entry, once it decompresses to more than 1 Mo


ZIP_RATIO_FLOOR = 1 * MB

# Attachments of a conversation: e-mail, contact form, espace client, agents' replies, chat.
ATTACHMENT = Policy("attachment", 10 * MB)
CHAT = Policy("chat", 5 * MB, label=gettext_lazy("PDF, image ou texte"),
              types=frozenset({PDF, PNG, JPEG, GIF, WEBP, TEXT}))
# The operator's logo is drawn by WeasyPrint on every invoice: a small image only.
LOGO = Policy("logo", 1 * MB, label=gettext_lazy("PNG ou JPEG"),
              types=frozenset({PNG, JPEG}), max_pixels=4000 * 4000)
# A campaign's contact list, read by csv or openpyxl (which decompresses the sheet).
CONTACT_LIST = Policy("contact_list", 5 * MB, label=gettext_lazy("CSV ou Excel (.xlsx)"),
                      types=frozenset({TEXT, XLSX}), zip_max_entries=200,
                      zip_max_uncompressed=100 * MB)


@dataclass(frozen=True)
class Checked:
    filename: str  # safe to store and show
    content_type: str  # what to store and serve (BINARY when not recognised)
    size: int
    width: int = 0
    height: int = 0


class UploadRefused(DomainError):
    """A file refused by `check`: `code` says why (REASONS), `fields` names the field."""

    def __init__(self, code: str, message: str, *, status: int, field: str) -> None:
        super().__init__(code, message, status=status, fields={field: [message]})


Refuse = Callable[..., UploadRefused]


# Why a file was refused, for people (the mail gateway notes refused attachments by code).
REASONS: dict[str, Any] = {
    "too_large": gettext_lazy("trop volumineux"),
    "bad_type": gettext_lazy("type de fichier non accepté"),
    "mismatch": gettext_lazy("contenu différent de ce qu'annonce son nom"),
    "dangerous": gettext_lazy("programme ou script"),
    "macros": gettext_lazy("document à macros"),
    "image_too_large": gettext_lazy("image aux dimensions excessives"),
    "archive_bomb": gettext_lazy("archive excessive une fois décompressée"),
    "archive_nested": gettext_lazy("archive contenant une autre archive"),
    "archive_unsupported": gettext_lazy("format d'archive non accepté"),
    "damaged": gettext_lazy("fichier endommagé ou illisible"),
}


def reason_label(code: str) -> str:
    return str(REASONS.get(code, code))


def safe_filename(name: str) -> str:
    """The last path component, without control characters nor those Windows refuses."""
    name = (name or "piece-jointe").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"|?*')
    return cleaned.strip(". ")[:200] or "piece-jointe"


def extension(name: str) -> str:
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip(" .").lower()
    return base.rsplit(".", 1)[-1] if "." in base else ""


def _megabytes(size: int) -> str:
    value = size / MB
    return f"{value:.0f}" if value >= 1 else f"{value:.1f}".replace(".", ",")


# --- Reading the upload ------------------------------------------------------------------

def _source(upload: Any) -> tuple[str, int, IO[bytes]]:
    """(name, declared size, a seekable binary stream) of an UploadedFile, a (name, bytes)
    pair or a named file object."""
    if isinstance(upload, tuple):
        name, data = upload
        return str(name or ""), len(data), io.BytesIO(data)
    name = str(getattr(upload, "name", "") or "")
    size = getattr(upload, "size", None)
    stream: IO[bytes] = upload
    if size is None:
        stream.seek(0, io.SEEK_END)
        size = stream.tell()
    return name, int(size), stream


def check(upload: Any, policy: Policy, *, field: str = "file") -> Checked:
    """The upload's safe name and real type, or UploadRefused. Reads headers (and, for markup,
    the text); the stream is left at its start for whoever stores or reads it next."""
    name, size, stream = _source(upload)
    shown = safe_filename(name)

    def refuse(code: str, message: str, status: int = 422) -> UploadRefused:
        return UploadRefused(code, message, status=status, field=field)

    if size > policy.max_bytes:
        raise refuse("too_large", _("Le fichier « %(name)s » dépasse la taille maximale de "
                                    "%(limit)s Mo.") % {
            "name": shown, "limit": _megabytes(policy.max_bytes)}, 413)
    try:
        stream.seek(0)
        return _inspect(stream, name=name, shown=shown, size=size, policy=policy,
                        refuse=refuse)
    finally:
        stream.seek(0)


def validation_error(exc: UploadRefused) -> ValidationError:
    """The refusal as a form field's error (same code: forms answer 413 for "too_large")."""
    return ValidationError(str(exc.message), code=exc.code)


def _inspect(stream: IO[bytes], *, name: str, shown: str, size: int, policy: Policy,
             refuse: Refuse) -> Checked:
    ext = extension(name)
    head = stream.read(HEAD_BYTES)
    found = sniff(head)
    if ext in DANGEROUS_EXTENSIONS or found == _EXECUTABLE:
        raise refuse("dangerous", _("Le fichier « %(name)s » est refusé : les programmes et "
                                    "les scripts ne sont pas acceptés.") % {"name": shown}, 415)
    if found == _ARCHIVE_OTHER or ext in ARCHIVE_EXTENSIONS - {"zip"}:
        raise refuse("archive_unsupported", _(
            "L'archive « %(name)s » n'est pas acceptée : envoyez les fichiers eux-mêmes ou une "
            "archive ZIP.") % {"name": shown}, 415)
    if found in (_HTML, _SVG, _XML):
        stream.seek(0)
        if _ACTIVE_MARKUP.search(stream.read(policy.max_bytes)):
            raise refuse("dangerous", _(
                "Le fichier « %(name)s » est refusé : il contient du code exécutable "
                "(script).") % {"name": shown}, 415)
    width = height = 0
    bad_type = refuse("bad_type", _("Le fichier « %(name)s » n'est pas d'un type accepté "
                                    "(%(types)s).") % {"name": shown, "types": policy.label},
                      415)
    if found == ZIP and policy.types is not None and not policy.types & ZIP_FAMILY:
        raise bad_type  # no archive is accepted here: not worth inspecting
    if found == ZIP:
        found = _inspect_zip(stream, shown, policy, refuse)
    elif found in IMAGES:
        dims = image_size(stream, found)
        if dims is None or dims[0] <= 0 or dims[1] <= 0:
            raise refuse("damaged", _("L'image « %(name)s » est endommagée ou illisible.")
                         % {"name": shown})
        width, height = dims
        if width * height > policy.max_pixels:
            raise refuse("image_too_large", _(
                "L'image « %(name)s » est trop grande (%(w)s × %(h)s pixels) : "
                "%(max)s millions de pixels au plus.") % {
                "name": shown, "w": width, "h": height,
                "max": f"{policy.max_pixels / 1_000_000:.0f}"})
    expected = EXPECTED.get(ext)
    if expected is not None and found not in expected:
        raise refuse("mismatch", _(
            "Le contenu du fichier « %(name)s » ne correspond pas à son extension "
            "(.%(ext)s).") % {"name": shown, "ext": ext}, 415)
    stored = BINARY if found in (_HTML, _SVG, _XML) else found
    if policy.types is not None and stored not in policy.types:
        raise bad_type
    return Checked(filename=shown, content_type=stored, size=size, width=width,
                   height=height)


# --- Content type ------------------------------------------------------------------------

def sniff(head: bytes) -> str:
    """The type the first bytes show (see module docstring); BINARY when unknown."""
    for magic, mime in _SIGNATURES:
        if head.startswith(magic):
            return mime
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"MZ") and b"\x00" in head[:64]:
        return _EXECUTABLE  # a Windows program (text starting "MZ" has no NUL byte)
    text = _as_text(head)
    if text is None:
        return BINARY
    lowered = text.lstrip("\ufeff \t\r\n").lower().encode("utf-8", "replace")
    # Markup by its leading tag only, as browsers sniff it: a forwarded mail or a text that
    # merely contains "<html>" further down is text (and is served with nosniff anyway).
    if lowered.startswith(_MARKUP_STARTS):
        if b"<svg" in lowered:
            return _SVG
        if lowered.startswith(b"<?xml") and b"<html" not in lowered:
            return _XML
        return _HTML
    upper = lowered[:40].upper()
    if upper.startswith(b"BEGIN:VCALENDAR"):
        return CALENDAR
    if upper.startswith(b"BEGIN:VCARD"):
        return VCARD
    if _looks_like_mail(lowered):
        return EML
    return TEXT


def _as_text(head: bytes) -> str | None:
    """The head as text when it is text (UTF-8, UTF-16 with its BOM, or a single-byte
    charset such as Windows-1252 — Excel's CSV), else None."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return head[:len(head) - len(head) % 2].decode("utf-16")
        except UnicodeDecodeError:
            return None
    if b"\x00" in head:
        return None
    try:
        return head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(head) - 3:  # a character cut by the end of the head
            return head[:exc.start].decode("utf-8")
    controls = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return head.decode("cp1252", errors="replace") if controls <= len(head) // 100 else None


def _looks_like_mail(lowered: bytes) -> bool:
    """Header lines ("Name: value", or folded continuations) up to the first blank line,
    among them one every stored mail has."""
    headers = []
    for line in lowered.splitlines()[:60]:
        if not line.strip():
            break
        headers.append(line)
    return len(headers) >= 2 and all(
        _HEADER_LINE.match(line) or line[:1] in (b" ", b"\t") for line in headers) and any(
        line.startswith((b"from:", b"received:", b"return-path:", b"message-id:"))
        for line in headers)


# --- Images: dimensions from the header --------------------------------------------------

def image_size(stream: IO[bytes], kind: str) -> tuple[int, int] | None:
    """(width, height) read from the header only; None when the header cannot be read."""
    try:
        stream.seek(0)
        if kind == PNG:
            head = stream.read(24)
            if len(head) < 24 or head[12:16] != b"IHDR":
                return None
            return struct.unpack(">II", head[16:24])  # type: ignore[return-value]
        if kind == GIF:
            head = stream.read(10)
            return struct.unpack("<HH", head[6:10]) if len(head) == 10 else None  # type: ignore[return-value]
        if kind == WEBP:
            return _webp_size(stream.read(30))
        if kind == JPEG:
            return _jpeg_size(stream)
        if kind == TIFF:
            return _tiff_size(stream)
    except (struct.error, OSError, ValueError):
        return None
    return None


def _webp_size(head: bytes) -> tuple[int, int] | None:
    chunk = head[12:16]
    if chunk == b"VP8X" and len(head) >= 30:
        width = int.from_bytes(head[24:27], "little") + 1
        height = int.from_bytes(head[27:30], "little") + 1
        return width, height
    if chunk == b"VP8L" and len(head) >= 25 and head[20] == 0x2F:
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 " and len(head) >= 30 and head[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF
    return None


# JPEG markers that start a frame and carry its dimensions (all SOFn but DHT, JPG, DAC).
_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_MAX_SEGMENTS = 1000


def _jpeg_size(stream: IO[bytes]) -> tuple[int, int] | None:
    """Walk the segments (seeking over each one's payload) up to the first frame header."""
    stream.seek(2)
    for _segment in range(_JPEG_MAX_SEGMENTS):
        if stream.read(1) != b"\xff":  # every segment starts with a marker
            return None
        byte = stream.read(1)
        while byte == b"\xff":  # fill bytes before the marker's code
            byte = stream.read(1)
        if not byte:
            return None
        marker = byte[0]
        if marker in (0x01, *range(0xD0, 0xD8)):  # markers without a payload
            continue
        if marker in (0xD9, 0xDA):  # end of image, or scan data before any frame header
            return None
        length_bytes = stream.read(2)
        if len(length_bytes) < 2:
            return None
        length = struct.unpack(">H", length_bytes)[0]
        if length < 2:
            return None
        if marker in _SOF:
            frame = stream.read(5)
            if len(frame) < 5:
                return None
            height, width = struct.unpack(">HH", frame[1:5])
            return width, height
        stream.seek(length - 2, io.SEEK_CUR)
    return None


def _tiff_size(stream: IO[bytes]) -> tuple[int, int] | None:
    """Width and height tags of the first image directory."""
    head = stream.read(8)
    order = "<" if head[:2] == b"II" else ">"
    offset = struct.unpack(order + "I", head[4:8])[0]
    stream.seek(offset)
    count = struct.unpack(order + "H", stream.read(2))[0]
    entries = stream.read(12 * min(count, 512))
    found: dict[int, int] = {}
    for start in range(0, len(entries) - 11, 12):
        tag, kind = struct.unpack(order + "HH", entries[start:start + 4])
        if tag in (256, 257):
            value = entries[start + 8:start + 12]
            found[tag] = (struct.unpack(order + "H", value[:2])[0] if kind == 3
                          else struct.unpack(order + "I", value)[0])
    if 256 in found and 257 in found:
        return found[256], found[257]
    return None


# --- ZIP-based files: the central directory only -----------------------------------------

def _declared_entries(stream: IO[bytes]) -> int | None:
    """The entry count of the end-of-central-directory record, read before zipfile parses
    the directory itself (which would cost time for millions of entries). None: not found
    or ZIP64 (zipfile then reads the count, still checked below)."""
    stream.seek(0, io.SEEK_END)
    end = stream.tell()
    start = max(0, end - 65_557)  # the record (22 bytes) and a comment of at most 64 KiB
    stream.seek(start)
    tail = stream.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or len(tail) < at + 12:
        return None
    total = struct.unpack("<H", tail[at + 10:at + 12])[0]
    return None if total == 0xFFFF else total


def _inspect_zip(stream: IO[bytes], shown: str, policy: Policy, refuse: Refuse) -> str:
    bomb = _("L'archive « %(name)s » est refusée : une fois décompressée, elle serait "
             "excessive (%(why)s).")
    declared = _declared_entries(stream)
    if declared is not None and declared > policy.zip_max_entries:
        raise refuse("archive_bomb", bomb % {"name": shown, "why": _(
            "%(n)s fichiers, %(max)s au plus") % {"n": declared, "max": policy.zip_max_entries}})
    stream.seek(0)
    try:
        archive = zipfile.ZipFile(stream)  # reads the central directory, inflates nothing
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError,
            struct.error, NotImplementedError):
        raise refuse("damaged", _("Le fichier « %(name)s » est endommagé ou illisible.")
                     % {"name": shown}) from None
    with archive:
        infos = archive.infolist()
        if len(infos) > policy.zip_max_entries:
            raise refuse("archive_bomb", bomb % {"name": shown, "why": _(
                "%(n)s fichiers, %(max)s au plus") % {"n": len(infos),
                                                      "max": policy.zip_max_entries}})
        total = sum(info.file_size for info in infos)
        if total > policy.zip_max_uncompressed:
            raise refuse("archive_bomb", bomb % {"name": shown, "why": _(
                "%(size)s Mo, %(max)s Mo au plus") % {
                "size": _megabytes(total), "max": _megabytes(policy.zip_max_uncompressed)}})
        names = set()
        for info in infos:
            if (info.file_size > ZIP_RATIO_FLOOR
                    and info.file_size > policy.zip_max_ratio * max(info.compress_size, 1)):
                raise refuse("archive_bomb", bomb % {"name": shown, "why": _(
                    "« %(entry)s » compressé plus de %(ratio)s fois") % {
                    "entry": safe_filename(info.filename), "ratio": policy.zip_max_ratio}})
            inner = extension(info.filename)
            if inner in ARCHIVE_EXTENSIONS:
                raise refuse("archive_nested", _(
                    "L'archive « %(name)s » est refusée : elle contient une autre archive "
                    "(%(entry)s).") % {"name": shown, "entry": safe_filename(info.filename)},
                    415)
            if inner in DANGEROUS_EXTENSIONS:
                raise refuse("dangerous", _(
                    "L'archive « %(name)s » est refusée : elle contient un programme ou un "
                    "script (%(entry)s).") % {"name": shown,
                                               "entry": safe_filename(info.filename)}, 415)
            if info.filename.lower().endswith("vbaproject.bin"):
                raise refuse("macros", _("Le document « %(name)s » est refusé : les documents "
                                         "contenant des macros ne sont pas acceptés.")
                             % {"name": shown}, 415)
            names.add(info.filename)
        return _zip_kind(archive, names)


def _zip_kind(archive: zipfile.ZipFile, names: set[str]) -> str:
    if "[Content_Types].xml" in names:
        if "word/document.xml" in names:
            return DOCX
        if "xl/workbook.xml" in names:
            return XLSX
        if "ppt/presentation.xml" in names:
            return PPTX
    if "mimetype" in names and archive.getinfo("mimetype").file_size <= 100:
        # OpenDocument names its type in a tiny first entry (stored, not compressed).
        try:
            declared = archive.read("mimetype").decode("ascii", "replace").strip()
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError,
                RuntimeError):  # RuntimeError: an encrypted entry
            return ZIP
        return {ODT: ODT, ODS: ODS, ODP: ODP}.get(declared, ZIP)
    return ZIP
