"""The names a question uses ("Baltimore", "the Reading Hospital program", "JGIM"), and whether
the passages found, or their documents' bibliographic facts, mention them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from assistant.answering.citations import Sentence
from assistant.text import singular_words
from assistant.types import Passage

CAPITALIZED = re.compile(r"\b[A-Z][\w’'&+-]*(?:\s+[A-Z][\w’'&+-]*)*")


def name_words(question: str) -> list[str]:
    """The words of the names a question uses ("Reading", "Hospital", "JGIM"). None for a question in
    title case ("Does It Correlate With ..."), whose capitals name nothing."""
    question = question.replace("--", " – ")  # "After CLASS--Is a …": a dash, not a hyphenated name
    # a capital after ": ", " - ", "? " starts a clause ("... India - Will it work?")
    openers = {m.group(1) for m in CLAUSE_OPENER.finditer(question)}
    names = [n for n in words_of(_names(question)) if n not in openers and f"-{n}" not in question]
    if any(w not in openers for w in TITLE_CASE_WORD.findall(question)) or _title_cased(question):
        return []
    return names


def _title_cased(question: str) -> bool:
    """Every longer word capitalized: "Is Overexpression of Ki-67 a Prognostic Biomarker of Upper
    Tract Urinary Carcinoma?" is a title, its capitals name nothing. ("How much money did the Robert
    Wood Johnson Foundation give …" has lowercase words of its own.)"""
    after_first_word = question.strip().partition(" ")[2]
    words = re.findall(r"\b[A-Za-z][\w’'-]{3,}", after_first_word)
    return len(words) >= 5 and all(w[0].isupper() for w in words)


def unmentioned_names(question: str, context: str) -> list[str]:
    """The words of the names a question uses that the context lacks."""
    names = name_words(question)
    if not names:
        return []
    context_words, text = _name_forms_of(context), context.lower()
    return [n for n in names if not _mentioned(n, context_words, text)]


def names_none_of(question: str, passages: Iterable[Passage]) -> list[str]:
    """The question's name words when the passages (with their documents' facts) mention none of
    them, or miss an acronym it uses ("SHIP" is specific, "Community" is not); else nothing."""
    unknown = unmentioned_names(question, context_of(passages))
    if unknown and len(unknown) == len(name_words(question)):
        return unknown
    return [n for n in unknown if len(n) >= 3 and ACRONYM.fullmatch(n)]


def naming_documents(question: str, passages: Iterable[Passage]) -> set[str]:
    """The documents whose retrieved passages mention every name the question uses: "Does the
    Reading Hospital program include insurers?" is about the document on Reading Hospital, not an
    abstract on insurance. Empty when the question names nothing."""
    if not name_words(question):
        return set()
    return {
        source
        for source, found in by_document(passages).items()
        if not unmentioned_names(question, context_of(found))
    }


def by_document(passages: Iterable[Passage]) -> dict[str, list[Passage]]:
    grouped: dict[str, list[Passage]] = {}
    for passage in passages:
        grouped.setdefault(passage.source, []).append(passage)
    return grouped


def _mentioned(name: str, context_words: frozenset[str], text: str) -> bool:
    """The name is in the context as a word, as the start of one ("Australia" in "Australian") or
    with an ending the text lacks ("Africans" by "African"), by the words an acronym stands for
    ("HMO": health maintenance organization), or part by part ("UNICEF-recommended")."""
    form = _name_form(name)
    if form in context_words or spelled_out(name, text):
        return True
    if len(form) >= 5 and any(w.startswith(form) for w in context_words):
        return True
    # the other way round, a word of the text with a short ending added: "Africans" by "African"
    if any(len(w) >= 5 and form.startswith(w) and len(form) - len(w) <= 2 for w in context_words):
        return True
    # an acronym numbered in the text: "ADRB" as "ADRB2"
    if ACRONYM.fullmatch(name) and any(
        w.startswith(form) and w[len(form) :].isdigit() for w in context_words
    ):
        return True
    parts = [p for p in re.split(r"[-/]", name) if len(p) > 1]
    return parts not in ([], [name]) and all(_mentioned(p, context_words, text) for p in parts)


