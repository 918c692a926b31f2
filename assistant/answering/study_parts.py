"""Where a sentence sits in a study report, and keeping the report's set-up out of answers about
what it found.

A report labels its parts with headings (Results, Methods) or with labels run into the text
("METHODS We enrolled ..."). The finding model (findings.py) reads a sentence as a finding or as
set-up; these rules use both to keep aims, methods and background out of an answer, and to quote a
sentence without the label that opens it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from assistant.answering.citations import Sentence
from assistant.answering.coverage import asked_term
from assistant.answering.findings import (
    FINDING_HEADING,
    FINDINGS_ASKED,
    asks_how_the_study_was_done,
    is_open_question,
    is_setup_heading,
)
from assistant.answering.turn import ScoredSentence, dropping
from assistant.retrieval import SHORT_DOCUMENT_CHUNKS
from assistant.types import Passage

SentenceCheck = Callable[[Sentence], bool]
# An upper-case part label starting a sentence and run into its text: "METHODS We enrolled ...".
RUN_IN_LABEL = re.compile(r"(?:^|(?<=[.!?]\s))([A-Z]{4,}(?:,? (?:AND|OF|[A-Z]{4,}))*):?(?=\s+[A-Z0-9])")


def part_of(sentence: Sentence) -> str:
    """The heading a sentence sits under, or the label of its run-in part when that comes later
    ("... OBJECTIVE To determine ... METHODS We enrolled ...": abstracts often label parts in the text)."""
    passage, start = sentence.passage, sentence.span[0]
    after_heading = max((offset for offset, _ in passage.headings if offset <= start), default=0)
    labels = [m for m in RUN_IN_LABEL.finditer(passage.text, after_heading) if m.start() <= start]
    return labels[-1].group(1) if labels else passage.section_at(start)


def without_part_label(sentence: Sentence) -> tuple[str, tuple[int, int]]:
    """The sentence as an answer quotes it, and its span: without a part label run into its start
    ("CONCLUSION In older people ..." is quoted from "In"). The label names the part, it says nothing."""
    match = RUN_IN_LABEL.match(sentence.text)
    label = match.group(1) if match else ""
    if not (FINDING_HEADING.search(label) or is_setup_heading(label)):
        return sentence.text, sentence.span
    rest = sentence.text[match.end() :].lstrip()
    return rest, (sentence.span[1] - len(rest), sentence.span[1])


def no_setup_after_the_first(
    question: str, quotable: list[ScoredSentence], reads_as_setup: SentenceCheck
) -> list[ScoredSentence]:
    """A yes/no question on a study is answered by its findings: after the best sentence, none of
    an abstract's sentences the finding model reads as set-up (aims, methods, who took part). Only
    in abstract-sized documents, where that model was fitted; a question on how the study was done
    keeps them."""
    if is_open_question(question) or asks_how_the_study_was_done(question):
        return quotable

    def dropped(sentence: Sentence) -> bool:
        chunks = sentence.passage.metadata.get("document_chunks") or 1
        return chunks <= SHORT_DOCUMENT_CHUNKS and reads_as_setup(sentence)

    return quotable[:1] + [item for item in quotable[1:] if not dropped(item[0])]


def no_setup_in_reports(
    question: str, quotable: list[ScoredSentence], passages: list[Passage], reads_as_setup: SentenceCheck
) -> list[ScoredSentence]:
    """An open question is not answered by a study report's set-up: in a document with set-up and
    findings headings (Methods, Results...), a sentence under no findings heading that the finding
    model reads as set-up ("Partnerships with CBOs are increasingly viewed as key ...", under
    "Abstract") is quoted only when nothing else may be. Not for a question on how the study was
    done, nor "what is X?"; a blog post ending "In conclusion" is no report."""
    if not is_open_question(question) or asks_how_the_study_was_done(question) or asked_term(question):
        return quotable
    headings: dict[str, set[str]] = {}
    for passage in passages:
        headings.setdefault(passage.source, set()).update([passage.section, *dict(passage.headings).values()])
    reports = {
        source
        for source, found in headings.items()
        if any(FINDING_HEADING.search(h) for h in found) and any(is_setup_heading(h) for h in found)
    }

    def dropped(sentence: Sentence) -> bool:  # the set lookups first: part_of scans the passage
        in_report = sentence.passage.source in reports
        return in_report and reads_as_setup(sentence) and not FINDING_HEADING.search(part_of(sentence))

    return [item for item in quotable if not dropped(item[0])] or quotable


# A sentence saying what a study did, not what it found: "Interviews explored motivations, benefits
# and challenges …", "We conducted semi-structured interviews …" (in an abstract without headings
# the finding model may read it as a finding)
STUDY_METHOD = re.compile(
    r"^\W*(?:(?:the|our|these)\s+)?(?:(?:semi-structured\s+)?interviews?|surveys?|focus\s+groups?|"
    r"questionnaires?|we|this\s+(?:study|paper|research|review|analysis)|the\s+(?:study|authors))\s+"
    r"(?:explored|examined|investigated|assessed|asked|covered|addressed|focused|conducted|"
    r"interviewed|surveyed|recruited|enrolled|collected|analy[sz]ed|reviewed|included)\b",
    re.I,
)


def no_method_for_findings(question: str, quotable: list[ScoredSentence]) -> list[ScoredSentence]:
    """ "What did the motivations study find?" is not answered by what the study did ("Interviews
    explored motivations …"), unless nothing else may be quoted."""
    if not FINDINGS_ASKED.search(question):
        return quotable
    return dropping(quotable, lambda text: bool(STUDY_METHOD.search(text)))


def keep_setup_out(
    question: str, quotable: list[ScoredSentence], passages: list[Passage], reads_as_setup: SentenceCheck
) -> list[ScoredSentence]:
    """The set-up rules in turn: a yes/no answer quotes none after its first sentence, an open one
    none of a report's, and "what did it find?" nothing saying what the study did."""
    quotable = no_setup_after_the_first(question, quotable, reads_as_setup)
    quotable = no_setup_in_reports(question, quotable, passages, reads_as_setup)
    return no_method_for_findings(question, quotable)
