"""Uploaded files -> checked copies under settings.uploads_dir, ready for Library.ingest.

A browser upload is untrusted: its name may carry a path, its extension may lie, it may be huge.
Each file is checked (size, type by content as well as extension), renamed safely and written
without following symlinks; every refusal says which file and why.
"""

from __future__ import annotations

import os
import re
import stat
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from assistant.loading import LoadError, content_hash, decode_text

UPLOAD_SUFFIXES = (".pdf", ".docx", ".html", ".htm", ".md", ".markdown", ".txt")
TEXT_SUFFIXES = {".html", ".htm", ".md", ".markdown", ".txt"}
MAX_NAME_CHARS = 120


class UploadError(Exception):
    """An upload that is refused; the message is the reason shown to the user."""


@dataclass
class StoredUpload:
    name: str  # the name the user gave (display only)
    path: Path | None  # where it was stored, None when refused
    reason: str = ""


def safe_name(name: str) -> str:
    """A plain file name: no directories, no drive, no control or odd characters, no leading dots."""
    base = re.split(r"[\\/]", unicodedata.normalize("NFKC", name))[-1]
    base = re.sub(r"[^\w.\- ()]+", "_", base).strip(" ._")
    base = re.sub(r"_+", "_", base)
    stem, suffix = os.path.splitext(base)
    if len(suffix) > 10:  # not an extension we know, and it must not eat the length budget
        stem, suffix = base, ""
    stem = stem.strip(" ._")[: MAX_NAME_CHARS - len(suffix)] or "upload"
    return stem + suffix.lower()


def check_content(data: bytes, suffix: str) -> None:
    """The bytes must be what the extension says: %PDF-, a Word zip, or decodable text."""
    if suffix not in UPLOAD_SUFFIXES:
        raise UploadError(f"unsupported type '{suffix or 'none'}' (allowed: {', '.join(UPLOAD_SUFFIXES)})")
    if not data.strip():
        raise UploadError("empty file")
    if suffix == ".pdf":
        if not data.startswith(b"%PDF-"):
            raise UploadError("named .pdf but the content is not a PDF")
    elif suffix == ".docx":
        if not _is_docx(data):
            raise UploadError("named .docx but the content is not a Word document")
    else:
        if data.startswith(b"%PDF-") or data.startswith(b"PK\x03\x04"):
            raise UploadError(f"named {suffix} but the content is a PDF or zip file")
        try:
            decode_text(data)
        except LoadError as exc:
            raise UploadError(str(exc)) from exc


def _is_docx(data: bytes) -> bool:
    import io

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False


def read_upload(source: Path, max_mb: float) -> bytes:
    """The upload's bytes; a symlink or anything but a regular file is refused, never followed."""
    info = os.lstat(source)
    if not stat.S_ISREG(info.st_mode):
        raise UploadError("not a regular file")
    if info.st_size > max_mb * 2**20:
        raise UploadError(f"over the upload limit ({info.st_size / 2**20:.1f} MB > {max_mb:g} MB)")
    fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as handle:
        return handle.read(int(max_mb * 2**20) + 1)


def store_upload(source: Path, name: str, uploads_dir: Path, max_mb: float) -> StoredUpload:
    """Check one uploaded file and copy it into uploads_dir; refusals come back with the reason."""
    try:
        data = read_upload(source, max_mb)
        clean = safe_name(name)
        check_content(data, Path(clean).suffix)
        return StoredUpload(name, _write_unique(uploads_dir, clean, data))
    except UploadError as exc:
        return StoredUpload(name, None, str(exc))
    except OSError as exc:
        return StoredUpload(name, None, f"cannot read the upload ({exc.strerror or exc})")


def _write_unique(folder: Path, name: str, data: bytes) -> Path:
    """Write under `name`, or `name-2`, ... ; the same bytes already stored under a name reuse it."""
    folder.mkdir(parents=True, exist_ok=True)
    root = folder.resolve()
    stem, suffix = os.path.splitext(name)
    for n in range(1, 1000):
        target = root / (name if n == 1 else f"{stem}-{n}{suffix}")
        if target.parent != root:  # cannot happen after safe_name; guards against a future change
            raise UploadError("unsafe file name")
        if target.is_symlink():
            continue
        if target.is_file() and content_hash(target.read_bytes()) == content_hash(data):
            return target
        try:
            # O_EXCL + O_NOFOLLOW: never overwrite, never write through a link planted in the folder.
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        return target
    raise UploadError("too many files with this name")
