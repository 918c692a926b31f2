"""The chosen sentences as an answer: its text, each sentence followed by its citation number."""

from __future__ import annotations

import re

from assistant.answering.study_parts import without_part_label
from assistant.answering.turn import ScoredSentence
from assistant.types import Citation, Passage

# A sentence that leans on the one before it ("Second, …", "However, …", "These findings …"), or an
# item of a list ("- In what ways …", "(2) …"), which keeps its place in the list
LEANS_ON_THE_LAST = re.compile(
    r"^\s*(?:[-–•*]|\(?\d+[.)])\s"
    r"|^\W*(?:second|third|fourth|fifth|next|then|finally|lastly|also|however|but|yet|moreover|"
    r"furthermore|in addition|additionally|similarly|likewise|thus|therefore|hence|instead|this|these|"
    r"those|that|such|it|its|they|their|he|she|despite)\b",
    re.I,
)


def compose(chosen: list[ScoredSentence], passages: list[Passage]) -> tuple[str, list[Citation]]:
    """The likeliest sentence (`chosen` comes best first) leads, unless it leans on a sentence before
    it; the others follow in their passages' rank, then in their order there, to read well."""
    order = {p.id: rank for rank, p in enumerate(passages)}
    ordered = sorted(chosen, key=lambda item: (order[item[0].passage.id], item[0].span[0]))
    best = chosen[0][0] if chosen else None
    if best is not None and not LEANS_ON_THE_LAST.match(best.text):
        ordered.sort(key=lambda item: item[0] is not best)  # stable: the rest keep their order
    numbers: dict[str, int] = {}
    parts, citations = [], []
    for sentence, _ in ordered:
        number = numbers.setdefault(sentence.passage.id, len(numbers) + 1)
        text, span = without_part_label(sentence)
        parts.append(f"{text} [{number}]")
        citations.append(Citation(number, sentence.passage, text, span))
    return " ".join(parts), citations
