"""Does the library cover what the question is about? Its key terms, and the terms it asks about.

A question's key terms are its topic words; the passages found must mention them. A question
asking what a term means needs a passage using that term as one phrase, and one naming its
document by what it is about ("the relational organizing study") needs a document on that.
The fact a question asks for (a count, a date, a name) is checked in facts.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import PurePath

from assistant.answering.citations import stems
from assistant.answering.names import by_document, context_of, spelled_out
from assistant.text import (
    BROWSE_QUESTION,
    CJK_LETTER,
    ORDINALS,
    QUESTION_WORDS,
    content_words,
    sentence_spans,
    singular,
    singular_words,
)
from assistant.types import Coverage, Passage

# "take place" says when or where something happened, not what it is about
TAKE_PLACE = re.compile(r"\b(?:take|takes|took|taken|taking)\s+place\b", re.I)


def key_terms(question: str) -> list[str]:
    """The question's topic words: its content words that are not generic question words."""
    # nor the words asking to browse: "What do the sources say about …", "Is there anything on …"
    question = BROWSE_QUESTION.sub(" ", TAKE_PLACE.sub(" ", question))
    # "Baltimore's" is the name Baltimore
    spelled = [re.sub(r"[’']s$", "", w) for w in re.findall(r"[\w’'-]+", question)]
    words = [w for w in spelled if w.lower() in content_words(question)]
    return list(dict.fromkeys(w for w in words if w.lower() not in QUESTION_WORDS))


def uncovered_terms(question: str, passages: Iterable[Passage]) -> list[str]:
    """The question's key terms that none of the passages (text or title) mentions, by crude stem."""
    return terms_missing_from(question, " ".join(f"{p.title} {p.text}" for p in passages))


def terms_missing_from(question: str, text: str) -> list[str]:
    """The question's key terms the text does not mention, by crude stem or spelled out."""
    text = text.lower()
    return [t for t in key_terms(question) if not mentions(t, text)]


def mentions(term: str, text: str) -> bool:
    """The lower-cased text has the term, by crude stem, or an acronym's words spelled out."""
    if not term.isalpha():
        return term.lower() in text or spelled_out(term, text)
    wanted, found = stems(term), stems(text)
    if wanted and wanted <= found:
        return True
    # a five-letter stem at the start of a longer word: "refer" in "referrals", whose stem keeps six
    # letters ("referr"); four letters would be too few ("care" in "career")
    if len(wanted) == 1 and len(stem := next(iter(wanted))) == 5 and any(w.startswith(stem) for w in found):
        return True
    return spelled_out(term, text)


# "What is collective impact?": a question asking what a term means, where the term is 2-4 words
# ("What is a CBO?" asks about one word: "a" is no part of the term)
TERM = r"((?!(?:an?|the)\s)(?:[\w’'-]+\s+){1,3}[\w’'-]+)"
# in "What is the role of trust in relational organizing?" the term is the fewest words before "in"
ROLE_TERM = r"((?:[\w’'-]+\s+){0,3}?[\w’'-]+)"
DEFINITION_QUESTION = re.compile(
    rf"^\s*(?:(?:what (?:is|are)|define) (?:an? |the )?{TERM}"
    rf"|what does (?:an? |the )?{TERM} (?:mean|involve|entail))\s*\??\s*$"
    # "What role do community health workers play …?" asks about that term too
    rf"|^\s*(?:what (?:role|part) (?:do|does|did|can|could) (?:an? |the )?{TERM} play\b"
    rf"|what is the role of (?:an? |the )?{ROLE_TERM}(?= in\b|\s*\?))",
    re.I,
)


# Quotation marks around the term asked about ("What does “one-way referral” mean?"): double ones
# anywhere, an opening single one before a word, a closing one before "mean", "?" or the end (not the
# apostrophe of "the partners’ role")
TERM_QUOTES = re.compile(r"[\"“”]|(?<!\w)[‘']|[’'](?!\w)(?<=\w[’'])(?=\s*(?:mean\b|\?|$))")


