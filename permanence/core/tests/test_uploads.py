"""core.uploads: every file is checked by size, real content, image dimensions and archive
directory before anything stores or reads it — on real crafted files (testkit.files)."""

from __future__ import annotations

import io
import random
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from permanence.core import uploads
from permanence.core.uploads import UploadRefused, check
from testkit import files


def refusal(name: str, data: bytes, policy: uploads.Policy = uploads.ATTACHMENT
            ) -> UploadRefused:
    with pytest.raises(UploadRefused) as caught:
        check((name, data), policy, field="attachments")
    return caught.value


def pillow(fmt: str, size: tuple[int, int] = (123, 45), **options: Any) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "white").save(buffer, fmt, **options)
    return buffer.getvalue()


# --- Accepted -------------------------------------------------------------------------------

def test_a_real_small_pdf_and_png_are_accepted_with_their_real_type() -> None:
    pdf = check(("devis.pdf", files.pdf()), uploads.ATTACHMENT)
    assert (pdf.content_type, pdf.filename, pdf.size) == ("application/pdf", "devis.pdf",
                                                          len(files.pdf()))
    png = check(SimpleUploadedFile("photo.PNG", files.png(640, 480)), uploads.ATTACHMENT)
    assert (png.content_type, png.width, png.height) == ("image/png", 640, 480)


@pytest.mark.parametrize(("fmt", "name", "mime"), [
    ("JPEG", "scan.jpg", "image/jpeg"), ("GIF", "logo.gif", "image/gif"),
    ("WEBP", "photo.webp", "image/webp"), ("TIFF", "fax.tiff", "image/tiff")])
def test_image_dimensions_are_read_from_the_header(fmt: str, name: str, mime: str) -> None:
    checked = check((name, pillow(fmt)), uploads.ATTACHMENT)
    assert (checked.content_type, checked.width, checked.height) == (mime, 123, 45)


def test_lossless_webp_and_jpeg_after_a_large_exif_block() -> None:
    webp = check(("a.webp", pillow("WEBP", lossless=True)), uploads.ATTACHMENT)
    assert (webp.width, webp.height) == (123, 45)
    # The frame header comes after 60 kB of EXIF: found by seeking over segments.
    jpeg = check(("a.jpg", files.jpeg_header(800, 600, app_bytes=60_000)), uploads.ATTACHMENT)
    assert (jpeg.width, jpeg.height) == (800, 600)


def test_office_files_are_told_apart_by_their_directory() -> None:
    assert check(("liste.xlsx", files.xlsx()), uploads.ATTACHMENT).content_type == uploads.XLSX
    assert check(("lettre.docx", files.docx()), uploads.ATTACHMENT).content_type == uploads.DOCX
    odt = files.zip_of({"mimetype": uploads.ODT.encode(), "content.xml": b"<x/>"})
    assert check(("lettre.odt", odt), uploads.ATTACHMENT).content_type == uploads.ODT
    photos = files.zip_of({"a.txt": b"a", "b.pdf": files.pdf()})
    assert check(("photos.zip", photos), uploads.ATTACHMENT).content_type == uploads.ZIP


def test_texts_in_any_usual_encoding_are_text() -> None:
    csv_windows = "Nom;Téléphone\nÉlodie Müller;06 12 34 56 78\n".encode("cp1252")
    assert check(("liste.csv", csv_windows), uploads.ATTACHMENT).content_type == "text/plain"
    utf16 = "Nom;Téléphone\n".encode("utf-16")
    assert check(("liste.csv", utf16), uploads.ATTACHMENT).content_type == "text/plain"
    ics = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n"
    assert check(("rdv.ics", ics), uploads.ATTACHMENT).content_type == "text/calendar"
    eml = b"Received: from mx\r\nFrom: a@example.org\r\nSubject: Hello\r\n\r\nCorps"
    assert check(("transfert.eml", eml), uploads.ATTACHMENT).content_type == "message/rfc822"
    # A forwarded mail with its HTML part, or notes quoting a tag, stay text.
    forwarded = (b"From: a@example.org\r\nSubject: Tr\r\nContent-Type: text/html\r\n\r\n"
                 b"<html><body><script>x</script></body></html>")
    assert check(("message-joint.eml", forwarded), uploads.ATTACHMENT).content_type == \
        "message/rfc822"
    assert check(("notes.txt", b"Ajouter <script> au gabarit"), uploads.ATTACHMENT
                 ).content_type == "text/plain"


