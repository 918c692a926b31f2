"""The chosen sentences as an answer: its text, each sentence followed by its citation number."""

from __future__ import annotations

import re

from assistant.answering.study_parts import without_part_label
from assistant.answering.turn import ScoredSentence
from assistant.types import Citation, Passage

# A sentence that needs the one before it: it starts with a connective ("Despite these frustrations,
# …", "However, …", "Second, …"); no answer starts with one
CONNECTIVE = (
    r"second|third|fourth|fifth|next|then|finally|lastly|also|however|but|yet|moreover|furthermore|"
    r"additionally|similarly|likewise|thus|therefore|hence|instead|"
    # "Despite these frustrations", "In addition,": not "Despite government assistance, low-income
    # individuals use vision care less", "In addition to X, Y", which say all they need
    r"despite\s+(?:this|these|that|those|such|it|its|their|them)|in addition(?!\s+to)"
)
NEEDS_THE_LAST = re.compile(rf"^\W*(?:{CONNECTIVE})\b", re.I)
# A sentence that leans on the one before it: those, one starting with a pronoun ("These findings …",
# though "This was a qualitative study …" may start an answer), or an item of a list ("- In what
# ways …", "(2) …"), which keeps its place in the list
LEANS_ON_THE_LAST = re.compile(
    rf"^\s*(?:[-–•*]|\(?\d+[.)])\s|^\W*(?:{CONNECTIVE}|this|these|those|that|such|it|its|they|their|he|she)\b",
    re.I,
)


def compose(chosen: list[ScoredSentence], passages: list[Passage]) -> tuple[str, list[Citation]]:
    """The likeliest sentence (`chosen` comes best first) leads, unless it leans on a sentence before
    it; the others follow in their passages' rank, then in their order there, to read well. An answer
    that would start with a connective starts with the likeliest sentence leaning on none."""
    quoted = {id(s): without_part_label(s) for s, _ in chosen}
    order = {p.id: rank for rank, p in enumerate(passages)}
    ordered = sorted(chosen, key=lambda item: (order[item[0].passage.id], item[0].span[0]))
    leans = {id(s): bool(LEANS_ON_THE_LAST.match(quoted[id(s)][0])) for s, _ in chosen}
    lead = chosen[0][0] if chosen and not leans[id(chosen[0][0])] else None
    if lead is None and ordered and NEEDS_THE_LAST.match(quoted[id(ordered[0][0])][0]):
        lead = next((s for s, _ in chosen if not leans[id(s)]), None)
    ordered.sort(key=lambda item: item[0] is not lead)  # stable: the rest keep their order
    numbers: dict[str, int] = {}
    parts, citations = [], []
    for sentence, _ in ordered:
        number = numbers.setdefault(sentence.passage.id, len(numbers) + 1)
        text, span = quoted[id(sentence)]
        parts.append(f"{text} [{number}]")
        citations.append(Citation(number, sentence.passage, text, span))
    return " ".join(parts), citations


# A sentence referring back to the one before it ("Despite these frustrations, …", "These barriers …");
# "This study included …" refers to its document
REFERS_BACK = re.compile(
    r"^\W*(?:(?:despite|because of|given|for|in|with|of)\s+)?(?:this|these|those|such)\b"
    r"(?!\s+(?:study|paper|article|report|review|brief|post|blog|analysis|work|project|survey)\b)",
    re.I,
)


def with_what_it_refers_to(
    chosen: list[ScoredSentence], quotable: list[ScoredSentence]
) -> list[ScoredSentence]:
    """The best sentence, when it refers back ("Despite these frustrations, both sectors supported
    …"), is quoted with the sentence before it, if quotable: that one says what "these" are."""
    if not chosen or not REFERS_BACK.match(chosen[0][0].text):
        return chosen
    lead = chosen[0][0]
    before = [
        item for item in quotable if item[0].passage.id == lead.passage.id and item[0].span[1] <= lead.span[0]
    ]
    previous = max(before, key=lambda item: item[0].span[1], default=None)
    # (the one just before it, not an earlier one: a heading or a fragment between breaks the link)
    if previous is None or lead.passage.text[previous[0].span[1] : lead.span[0]].strip():
        return chosen
    if any(previous[0] is sentence for sentence, _ in chosen):
        return chosen
    return [chosen[0], previous, *chosen[1:]]
