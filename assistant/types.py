"""The data that crosses stages: loaded sections, stored passages, filters, citations, answers, reports."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

Coverage = Literal["answered", "partial", "not_covered"]


@dataclass(frozen=True)
class Section:
    """A run of text from one place in a file: a page of a PDF, or the text under one heading."""

    text: str
    heading: str = ""
    page: int | None = None
    end_page: int | None = None  # set when the section's last sentence runs onto the next page
    quotable: bool = True  # False for references, affiliations, copyright lines: searchable, never quoted


@dataclass
class LoadedDocument:
    source: str  # file name as the user knows it
    sections: list[Section]
    metadata: dict[str, Any]  # title, authors, year, type, ... from the manifest or the file
    content_hash: str


@dataclass
class Passage:
    """A chunk of a document, as stored and as retrieved."""

    id: str
    text: str
    source: str
    title: str
    section: str = ""
    page: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)  # ordinal; quotable=False for references
    score: float = 0.0  # fused ranking score (higher is better)
    relevance: float | None = None  # cosine similarity to the question, when known
    end_page: int | None = None  # the page its last sentence ends on, when that is a later page
    # (offset in text, heading) of each heading line inside the passage, in order; `section` is the
    # heading the passage starts under, so a sentence further down may sit under a later one.
    headings: list[tuple[int, str]] = field(default_factory=list)

    @property
    def read_along(self) -> bool:
        """Not found by the search but read with its short document, the best found (retrieval.py)."""
        return bool(self.metadata.get("read_along"))

    @property
    def location(self) -> str:
        """Page or section, as a reader would look it up."""
        return self.location_at(0)

    def section_at(self, offset: int) -> str:
        """The heading right above the character at `offset`."""
        above = [heading for start, heading in self.headings if start <= offset]
        return above[-1] if above else self.section

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Passage:
        """The inverse of asdict (extra keys ignored), e.g. for a conversation read back from storage."""
        known = {f.name for f in fields(cls)} & data.keys()
        passage = cls(**{k: data[k] for k in known})
        passage.headings = [(int(start), str(heading)) for start, heading in passage.headings]
        return passage

    def location_at(self, offset: int) -> str:
        """Page, or the section of the text at `offset`."""
        if self.page is not None and self.end_page and self.end_page > self.page:
            return f"pp. {self.page}–{self.end_page}"
        if self.page is not None:
            return f"p. {self.page}"
        return self.section_at(offset)

    @property
    def quotable(self) -> bool:
        """False for reference lists, affiliations and copyright lines: found by search, but an
        answer never quotes them (the answer step's sentence selection checks this)."""
        return bool(self.metadata.get("quotable", True))


@dataclass(frozen=True)
class Filters:
    """Limit retrieval to chosen documents, types or years (empty means no limit)."""

    sources: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    # Documents left out (by key): the evaluation asks a question with its evidence document
    # excluded, to see whether the assistant then abstains, without touching the store.
    exclude_documents: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.sources or self.types or self.years or self.exclude_documents)

    def admit(self, keys: list[str]) -> list[str]:
        """The documents these filters let through by key (types and years are the search's)."""
        return [
            k for k in keys if k not in self.exclude_documents and (not self.sources or k in self.sources)
        ]

    def chroma_where(self) -> dict | None:
        clauses = [
            {field: {"$in": list(values)}}
            for field, values in (("source", self.sources), ("type", self.types), ("year", self.years))
            if values
        ]
        if self.exclude_documents:
            clauses.append({"source": {"$nin": list(self.exclude_documents)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}


NO_FILTERS = Filters()


@dataclass
class Citation:
    number: int
    passage: Passage
    sentence: str
    span: tuple[int, int]  # character span of the supporting sentence in passage.text
    supported: bool = True

    @property
    def title(self) -> str:
        return self.passage.title

    @property
    def source(self) -> str:
        return self.passage.source

    @property
    def location(self) -> str:
        """Page, or the heading right above the cited sentence (not the one the passage starts under)."""
        return self.passage.location_at(self.span[0])


@dataclass
class Answer:
    question: str
    text: str
    citations: list[Citation]
    retrieved: list[Passage]
    abstained: bool
    standalone_question: str
    mode: str = "extractive"
    timings: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    # How much of the question the library covers (answering/coverage.py): "partial" when some of its
    # key terms are in no passage the answer cites, "not_covered" when it abstains; `uncovered` lists
    # those terms (for an abstention: the ones no retrieved passage mentions).
    coverage: Coverage = "answered"
    uncovered: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for cite, raw in zip(self.citations, data["citations"], strict=True):
            raw["title"] = cite.title
            raw["source"] = cite.source
            raw["location"] = cite.location
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        """The inverse of to_dict: citations and passages come back as objects (extra keys ignored)."""
        known = {f.name for f in fields(cls)} & data.keys()
        answer = cls(**{k: data[k] for k in known})
        answer.retrieved = [Passage.from_dict(p) for p in data.get("retrieved", [])]
        answer.citations = [
            Citation(
                number=int(c["number"]),
                passage=Passage.from_dict(c["passage"]),
                sentence=c["sentence"],
                span=(int(c["span"][0]), int(c["span"][1])),
                supported=bool(c.get("supported", True)),
            )
            for c in data.get("citations", [])
        ]
        return answer


@dataclass
class FileResult:
    source: str
    status: str  # added | updated | unchanged | duplicate | skipped | removed
    chunks: int = 0
    reason: str = ""


@dataclass
class IngestReport:
    files: list[FileResult] = field(default_factory=list)
    chunks_written: int = 0
    chunks_kept: int = 0  # of those written, how many read as before and kept their vectors
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for f in self.files if f.status == status)

    @property
    def skipped(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "skipped"]

    def summary(self) -> str:
        parts = [
            f"{self.count(s)} {s}"
            for s in ("added", "updated", "unchanged", "duplicate", "removed", "skipped")
        ]
        written = f"{self.chunks_written} chunks written"
        if self.chunks_kept:
            written += f" ({self.chunks_written - self.chunks_kept} embedded, {self.chunks_kept} reused)"
        return f"{', '.join(parts)}; {written} in {self.seconds:.1f} s"
