"""Upload safety: names, content-checked types, size limit, symlinks, storage under uploads_dir."""

from __future__ import annotations

import io
import os
import zipfile

import pytest
from docx import Document
from hypothesis import given
from hypothesis import strategies as st
from reportlab.pdfgen import canvas

from assistant.ui.uploads import UploadError, check_content, read_upload, safe_name, store_upload


def pdf_bytes(text: str = "A real PDF about partnerships.") -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    pdf.drawString(72, 720, text)
    pdf.save()
    return buffer.getvalue()


def docx_bytes() -> bytes:
    buffer = io.BytesIO()
    document = Document()
    document.add_paragraph("A Word document about partnerships.")
    document.save(buffer)
    return buffer.getvalue()


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "not a Word document")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd.txt", "passwd.txt"),
        ("/abs/path/report.md", "report.md"),
        ("C:\\Users\\me\\Report.PDF", "Report.pdf"),
        ("..\\..\\win.ini.txt", "win.ini.txt"),
        (".hidden.md", "hidden.md"),
        ("<img src=x onerror=alert(1)>.html", "img src_x onerror_alert(1).html"),
        ("", "upload"),
        ("..", "upload"),
        ("a\x00b\nc.txt", "a_b_c.txt"),
    ],
)
def test_safe_name(name, expected):
    assert safe_name(name) == expected


@given(st.text(max_size=300))
def test_safe_name_is_always_a_plain_name(name):
    clean = safe_name(name)
    assert clean and not clean.startswith(".") and len(clean) <= 120
    assert not set(clean) & set("/\\\x00<>:\"'|?*\n\r")
    assert clean not in (".", "..")


@pytest.mark.parametrize(
    ("data", "suffix"),
    [
        (pdf_bytes(), ".pdf"),
        (docx_bytes(), ".docx"),
        ("# Heading\n\nPlain text ✓".encode(), ".md"),
        (b"<html><body><p>hi</p></body></html>", ".html"),
        ("UTF-16 text".encode("utf-16"), ".txt"),
    ],
)
def test_real_files_pass_the_content_check(data, suffix):
    check_content(data, suffix)


@pytest.mark.parametrize(
    ("data", "suffix", "reason"),
    [
        (b"just text pretending", ".pdf", "not a PDF"),
        (zip_bytes(), ".docx", "not a Word document"),
        (pdf_bytes(), ".docx", "not a Word document"),
        (pdf_bytes(), ".txt", "is a PDF or zip"),
        (docx_bytes(), ".md", "is a PDF or zip"),
        (bytes(range(256)) * 4, ".txt", "binary"),
        ("café".encode("latin-1"), ".txt", "not UTF-8"),
        (b"   \n", ".md", "empty file"),
        (b"MZ\x90\x00", ".exe", "unsupported type '.exe'"),
        (b"#!/bin/sh", "", "unsupported type 'none'"),
    ],
)
def test_lying_or_unusable_files_are_refused_with_the_reason(data, suffix, reason):
    with pytest.raises(UploadError, match=reason):
        check_content(data, suffix)


def test_symlinks_and_oversize_uploads_are_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read")
    link = tmp_path / "link.txt"
    link.symlink_to(secret)
    with pytest.raises(UploadError, match="not a regular file"):
        read_upload(link, max_mb=1)
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * (2**20 + 1))
    with pytest.raises(UploadError, match=r"over the upload limit \(1.0 MB > 1 MB\)"):
        read_upload(big, max_mb=1)


def test_store_upload_keeps_files_inside_uploads_dir(tmp_path):
    uploads = tmp_path / "data" / "uploads"
    source = tmp_path / "tmp-upload"
    source.write_bytes(pdf_bytes())
    stored = store_upload(source, "../../../outside.pdf", uploads, max_mb=5)
    assert stored.reason == "" and stored.path == uploads.resolve() / "outside.pdf"
    assert stored.path.read_bytes() == source.read_bytes()
    assert not (tmp_path / "outside.pdf").exists()

    again = store_upload(source, "outside.pdf", uploads, max_mb=5)
    assert again.path == stored.path  # same bytes, same name: reused

    source.write_bytes(pdf_bytes("Another PDF."))
    other = store_upload(source, "outside.pdf", uploads, max_mb=5)
    assert other.path == uploads.resolve() / "outside-2.pdf"
    assert stored.path.read_bytes() != other.path.read_bytes()  # nothing overwritten


def test_store_upload_never_writes_through_a_planted_symlink(tmp_path):
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    target = tmp_path / "victim.md"
    target.write_text("original")
    (uploads / "notes.md").symlink_to(target)
    source = tmp_path / "incoming"
    source.write_text("# Notes\n\nuploaded text")
    stored = store_upload(source, "notes.md", uploads, max_mb=5)
    assert target.read_text() == "original"
    assert stored.path == uploads.resolve() / "notes-2.md" and not stored.path.is_symlink()


def test_store_upload_reports_refusals_without_writing(tmp_path):
    uploads = tmp_path / "uploads"
    source = tmp_path / "fake"
    source.write_text("plain text")
    stored = store_upload(source, "report.pdf", uploads, max_mb=5)
    assert stored.path is None and stored.reason == "named .pdf but the content is not a PDF"
    assert not uploads.exists() or not os.listdir(uploads)
    assert store_upload(tmp_path / "missing", "a.md", uploads, 5).reason.startswith("cannot read the upload")
