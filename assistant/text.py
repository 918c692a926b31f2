"""Plain-text vocabulary every stage shares: sentences, content words, stopwords.

At the bottom of the package (it imports nothing of ours): chunking packs the sentences it finds,
the catalog builds BM25 queries from content words, answering and follow-ups compare them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

import pysbd
import pysbd.lang.english

STOPWORDS = frozenset(
    """
    a an and are as at be been but by can could did do does for from had has have how i if in into
    is it its me my of on or our should so than that the their them then there these they this those
    to us was we were what when where which who whom why will with would you your about also any all
    some more most other such no not only own same very just
    """.split()
)

# A letter of Chinese, Japanese or Korean: scripts written without spaces between words.
CJK_LETTER = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


def written_in_cjk(text: str) -> bool:
    """Mostly Chinese, Japanese or Korean letters (a name or two in them inside English is not)."""
    if not CJK_LETTER.search(text):  # most text: no need to count letters
        return False
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(1 for c in letters if CJK_LETTER.match(c)) > 0.3 * len(letters)


# "the second one" points at an item of a list (followups.referenced_item)
ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth")

# Words any question may use that say nothing about its topic.
QUESTION_WORDS = frozenset(
    "what which when where who whom whose why how many much does did do can could should would will "
    "best way ways role help helps helped used use using mean means kind kinds type types describe "
    "explain list compare summarize summarise outline involve involves entail entails "
    "difference differences differ differs "  # "what is the difference between X and Y?" asks about X and Y
    "tell know known example examples important main key effect effects impact study studies research "
    "report paper authors find found findings work works make makes made get there their them they any some "
    "one two also other others between among within during new like well based via per versus whether "
    "through throughout across toward towards upon onto against without "
    # light verbs, particles and fillers: "what came out of it", "how did they go about it"
    "come came comes coming go goes went gone going take took taken takes give gave given gives put "
    "set see saw seen say said says look looks want wants need needs keep kept try tried get got gets "
    "out off over under again still even ever really thing things lot lots part parts able else every each "
    "matter matters mattered happen happens happened happening "
    # "how long did the interviews last?", "the last one": how long or which, not what about
    "last lasts lasted lasting "
    # "what method did they use besides interviews?": interviews are what is not asked about
    "besides apart aside except "
    # how often or how surely, not what about: "why do hospitals usually have more clout …?"
    "usually often typically generally always sometimes commonly normally mostly frequently actually "
    "exactly basically especially particularly specifically already currently".split()
)


# "Is there anything about housing?", "What do the sources say about money in partnerships?": the
# question browses a topic, and what the library says is in the sentences using the topic's words
BROWSE_QUESTION = re.compile(
    r"^\s*(?:(?:is there|are there|do (?:we|you) have|does the library have|have (?:we|you) got)\s+)?"
    r"(?:anything|something|much|any (?:information|material|passages?|documents?|papers?|studies))\s+"
    r"(?:in (?:the|our) (?:library|sources|documents|literature)\s+)?(?:about|on|regarding|concerning)\s+"
    r"|^\s*what (?:do|does) (?:the |our )?(?:library|sources?|documents?|papers?|studies|literature|research)"
    r" (?:say|tell us|have)\s+(?:about|on)\s+",
    re.I,
)


def content_words(text: str) -> set[str]:
    """The words of a text that carry its meaning: lower-cased, no stopwords, longer than two letters."""
    return {w for w in re.findall(r"\w+", text.lower()) if w not in STOPWORDS and len(w) > 2}


# Function words of the other languages a question most likely comes in (Spanish, French,
# Portuguese, German, Italian). A few are English words too ("die", "per"), but an English question
# also uses English function words (STOPWORDS), which rule it out.
OTHER_LANGUAGE_WORDS = frozenset(
    """
    el la los las del y que con por para una sus su como cómo qué cuántos cuántas cuál dónde
    le les des du et est une pour avec dans nous vous comment quels quelles où
    da os em não uma são quais
    der die das und mit wie wir ein eine nicht für ist sind welche
    il della delle che per sono quali
    """.split()
)


def other_language(text: str) -> bool:
    """Is the text written in another language than English (in the Latin script): it uses at least
    two function words of Spanish, French, Portuguese, German or Italian and none of English's.
    An English keyword query ("stable funding backbone organizations") uses neither kind."""
    words = set(re.findall(r"[^\W\d_]+", text.lower()))
    return len(words & OTHER_LANGUAGE_WORDS) >= 2 and not words & STOPWORDS


def singular(word: str) -> str:
    """A word lower-cased without its plural ending: "organizations" -> "organization", "cities" -> "city"."""
    word = word.lower()
    if len(word) > 4 and word.endswith("ies"):  # "cities" is "city"
        return word[:-3] + "y"
    return re.sub(r"(es|s)$", "", word)


def singular_words(text: str) -> list[str]:
    return [singular(w) for w in re.findall(r"[\w-]+", text.lower())]


CJK_STOP = re.compile(r"(?<=[。！？])")
_segmenter = pysbd.Segmenter(language="en", clean=False)
MAX_BLOCK_CHARS = 2000  # pysbd's time grows with the square of a paragraph's sentences: feed it blocks
SENTENCE_END = re.compile(r"[.!?。！？][\"'”’)\]]*\s")


def split_sentences(text: str) -> list[str]:
    """Sentences of a text, paragraph by paragraph (a line break always ends a sentence)."""
    sentences: list[str] = []
    for paragraph in re.split(r"\n+", text):
        for block in _blocks(" ".join(paragraph.split())):
            for sentence in _segment(block):
                sentences.extend(s.strip() for s in CJK_STOP.split(sentence) if s.strip())
    return sentences


@lru_cache(maxsize=8192)
def sentence_spans(text: str) -> tuple[tuple[str, tuple[int, int]], ...]:
    """The text's sentences with their character spans in it (what a citation quotes)."""
    # Cached: the same passages are checked for every sentence of an answer and across questions.
    spans, cursor = [], 0
    for sentence in split_sentences(text):
        # split_sentences collapses runs of whitespace; match them back in the original text.
        found = re.compile(r"\s+".join(map(re.escape, sentence.split()))).search(text, cursor)
        if found is None:
            continue
        spans.append((sentence, found.span()))
        cursor = found.end()
    return tuple(spans)