# A function word with a capital inside a question: it is written in title case
TITLE_CASE_WORD = re.compile(
    r"(?<=\w )(?:Is|Are|Was|Were|Be|Does|Do|Did|It|Its|With|Without|For|Of|On|At|By|From|To|The|And|Or|"
    r"A|An|As|Than|Can|Could|Will|Should|Would|May|Their|There|This|That|What|When|Who|How|Why|Any|"
    r"Not|No|Still|Versus|Via|Into|After|Before|During|Between|Among|Against|Within|Same)\b"
)
CLAUSE_OPENER = re.compile(r"(?:^|[:.?!;–—]\s+|\s-\s+)\W*([\w’'-]+)")


def _name_form(word: str) -> str:
    """A name as compared: "Baltimore's" is Baltimore, "HIV1" is "HIV-1"."""
    return re.sub(r"[’']s$", "", word.lower()).replace("-", "")


@lru_cache(maxsize=256)
def _name_forms_of(context: str) -> frozenset[str]:
    """A context's words as names are compared (`_name_form`). Cached: the fact check asks for each
    candidate sentence against its passage's context, once to rank them and again to quote."""
    return frozenset(_name_form(w) for w in re.findall(r"[\w’'&+-]+", context))


def _names(question: str) -> list[str]:
    """Capitalized names inside the question (not its first word), e.g. Baltimore, JGIM."""
    body = question.strip()
    first = re.match(r"\W*\w+", body)
    body = body[first.end() :] if first else body
    return [n for n in CAPITALIZED.findall(body) if n.lower() not in {"i", "cbo", "cbos"}]


def words_of(phrases: Iterable[str]) -> list[str]:
    return [w for p in phrases for w in p.split()]


ACRONYM = re.compile(r"[A-Z]{2,6}s?")


def spelled_out(term: str, text: str) -> bool:
    """An acronym whose words the text spells out: "CBOs" in "community-based organizations"."""
    if not ACRONYM.fullmatch(term):
        return False
    letters = term.rstrip("s").lower()
    initials = r"[\s-]+".join(rf"{letter}\w*" for letter in letters)
    return re.search(rf"\b{initials}\b", text) is not None


# "Reading Hospital Community Connections Program (CCP)": up to eight words, then the acronym
DEFINITION = re.compile(r"((?:[\w’'-]+\s+){0,7}[\w’'-]+)\s+\(([A-Z]{2,6})s?\)")


def defined_acronyms(text: str) -> dict[str, str]:
    """Acronyms the text defines, each with the words it stands for: the shortest run of words
    before "(ACR)" whose initials (hyphenated parts too) spell it."""
    found = {}
    for match in DEFINITION.finditer(text):
        words, acronym = match.group(1).split(), match.group(2)
        for start in range(len(words) - 1, -1, -1):
            run = " ".join(words[start:])
            if spelled_out(acronym, run.lower()):
                found[acronym] = run
                break
    return found


def context_of(passages: Iterable[Passage]) -> str:
    """Passage texts plus their documents' bibliographic facts (names a question may use)."""
    parts = []
    for passage in {p.id: p for p in passages}.values():
        facts = [
            str(v)
            for k, v in passage.metadata.items()
            if k not in ("ordinal", "seed", "pipeline", "document_chunks")
        ]
        parts += [passage.text, passage.title, *facts]
    return "\n".join(parts)


def acronyms_asked(question: str, passages: list[Passage]) -> dict[str, dict[str, str]]:
    """For each document, the acronyms its passages define whose words the question spells out:
    "CCP" when the question names the "Reading Hospital Community Connections Program"."""
    asked = f" {' '.join(singular_words(question))} "
    found: dict[str, dict[str, str]] = {}
    for passage in passages:
        for acronym, long in defined_acronyms(passage.text).items():
            if f" {' '.join(singular_words(long))} " in asked:
                found.setdefault(passage.source, {})[acronym] = long
    return found


def with_acronyms_spelled(sentence: Sentence, asked: dict[str, dict[str, str]]) -> str:
    """The sentence followed by the words each asked-about acronym in it stands for."""
    defined = asked.get(sentence.passage.source, {})
    used = [long for acronym, long in defined.items() if re.search(rf"\b{acronym}s?\b", sentence.text)]
    return " ".join([sentence.text, *used])
