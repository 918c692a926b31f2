"""The scholarly apparatus of a document: reference lists, author affiliations, copyright lines.

They stay in the library (searchable: a reader may look for a cited work) but are marked
quotable=False, so an answer never quotes "Smith J. (2019). Partnerships. JAMA 3(2)." as a finding.
"""

from __future__ import annotations

import re
from dataclasses import replace

from assistant.types import Section

REFERENCE_HEADING = re.compile(
    r"^\s*(?:[\dIVX]+(?:\.\d+)*\.?\s+)?(?:references?(?: cited)?|bibliography|works cited|literature cited"
    r"|reference list|endnotes|sources cited)\s*:?\s*$",
    re.I,
)
COPYRIGHT = re.compile(
    r"^\s*(?:©|\(c\)\s|copyright\b)|\ball rights reserved\b|\blicensed under\b.{0,40}\bcreative commons\b"
    r"|^\s*(?:doi:|https?://(?:dx\.)?doi\.org/)\S+\s*$",
    re.I,
)
EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.]+\b")
INSTITUTION = re.compile(
    r"\b(?:university|universit[éä]t|department|dept\.|institute|school of|college|faculty of"
    r"|hospital|medical center|laboratory)\b",
    re.I,
)
# A reference entry: a year in parentheses or after the authors, and a volume(issue), page range or DOI.
ENTRY_YEAR = re.compile(r"\((?:19|20)\d\d[a-z]?\)|[.,]\s(?:19|20)\d\d[a-z]?[.;]")
ENTRY_SOURCE = re.compile(
    r"\b\d+\s*\(\d+\)\s*[:,]|\bpp?\.\s*\d+\s*[–-]\s*\d+|\b\d+\s*[–-]\s*\d+\.\s*$|\bdoi\b", re.I
)
MAX_APPARATUS_WORDS = 60


def is_apparatus(paragraph: str, front: bool) -> bool:
    """A copyright or DOI line anywhere; an affiliation line in the front matter; a reference entry."""
    words = len(paragraph.split())
    if words > MAX_APPARATUS_WORDS:
        return False
    if COPYRIGHT.search(paragraph) or (words < 30 and EMAIL.search(paragraph)):
        return True
    if front and words < 30 and INSTITUTION.search(paragraph) and not paragraph.rstrip().endswith("."):
        return True
    return bool(ENTRY_YEAR.search(paragraph) and ENTRY_SOURCE.search(paragraph))


def mark_apparatus(sections: list[Section]) -> list[Section]:
    """Sections under a References heading unquotable; apparatus paragraphs elsewhere moved into an
    unquotable section of their own beside the one they were in."""
    marked: list[Section] = []
    for index, section in enumerate(sections):
        if REFERENCE_HEADING.match(section.heading):
            marked.append(replace(section, quotable=False))
            continue
        front = index == 0 or (section.page == 1 and not section.heading)
        paragraphs = section.text.split("\n")
        flags = [is_apparatus(p, front) for p in paragraphs]
        if not any(flags):
            marked.append(section)
            continue
        kept = "\n".join(p for p, flag in zip(paragraphs, flags, strict=True) if not flag)
        apparatus = "\n".join(p for p, flag in zip(paragraphs, flags, strict=True) if flag)
        if kept.strip():
            marked.append(replace(section, text=kept))
        marked.append(replace(section, text=apparatus, quotable=False, end_page=None))
    return marked
