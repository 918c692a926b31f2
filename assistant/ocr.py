"""Scanned PDF pages -> text, with Debian's tesseract-ocr (run as a program: no Python binding
needed). The page is rendered at 300 dpi by pypdfium2, which pdfplumber already brings."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

OCR_DPI = 300
OCR_TIMEOUT_SECONDS = 180


class OcrUnavailable(Exception):
    """Tesseract is not installed (or lacks a language): the message says what to install."""


def ocr_pdf_page(data: bytes, page_number: int) -> str:
    """The text tesseract reads on one page (1-based) of a PDF."""
    from assistant.settings import Settings

    binary = shutil.which("tesseract")
    if binary is None:
        raise OcrUnavailable(
            "tesseract is not installed (Debian: apt-get install tesseract-ocr tesseract-ocr-eng)"
        )
    languages = Settings().ocr_languages
    with tempfile.TemporaryDirectory(prefix="assistant-ocr-") as folder:
        image = Path(folder) / "page.png"
        _render(data, page_number, image)
        try:
            done = subprocess.run(
                [binary, str(image), "stdout", "-l", languages],
                capture_output=True,
                text=True,
                timeout=OCR_TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise OcrUnavailable(
                f"tesseract took over {OCR_TIMEOUT_SECONDS} s on page {page_number}"
            ) from exc
    if done.returncode != 0:
        reason = " ".join(done.stderr.split())[:300]
        raise OcrUnavailable(
            f"tesseract failed ({reason}); for language '{languages}' install tesseract-ocr-LANG"
        )
    return done.stdout


def _render(data: bytes, page_number: int, target: Path) -> None:
    import pypdfium2

    document = pypdfium2.PdfDocument(data)
    try:
        page = document[page_number - 1]
        page.render(scale=OCR_DPI / 72, grayscale=True).to_pil().save(target)
        page.close()
    finally:
        document.close()