def test_unknown_binary_is_accepted_as_an_opaque_download() -> None:
    # A voicemail (MP3 frames) is neither refused nor given a type we would render.
    voicemail = b"ID3\x03\x00\x00\x00\x00\x00\x00" + random.Random(1).randbytes(2000)
    assert check(("message.mp3", voicemail), uploads.ATTACHMENT).content_type == uploads.BINARY
    # Inert markup is kept, but only ever as a download.
    assert check(("page.html", files.HTML_PAGE), uploads.ATTACHMENT).content_type == \
        uploads.BINARY
    assert check(("plan.svg", files.INERT_SVG), uploads.ATTACHMENT).content_type == \
        uploads.BINARY


def test_the_stream_is_left_at_its_start_for_whoever_stores_it() -> None:
    upload = SimpleUploadedFile("devis.pdf", files.pdf())
    check(upload, uploads.ATTACHMENT)
    assert upload.read() == files.pdf()


# --- Size, declared before reading ----------------------------------------------------------

class Unreadable:
    """An upload that declares its size and fails if anything reads it."""

    name = "scan.pdf"
    size = 11 * 1024 * 1024

    def read(self, *_args: Any) -> bytes:
        raise AssertionError("read before its declared size was checked")

    def seek(self, *_args: Any) -> int:
        raise AssertionError("read before its declared size was checked")


def test_a_declared_size_over_the_limit_is_refused_before_reading() -> None:
    with pytest.raises(UploadRefused) as caught:
        check(Unreadable(), uploads.ATTACHMENT, field="attachments")
    assert caught.value.code == "too_large" and caught.value.status == 413
    assert caught.value.fields == {"attachments": [
        "Le fichier « scan.pdf » dépasse la taille maximale de 10 Mo."]}


def test_each_kind_has_its_own_size_limit() -> None:
    five_and_a_bit = b"%PDF-1.4 " + b"0" * (5 * 1024 * 1024)
    assert check(("a.pdf", five_and_a_bit), uploads.ATTACHMENT).content_type == uploads.PDF
    assert refusal("a.pdf", five_and_a_bit, uploads.CHAT).code == "too_large"
    assert refusal("logo.png", files.png() + b"\x00" * 1024 * 1024, uploads.LOGO).code == \
        "too_large"


# --- Disguised files, programs, scripts -----------------------------------------------------

def test_an_html_page_named_pdf_is_refused() -> None:
    refused = refusal("facture.pdf", files.HTML_PAGE)
    assert (refused.code, refused.status) == ("mismatch", 415)
    assert str(refused.message) == ("Le contenu du fichier « facture.pdf » ne correspond pas "
                                    "à son extension (.pdf).")


@pytest.mark.parametrize(("name", "data"), [
    ("facture.pdf", files.windows_program()),  # a program under an inert name
    ("outil.exe", b"just text"),  # a name that runs when opened, whatever it holds
    ("notes.txt", b"\x7fELF\x02\x01\x01" + b"\x00" * 60),
    ("install.txt", b"#!/bin/sh\nrm -rf ~\n"),
    ("facture.js", b"alert(1)"),
    ("releve.xlsm", files.xlsx()),
])
def test_programs_and_scripts_are_refused_whatever_their_name(name: str, data: bytes) -> None:
    refused = refusal(name, data)
    assert (refused.code, refused.status) == ("dangerous", 415)


def test_markup_with_scripts_is_refused() -> None:
    assert refusal("plan.svg", files.SCRIPTED_SVG).code == "dangerous"
    page = b"<html><body><img src=x onerror=alert(1)></body></html>"
    assert refusal("page.html", page).code == "dangerous"
    # A script far beyond the first kilobytes is still found: markup is read whole.
    late = b"<html><body>" + b"<p>texte</p>" * 5000 + b"<script>alert(1)</script></body></html>"
    assert refusal("page.htm", late).code == "dangerous"


def test_a_text_or_image_name_must_hold_that_content() -> None:
    assert refusal("photo.png", files.pdf()).code == "mismatch"
    assert refusal("lettre.docx", files.xlsx()).code == "mismatch"
    assert refusal("liste.csv", files.png()).code == "mismatch"


def test_archives_that_cannot_be_inspected_are_refused() -> None:
    assert refusal("docs.rar", b"Rar!\x1a\x07\x00" + b"\x00" * 20).code == "archive_unsupported"
    assert refusal("docs.bin", b"\x1f\x8b\x08\x00" + b"\x00" * 20).code == "archive_unsupported"


