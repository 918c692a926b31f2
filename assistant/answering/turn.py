"""One question on its way through the chain: what the Assistant prepares and the answerers read."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from assistant.answering.citations import Sentence
from assistant.followups import Message
from assistant.types import NO_FILTERS, Filters, Passage

ScoredSentence = tuple[Sentence, float]


def dropping(items: list[ScoredSentence], drop: Callable[[str], bool]) -> list[ScoredSentence]:
    """The items whose sentence's text `drop` rejects left out, unless that leaves nothing to quote."""
    return [item for item in items if not drop(item[0].text)] or items


@dataclass
class Turn:
    """What flows through the chain for one question."""

    question: str
    history: Sequence[Message] = ()
    filters: Filters = NO_FILTERS
    mode: str = "extractive"
    standalone: str = ""
    topic_documents: tuple[str, ...] = ()  # a follow-up's: the document its topic was answered from
    # a question naming its documents by their facts ("the JGIM study") is asked of them without the
    # name: this is the standalone question before the name was dropped ("" when it named none)
    named_as: str = ""
    passages: list[Passage] = field(default_factory=list)
    query_vector: np.ndarray | None = None
    scored: list[ScoredSentence] = field(default_factory=list)
    answering: list[ScoredSentence] = field(default_factory=list)  # by the answer model, best first
    chosen: list[ScoredSentence] = field(default_factory=list)  # what both answerers quote from
    fact_gap: str | None = None  # a count / date / name is asked for and the chosen sentences lack it
    abstention: list[float] = field(default_factory=list)  # the abstention model's inputs
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def retrieved(self) -> list[Passage]:
        """The passages the search found, without those read along with their document."""
        return [p for p in self.passages if not p.read_along]

    @property
    def reading(self) -> str:
        """How the question was read, as the user and the conversation's next turn see it: with the
        name it used ("the JGIM study"), even where the search dropped it."""
        return self.named_as or self.standalone