def _blocks(paragraph: str) -> Iterator[str]:
    """A long paragraph cut at sentence ends into blocks of about MAX_BLOCK_CHARS (a block without a
    sentence end in it is left whole: pysbd is slow on many sentences, not on long ones)."""
    while len(paragraph) > MAX_BLOCK_CHARS:
        ends = [match.end() for match in SENTENCE_END.finditer(paragraph, 0, MAX_BLOCK_CHARS)]
        after = None if ends else SENTENCE_END.search(paragraph, MAX_BLOCK_CHARS)
        cut = ends[-1] if ends else after.end() if after else len(paragraph)
        yield paragraph[:cut]
        paragraph = paragraph[cut:]
    if paragraph:
        yield paragraph


def _segment(block: str) -> list[str]:
    """pysbd's sentence boundaries, the text cut from the block itself: nothing dropped or changed."""
    if len(block) > MAX_BLOCK_CHARS:  # one long sentence (see _blocks); pysbd compiles it into a regex
        return [block]
    plain = _plain_sentences(block)
    if plain is not None:
        return plain
    starts, cursor = [0], 0
    for segment in _segmenter.segment(block):
        segment = segment.strip()
        start = block.find(segment, cursor) if segment else -1
        if start > starts[-1]:
            starts.append(start)
        if start >= 0:
            cursor = start + len(segment)
    starts = [a for a in starts if not _continues_the_sentence(block, a)]
    return [block[a:b] for a, b in zip(starts, [*starts[1:], len(block)], strict=True)]


# pysbd starts a sentence at every list item, inline ones too: "... at an early stage, (a) major
# issues ..., (b) persons ..." became fragments an answer quoted. An item after text that has not
# ended its sentence continues that sentence (items on lines of their own are split by the line).
# So does a segment opening with a lower-case function word or a "/", ",", ")", which no sentence
# does: pysbd ends one at an unknown abbreviation ("PSA was below 0.4 ng./ml. in 64.8% of …").
# And a lower-case word after a short capitalized abbreviation is a species name, not a sentence:
# "An. gambiae", "Staph. aureus" (pysbd knows only single letters, "S. aureus").
# Chunks change where a boundary fell inside such a sentence: CHUNKER_VERSION 4 (lists) and 5
# (species) re-chunk stores.
LIST_ITEM = re.compile(r"\(?(?:[0-9]{1,2}|[ivxIVX]{1,4}|[a-zA-Z])\)\s")
ENDS_SENTENCE = re.compile(r"[.!?。！？][\"'”’)\]]*\s*$")
LOWER_WORD = re.compile(r"[a-z]+\b")
SHORT_CAPITALIZED_ABBREVIATION = re.compile(r"(?:^|\s)[A-Z][a-z]{0,4}\.\s*$")


def _continues_the_sentence(block: str, start: int) -> bool:
    if start == 0:
        return False
    if LIST_ITEM.match(block, start):
        return not ENDS_SENTENCE.search(block[:start])
    word = LOWER_WORD.match(block, start)
    if word and (word[0] in STOPWORDS or SHORT_CAPITALIZED_ABBREVIATION.search(block[:start])):
        return True
    return block[start] in "/,;:%)]"


# The plain case, without pysbd (5 ms a block): every ".", "?" ends a sentence before a capital, or is a
# decimal point or the block's last character. Anything pysbd treats specially (abbreviations, a
# number or list item before the stop, quotes, "!", "--") goes to pysbd. Same result as pysbd on all
# 2,795 blocks of SciFact and corpus/ that take this path (48%); tests/test_chunking.py checks it.
PLAIN_STOP = re.compile(r"(?<=[^\s.!?])[.?]\s+(?=[A-Z])")
STOPS = re.compile(r"[.!?]")
SPECIAL = re.compile(r"[\"“”«»!。！？]|--|(?:^|\s)\(?(?:[0-9]{1,2}|[ivxIVX]{1,4}|[a-zA-Z])\)")
PLAIN_WORD = re.compile(r"[(\[]?([A-Za-z]{2,}|[A-Za-z]*\d+[A-Za-z]*)[)\]]?")
ABBREVIATIONS = frozenset(a.lower() for a in pysbd.lang.english.English.Abbreviation.ABBREVIATIONS)


def _plain_sentences(block: str) -> list[str] | None:
    """The block's sentences when its every stop is unambiguous, else None (ask pysbd)."""
    if SPECIAL.search(block) or block[:1] in "([":  # pysbd takes a leading "(...)" for a list item
        return None
    sentences, start, stops = [], 0, set()
    for match in PLAIN_STOP.finditer(block):
        word = PLAIN_WORD.fullmatch(block[block.rfind(" ", 0, match.start()) + 1 : match.start()])
        if not word or word[1].isdigit() or word[1].lower() in ABBREVIATIONS:
            return None
        stops.add(match.start())
        sentences.append(block[start : match.end()])
        start = match.end()
    for match in STOPS.finditer(block):
        i = match.start()
        decimal = block[i - 1 : i].isdigit() and block[i + 1 : i + 2].isdigit()
        if i not in stops and not decimal and block[i + 1 :].strip():
            return None
    return [*sentences, block[start:]] if block[start:] else sentences