def _definition_match(question: str) -> re.Match[str] | None:
    return DEFINITION_QUESTION.match(TERM_QUOTES.sub("", question))


# the topic is named before its first preposition: "money" in "money in partnerships"
TOPIC_END = re.compile(r"\s+(?:in|of|for|between|among|within|across|with|during|at|to|from)\s+", re.I)


def browsed_topic(question: str) -> str | None:
    """The topic (up to three words) a question browses the library for, or None."""
    match = BROWSE_QUESTION.match(question)
    if not match:
        return None
    topic = TOPIC_END.split(question[match.end() :].strip(" ?.!"), maxsplit=1)[0]
    words = re.sub(r"^(?:the|an?|our)\s+", "", topic, flags=re.I).split()
    # "anything on how to fund it?" asks a question, not for a topic
    return " ".join(words) if 0 < len(words) <= 3 and words[0].lower() not in QUESTION_WORDS else None


def asked_term(question: str) -> str | None:
    """The term a "what is X?" question asks about, or the topic one browses, else None."""
    match = _definition_match(question)
    return next(group for group in match.groups() if group) if match else browsed_topic(question)


def meaning_asked(question: str) -> str | None:
    """The term whose meaning the question asks ("What is X?", "What does X mean?"), not its role,
    nor a name ("What is the NC SHIP Community Council?" is answered by what it does)."""
    match = _definition_match(question)
    term = (match.group(1) or match.group(2)) if match else None
    return term if term and term.islower() else None


# How a sentence says what a term is: "X is a …", "X refers to …", "X, a practice that …", "known as X"
DEFINING_AFTER = (
    r"\s+(?:(?:is|are)\s+(?:an?|the|one|any|when|where|how|what|about|defined|described|understood|"
    r"known)\b|(?:was|were)\s+(?:defined|described|conceptuali[sz]ed)\s+as\b|refers?\s+to\b|"
    r"(?:means?|denotes?|describes?|involves?|entails?|encompass(?:es)?|comprises?|consists?\s+of)\b)"
    r"|\s*[,:—–]\s*(?:an?|the|which|i\.e\.|that is)\b"
)
DEFINING_BEFORE = r"\b(?:known as|called|termed|defined as|definition of)\s+(?:an?\s+|the\s+)?[“\"‘']?"


def defines(term: str, text: str) -> bool:
    """The sentence says what the term is, by its wording around the term (plural-blind, an acronym
    in brackets after it aside): "Relational organizing was perceived to …" uses it, defines nothing."""
    phrase = _term_pattern(term)
    return bool(re.search(rf"{phrase}(?:{DEFINING_AFTER})|{DEFINING_BEFORE}{phrase}", text, re.I))


def is_about(term: str, text: str) -> bool:
    """The sentence is about the term: it starts with it, maybe after one word ("Intentional power
    sharing helps ensure …"), where "Further piloting of relational organizing …" is about piloting."""
    return bool(re.match(rf"\W*(?:[\w’'-]+\s+)?{_term_pattern(term)}", text, re.I))


def _term_pattern(term: str) -> str:
    """The term as a regex, plural-blind, with an acronym in brackets after it."""
    words = [singular(w) for w in re.findall(r"[\w’'-]+", term)]
    spelled = r"[\s-]+".join(
        f"{re.escape(w[:-1])}(?:y|ies)" if w.endswith("y") else f"{re.escape(w)}(?:e?s)?" for w in words
    )
    return rf"\b{spelled}\b(?:\s*\([^)]{{1,15}}\))?[”\"’']?"


# An acronym in brackets inside a name: "the Getting Further Faster (GFF) Initiative"
BRACKETED_ACRONYM = re.compile(r"\s*\([A-Z][A-Za-z]{1,9}s?\)")