def test_each_kind_accepts_only_its_types() -> None:
    assert refusal("lettre.docx", files.docx(), uploads.CHAT).code == "bad_type"
    assert refusal("logo.gif", files.gif(), uploads.LOGO).code == "bad_type"
    assert refusal("liste.pdf", files.pdf(), uploads.CONTACT_LIST).code == "bad_type"
    assert check(("liste.xlsx", files.xlsx()), uploads.CONTACT_LIST).content_type == \
        uploads.XLSX


# --- Image bombs ----------------------------------------------------------------------------

def test_a_png_claiming_50000_by_50000_pixels_is_refused() -> None:
    bomb = files.png(50_000, 50_000)
    assert len(bomb) < 1000  # a few hundred bytes
    refused = refusal("photo.png", bomb)
    assert (refused.code, refused.status) == ("image_too_large", 422)
    assert "50000 × 50000 pixels" in str(refused.message)


def test_a_10000_pixel_square_is_over_the_limit_and_a_phone_photo_is_not() -> None:
    assert refusal("a.png", files.png(10_000, 10_000)).code == "image_too_large"
    assert check(("a.jpg", files.jpeg_header(8160, 6120)), uploads.ATTACHMENT).width == 8160
    assert refusal("a.jpg", files.jpeg_header(60_000, 60_000)).code == "image_too_large"
    assert refusal("a.gif", files.gif(20_000, 20_000)).code == "image_too_large"
    assert refusal("logo.png", files.png(5000, 5000), uploads.LOGO).code == "image_too_large"


def test_an_image_whose_header_cannot_be_read_is_refused() -> None:
    assert refusal("photo.png", b"\x89PNG\r\n\x1a\n image").code == "damaged"
    assert refusal("photo.jpg", b"\xff\xd8\xff\xe0\x00").code == "damaged"


# --- Zip bombs: the central directory only --------------------------------------------------

def test_a_zip_of_megabytes_of_zeros_is_refused_by_its_ratio() -> None:
    bomb = files.zip_bomb(5)
    assert len(bomb) < 20_000
    refused = refusal("archive.zip", bomb)
    assert (refused.code, refused.status) == ("archive_bomb", 422)
    assert "compressé plus de 100 fois" in str(refused.message)
    # The same bomb under an Excel name, before openpyxl could inflate it.
    assert refusal("liste.xlsx", files.xlsx({"xl/worksheets/sheet1.xml": b"\x00" * 5 * 2**20}),
                   uploads.CONTACT_LIST).code == "archive_bomb"


def test_a_bomb_is_refused_from_declared_sizes_without_inflating_anything() -> None:
    # The entry's bytes are not deflate data: inflating them would fail (zlib error, bad
    # CRC), so a refusal as a bomb can only come from the sizes the directory declares.
    lying = files.lying_zip(declared_size=3 * 1024**3)
    refused = refusal("rapport.zip", lying)
    assert refused.code == "archive_bomb"
    assert "Mo au plus" in str(refused.message)  # the total declared, not a ratio measured


def test_the_entry_count_is_read_from_the_end_record_before_the_directory() -> None:
    # The directory holds one entry; the end record claims 60,000: refused on the record,
    # before zipfile walks a directory of that size.
    assert refusal("a.zip", files.zip_claiming_entries(60_000)).code == "archive_bomb"
    many = files.zip_of({f"f{i}.txt": b"x" for i in range(1001)})
    assert "1001 fichiers" in str(refusal("many.zip", many).message)


def test_the_total_decompressed_size_is_bounded() -> None:
    incompressible = random.Random(2).randbytes(2 * 1024 * 1024)
    small = uploads.Policy("test", 10 * 2**20, zip_max_uncompressed=1024 * 1024)
    assert refusal("a.zip", files.zip_of({"a.bin": incompressible}), small).code == \
        "archive_bomb"
    assert check(("a.zip", files.zip_of({"a.bin": incompressible})),
                 uploads.ATTACHMENT).content_type == uploads.ZIP


def test_nested_archives_programs_and_macros_inside_a_zip_are_refused() -> None:
    nested = files.zip_of({"inner.zip": files.zip_of({"a.txt": b"a"})})
    assert refusal("docs.zip", nested).code == "archive_nested"
    assert refusal("docs.zip", files.zip_of({"facture.pdf.exe": b"MZ"})).code == "dangerous"
    assert refusal("lettre.docx", files.docx({"word/vbaProject.bin": b"\x00"})).code == "macros"


def test_a_damaged_zip_is_refused() -> None:
    assert refusal("liste.xlsx", b"PK\x03\x04" + b"\x00" * 40).code == "damaged"
