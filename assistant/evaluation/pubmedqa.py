"""PubMedQA-dev as a question set over the development library, and the role of a quoted sentence.

Each question's evidence document is its own abstract; its evidence phrases are that abstract's
finding sentences (the RESULTS-like parts and the conclusion), split as the chunker splits them,
so "a passage holds evidence" means it holds one of the abstract's findings.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from assistant.evaluation.answer_metrics import FINDINGS_TAG
from assistant.evaluation.devlib import PubMedAbstract
from assistant.evaluation.metrics import Record, normalize
from assistant.evaluation.questions import Question
from assistant.text import split_sentences

TAG = "pubmedqa-dev"


def pubmedqa_questions(abstracts: Iterable[PubMedAbstract]) -> list[Question]:
    return [
        Question(
            id=abstract.pmid,
            question=abstract.question,
            answerable=True,
            evidence=tuple(
                sentence
                for section in abstract.sections
                if section.role == "finding"
                for sentence in split_sentences(section.text)
            ),
            tags=(TAG, FINDINGS_TAG),
            documents=(abstract.file_name,),
        )
        for abstract in abstracts
    ]


def role_in(abstract: PubMedAbstract, sentence: str) -> str | None:
    """finding, setup or unlabelled: the role of the labelled part holding the sentence; None for
    a heading or a piece found in no single part."""
    body = normalize(sentence)
    return next((s.role for s in abstract.sections if body in normalize(s.text)), None)


def annotate_roles(records: Sequence[Record], abstracts: Iterable[PubMedAbstract]) -> None:
    """Give every quoted sentence from a PubMedQA abstract its `role` (in place)."""
    by_name = {abstract.file_name: abstract for abstract in abstracts}
    for record in records:
        for quote in record["quoted"]:
            abstract = by_name.get(Path(quote["source"]).stem)
            quote["role"] = role_in(abstract, quote["sentence"]) if abstract else None