def uses_term(term: str, text: str) -> bool:
    """The text has the term as one phrase, plural-blind, an acronym in brackets inside it aside. A
    term of several words asked in lower case is not used inside a name ("health equity" is not in
    "the City of Reading's Department of Health Equity") unless the name ends on it: "the NC SHIP
    Community Council" is a community council."""
    cleaned = BRACKETED_ACRONYM.sub("", text)
    wanted = [singular(w) for w in re.findall(r"[\w’'-]+", term)]
    written = list(re.finditer(r"[\w’'-]+", cleaned))
    words, n = [singular(w.group(0)) for w in written], len(wanted)
    names_excluded = term.islower() and n > 1
    for i in range(len(words) - n + 1):
        if words[i : i + n] != wanted:
            continue
        in_name = all(w.group(0)[0].isupper() for w in written[i : i + n])
        if not (names_excluded and in_name) or _ends_a_name(cleaned, written[i], written[i + n - 1]):
            return True
    return False


def _ends_a_name(text: str, first: re.Match[str], last: re.Match[str]) -> bool:
    """Capitalized words are the head of their name: not after "of", "for" or "on" inside it (the
    Department of Health Equity), nor followed by another capitalized word of it."""
    before = text[: first.start()].split()[-1:]
    after = re.match(r"[ \t]+[A-Z]", text[last.end() :])
    return not after and not (before and before[0] in {"of", "for", "on", "and", "&"})


def passage_uses(term: str, passage: Passage) -> bool:
    """The passage (its title or its text) uses the term as one phrase (`uses_term`)."""
    return uses_term(term, f"{passage.title} {passage.text}")


# A phrase of two words or more the question quotes: a title ("What did the “Because There’s
# Experts That Do That” study find?") or a term, which the document asked about uses
QUOTED_PHRASE = re.compile(r"[“\"]([^”\"]{3,150})[”\"]")


def phrase_asked(question: str) -> str | None:
    """The term a "what is X?" question asks about, or else a phrase it quotes."""
    if term := asked_term(question):
        return term
    quoted = QUOTED_PHRASE.search(question)
    # a bracket inside is an aside: "Treatment of Early Age Mania (team)" is written "… (TEAM)"
    phrase = re.sub(r"\s*\([^)]*\)", "", quoted.group(1)).strip() if quoted else ""
    return phrase if len(phrase.split()) >= 2 else None


def undefined_term(question: str, passages: Iterable[Passage]) -> str | None:
    """The term a "what is X?" question asks about (or a phrase it quotes), when no passage uses it
    as one phrase: each of its words may be about ("collective trauma"), but the term is not."""
    term = phrase_asked(question)
    return term if term and not any(passage_uses(term, p) for p in passages) else None


def term_documents(question: str, passages: Iterable[Passage]) -> set[str]:
    """For a "what is X?" question (or one quoting a phrase), the documents whose passages use X as
    one phrase: "What is ripple effect mapping?" is answered from the study that did it, not from
    papers on mapping; a quoted title from the document it names."""
    term = phrase_asked(question)
    return {p.source for p in passages if passage_uses(term, p)} if term else set()


# "the relational organizing study", "the study of health and social sector collaborations": a
# document named by what it is about (no "the" inside: "the hospitals in the study" names nothing)
DESCRIBED_DOCUMENT = re.compile(
    r"\bthe ((?:(?!the\b)[\w’'-]+ ){0,5}?)(?:study|research|paper|report|survey|article|blog post)\b"
    r"(?: (?:of|on|about|into) ((?:(?!the\b)[\w’'-]+ ?){1,6}))?",
    re.I,
)


def undescribed(question: str, passages: Iterable[Passage]) -> list[str]:
    """The words a question describes its document by that the passages (with their documents'
    facts and file names) lack, plural-blind but otherwise whole: "relational organizing" is not in
    a paper on relationships and organizations."""
    match = DESCRIBED_DOCUMENT.search(question)
    if not match:
        return []
    passages = list(passages)
    # the file's name describes it too: "health-social-sector-collaboration-motivations.md" is "the
    # health and social sector collaboration study" (its title says "collaborating")
    names = " ".join(re.sub(r"[\W_]+", " ", PurePath(p.source).stem) for p in passages)
    words = set(singular_words(f"{context_of(passages)} {names}"))
    return [t for t in key_terms(f"{match.group(1)} {match.group(2) or ''}") if singular(t) not in words]


def described_documents(question: str, passages: Iterable[Passage]) -> set[str]:
    """The documents whose retrieved passages have every word the question describes its document
    by ("the study on health care organizations partnering with …"); empty when it describes none."""
    if not DESCRIBED_DOCUMENT.search(question):
        return set()
    return {source for source, found in by_document(passages).items() if not undescribed(question, found)}


def coverage_of(question: str, cited: Iterable[Passage], own_words: str = "") -> tuple[Coverage, list[str]]:
    """An answer's coverage label: partial when a key term is in none of the passages it cites, nor
    in their documents' bibliographic facts ("the JGIM study": JGIM is the journal), or when the
    question asks what a term means and no cited passage says (the answer only says what it is for).
    A follow-up's topic words (`question` is its rewrite, `own_words` what the user typed) count only
    when the answer has none of them: "And what did administrators recommend? (… decide intensive …)"
    asked nothing about deciding."""
    cited = list(cited)
    missing = readable_terms(question, terms_missing_from(question, context_of(cited)))
    own = set(key_terms(own_words)) if own_words and own_words != question else None
    if own is not None:
        topic = [t for t in key_terms(question) if t not in own]
        if len([t for t in missing if t not in own]) < len(topic):  # the answer is on the topic
            missing = [t for t in missing if t in own]
    term = meaning_asked(question)
    if term and not any(defines(term, s) for p in cited for s, _ in sentence_spans(p.text)):
        missing.append(f"a definition of “{term}”")
    return ("partial" if missing else "answered"), missing


# Words of a question that name no topic a reader could look for, though the fitted abstention
# counts them as key terms (refitting it without them answered one more left-out gold question).
FILLER = re.compile(
    r"\bpay(?:s|ing)? attention\b|\bmake sure\b|\bespecially\b|\bparticularly\b|\binclud(?:e|es|ed|ing)\b"
    r"|\bhow long\b|\b(?:done|doing)\b|\btry(?:ing)? to(?: answer)?\b|\bto answer\b"
    r"|\b(?:wrote|written|authored)\b"  # "who wrote it?" is answered by a byline
    # how often: "Why do hospitals usually have more clout …?" asks about clout (as a key term it
    # answered that question at scale with an unrelated sentence, so the abstention keeps it)
    r"|\b(?:usually|often|typically|generally|commonly|frequently|sometimes|mostly|mainly)\b"
    # "what challenges do they face", "after the grant ends": no topic either
    r"|\bfac(?:e|es|ed)\b|\b(?:after|before)\b"
    # "Tell me more about the second one": an item of a list (followups.referenced_item)
    rf"|\bthe (?:{'|'.join(ORDINALS)})\b",
    re.I,
)
PLAYS_A_ROLE = re.compile(r"\b(?:role|part)\b", re.I)  # "what role do they play": play is filler


def readable_terms(question: str, terms: list[str]) -> list[str]:
    """The terms a user can be told are missing: not filler ("pay attention", "include"), not a
    run of Chinese, Japanese or Korean, which is a whole clause here (written without spaces, it is
    not split into words)."""
    filler = {w.lower() for match in FILLER.finditer(question) for w in match.group(0).split()}
    if PLAYS_A_ROLE.search(question):
        filler |= {"play", "plays", "played", "playing"}
    return [t for t in terms if not CJK_LETTER.search(t) and t.lower() not in filler]
