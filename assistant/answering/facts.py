"""Does a sentence give the fact a question asks for? A count, a sum, a dose, a length of time, a
place, a date, a name.

Passage similarity cannot tell "how many patients did the CCP screen?" (not in the library) from
"what does the CCP do?" (in it): both land on the same passage. A question asking for a specific
fact is only answered when a chosen sentence carries a fact of that kind, and the names the
question asks about appear in its document.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from assistant.answering.citations import Sentence
from assistant.answering.names import CAPITALIZED, context_of, unmentioned_names, words_of
from assistant.text import singular, singular_words

# Vague quantities ("most", "the majority") are not counted: they do not answer "how many"
NUMBER_WORDS = (
    r"one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
    r"sixty|seventy|eighty|ninety|hundred|thousand|million|billion|dozen|half"
)
# Not the digits of a name: "COVID-19", "H1N1", "IL-6" are no counts.
NUMBER = re.compile(rf"(?<![\w-])\d[\d,.]*%?\b|\b(?:{NUMBER_WORDS})(?:-\w+)?\b", re.IGNORECASE)
COUNT_QUESTION = re.compile(
    r"\bhow (many|much)\b(?:\s+(?:of\s+(?:the|these|those)\s+)?((?:[a-z-]+\s*){1,4}))?", re.I
)
SUBSET_COUNT = re.compile(rf"^\W*of (?:the|these|those) (?:\d[\d,]*|{NUMBER_WORDS}) ([a-z-]+)", re.I)
NOT_NOUN = frozenset(
    "do does did are were was is have has had can could will would should and or of in at from with to for "
    "on by they it he she we you".split()
)
AMOUNT_QUESTION = re.compile(
    # "What share ...", "What is the annual cost ...": an amount; "what is the effect of a cost" is not
    r"\b(what|which) (?:(?:is|are|was|were) the (?:\w+ )?)?(share|percentage|percent|proportion|fraction|"
    r"budget|amount|number|cost|rate|sum)\b"
    r"|\bresponse rate\b|\bhow (old|large|big)\b",
    re.IGNORECASE,
)
# "What share …?", "What was the response rate …?" asks for a proportion: "12%", "26 out of 29", "half"
SHARE_QUESTION = re.compile(r"\b(?:share|percentage|percent|proportion|fraction|rate)\b", re.I)
PROPORTION = re.compile(
    r"\d[\d.,]*\s*(?:%|percent\b|per\s*cent\b|per\s+\d)|\b\d[\d,]*\s+(?:out\s+)?of\s+(?:the\s+|all\s+)?\d"
    r"|\b(?:half|(?:one|two|three)[- ](?:thirds?|quarters?|fifths?))\b",
    re.I,
)
# "What is the recommended dose ...?" asks for an amount of a drug: a number with its unit, not any number
DOSE_QUESTION = re.compile(
    r"\b(?:what|which) (?:(?:is|are|was|were) the (?:\w+ )?)?(?:doses?|dosages?|dosing)\b"
    r"(?: of (?:the )?([\w-]+))?",
    re.I,
)
DOSE = re.compile(r"\d[\d.,]*\s*(?:mg|g|mcg|µg|μg|ng|ml|l|iu|units?|mmol|meq)(?:/\w+)?\b", re.I)
# "How long ...?" asks for a time: a count of minutes ... years, not a count of interviews
DURATION_QUESTION = re.compile(r"\bhow long\b", re.I)
DURATION = re.compile(
    rf"(?:\d[\d,.]*|\b(?:{NUMBER_WORDS}))[\s-]*(?:minute|hour|day|week|month|year|decade)s?\b", re.I
)
# ... or the span between two dates: "Between November 2020 and June 2021", "April–July 2019"
MONTH = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
DATE_SPAN = re.compile(
    rf"\b(?i:between|from)\s+(?:{MONTH}\s+)?(?:19|20)\d\d\s+(?i:and|to|until|through)\s+(?:{MONTH}\s+)?(?:19|20)\d\d"
    rf"|\b{MONTH}(?:\s+(?:19|20)\d\d)?\s*[–-]\s*{MONTH}\s+(?:19|20)\d\d\b"
    rf"|\b(?:19|20)\d\d\s*[–-]\s*(?:19|20)?\d\d\b",
)
DATE_QUESTION = re.compile(
    # "When did it start?" asks a date; "When is it important to ...?" asks in which situation
    r"^\s*when (did|was|were|will|had)\b|\b(what|which) (year|month|date|dates)\b",
    re.IGNORECASE,
)
YEAR = re.compile(r"(?:19|20)\d\d")
DATE = re.compile(
    r"\b(1[89]\d\d|20\d\d|January|February|March|April|May|June|July|August|September|"
    r"October|November|December)\b"
)
PLACE_QUESTION = re.compile(
    r"\b(which|what) (cities|city|states?|countries|country|towns?|counties)\b"
    r"|\bwhere\b[^?]*\b(located|take place|took place|held|based|conducted|carried out|happen\w*)\b",
    re.I,
)
CITY_QUESTION = re.compile(r"\b(which|what) (cities|city|towns?)\b", re.I)
REGION = re.compile(
    r"\b(?:States?|Region|County|Counties|Province|Country|America|Midwest|(?:North|South)(?:east|west)?ern|"
    r"Eastern|Western|Central)\b"
)
# A place is a name after "in", "at", "across"...: "in the Northwestern United States", "in Reading".
PLACE = re.compile(
    r"\b(?:in|at|across|throughout|from|near)\s+(?:the\s+)?([A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)*)"
)
NAMES_QUESTION = re.compile(
    r"\bwhat (are|were) the names\b|\bname (the|all|each)\b"
    # what has a brand name, and who paid for or wrote something, are answered by a name
    r"|\b(?:what|which) (?:software|package|platform|database)s?\b"
    r"|\bwho (?:funded|funds|sponsored|financed|wrote|authored|published)\b"
    # "Which organization did the health department partner with?" is answered by its name; "Which
    # organization should lead?" (a modal) asks for advice, and "which organizations" often for kinds
    r"|^(?!.*\b(?:should|could|can|would|might|must)\b).*\b(?:what|which) (?:organi[sz]ation|agency|"
    r"foundation|program(?:me)?|coalition|initiative|company|consortium|council|department|funder)\b(?!s)"
    r"|^(?!.*\b(?:should|could|can|would|might|must)\b).*\bwhich (?:program(?:me)?s|coalitions|"
    r"initiatives|foundations|funders|companies|councils)\b",
    re.IGNORECASE,
)
# "the names of the six partnerships" asks for names of partnerships: a sentence naming a programme
# or a funder, and not speaking of partnerships, gives other names
NAMED_THING = re.compile(
    rf"\bnames of (?:the |these |those |all )?(?:(?:\d+|{NUMBER_WORDS}) )?([a-z-]+)", re.I
)


# A capital starting a sentence or a quote names nothing by itself: “It’s …”, "… duplicate. We …"
SENTENCE_START = re.compile(r"(?:^|[.?!:;–—]\s+|[“‘\"])\W*[A-Z][\w’']*")


def named_words(sentence: str) -> list[str]:
    """The words of the names a sentence uses: "The CCP works …" names CCP."""
    return words_of(CAPITALIZED.findall(SENTENCE_START.sub(" ", sentence)))


# The same questions in Chinese: how many / how much, when, where.
CJK_KINDS = (
    ("number", re.compile(r"多少|几[个名位家次年]")),
    ("date", re.compile(r"什么时候|何时|哪一?年|哪个月")),
    ("place", re.compile(r"在哪|哪里|什么地方|哪些?(?:城市|国家|州|地区)")),
)


WANTED = {
    "number": "a number",
    "duration": "a length of time",
    "dose": "a dose",
    "date": "a date",
    "place": "a place",
    "name": "the names",
}


def expected_kind(question: str) -> str | None:
    """The kind of fact the question asks for, when it asks for a specific one."""
    if DOSE_QUESTION.search(question):
        return "dose"
    if DURATION_QUESTION.search(question):
        return "duration"
    if COUNT_QUESTION.search(question) or AMOUNT_QUESTION.search(question):
        return "number"
    if DATE_QUESTION.search(question):
        return "date"
    if PLACE_QUESTION.search(question):
        return "place"
    for kind, asks in CJK_KINDS:
        if asks.search(question):
            return kind
    if NAMES_QUESTION.search(question):
        return "name"
    return None


def missing_fact(question: str, sentences: list[Sentence], context: str) -> str | None:
    """Why the sentences don't answer a specific-fact question, or None when they may.

    `context` is the text the question's names may be found in: the cited passages plus their
    documents' bibliographic facts (a question may name a journal that only the manifest gives).
    The fact must be in a sentence whose own passage mentions those names: "How many co-leaders
    does the Baltimore partnership have?" is not answered by another program's co-leaders because a
    passage beside it mentions Baltimore.
    """
    kind = expected_kind(question)
    if kind is None or not sentences:
        return None
    if unknown := unmentioned_names(question, context):
        return f"the passages found do not mention {', '.join(unknown)}"
    if not any(
        _has_fact(kind, question, s.text) and not unmentioned_names(question, context_of([s.passage]))
        for s in sentences
    ):
        return f"the closest passages discuss the topic but do not give {WANTED[kind]} that answers it"
    return None


def _has_fact(kind: str, question: str, sentence: str) -> bool:
    if kind == "date":
        return bool(set(DATE.findall(sentence)) - set(DATE.findall(question)))
    if kind == "duration":
        return bool(DURATION.search(sentence) or DATE_SPAN.search(sentence))
    if kind == "dose":  # a dose of the drug asked about, not of another one the study gave
        match = DOSE_QUESTION.search(question)
        drug = match.group(1) if match else None
        return bool(DOSE.search(sentence)) and (not drug or drug.lower() in sentence.lower())
    if kind == "place":
        asked = {w.lower() for w in words_of(CAPITALIZED.findall(question))}
        phrases = PLACE.findall(sentence)
        if CITY_QUESTION.search(question):  # "which cities?": "the Northwestern United States" is none
            phrases = [p for p in phrases if not REGION.search(p)]
        places = [w for w in words_of(phrases) if not re.search(r"\d", w)]  # not "COVID-19"
        return any(w.lower() not in asked for w in places)
    if kind == "name":
        asked = {w.lower() for w in words_of(CAPITALIZED.findall(question))}
        if (thing := NAMED_THING.search(question)) and singular(thing.group(1)) not in singular_words(
            sentence
        ):
            return False
        return any(w.lower() not in asked for w in named_words(sentence))
    if AMOUNT_QUESTION.search(question) and SHARE_QUESTION.search(question):
        return bool(PROPORTION.search(sentence))
    return _has_count(question, sentence)


def names_something_new(question: str) -> Callable[[str, list[str]], bool] | None:
    """For a question asking for a name: does a further sentence name something neither the question
    nor the sentences quoted before it do? After "… is the Reading Hospital Community Connections
    Program (CCP) …", "CCP partners understand …" names nothing new: it is padding."""
    if expected_kind(question) != "name":
        return None

    def names_more(sentence: str, earlier: list[str]) -> bool:
        known = {w.lower() for w in words_of(CAPITALIZED.findall(" ".join([question, *earlier])))}
        return any(w.lower() not in known for w in named_words(sentence))

    return names_more


def _has_count(question: str, sentence: str) -> bool:
    """A number the question doesn't give, counting what it asks about when the sentence names that."""
    asked = {m.group(0).lower() for m in NUMBER.finditer(question)}  # not "19" of "COVID-19"
    new_numbers = [
        m
        for m in NUMBER.finditer(sentence)
        if m.group(0).lower() not in asked
        and not YEAR.fullmatch(m.group(0))  # "Healthy NC 2030" counts nothing
    ]
    if not new_numbers:
        return False
    # "Of the 34 leaders ..., how many worked for hospitals?" counts leaders, named as such
    subset = SUBSET_COUNT.match(question)
    noun = singular(subset.group(1)) if subset else _counted_noun(question)
    words = singular_words(sentence)
    if subset and noun not in words:
        return False
    if not noun or noun not in words:
        # the counted thing is named differently here: any new number may answer, but not "one"
        # on its own ("no one right way", "one of them"): it counts nothing named
        return any(m.group(0).lower() != "one" for m in new_numbers)
    # "how many workgroups" needs a number counting workgroups
    return _counts(noun, sentence, words, lambda w: bool(NUMBER.fullmatch(w)) and w not in asked)


def _counts(noun: str, sentence: str, words: list[str], is_number: Callable[[str], bool]) -> bool:
    """The sentence (`words`: its singular words) counts the noun: a number within a few words before
    it (`_number_before`), or in brackets right after it ("Most health care organizations (26 out of
    29) relied on CBOs")."""
    bracketed = re.search(rf"\b{re.escape(noun)}\w*\s*\(\s*(?:n\s*=\s*)?([\w,.]+)", sentence, re.I)
    return _number_before(noun, words, is_number) or bool(bracketed and is_number(bracketed.group(1).lower()))


def _number_before(noun: str, words: list[str], is_number: Callable[[str], bool]) -> bool:
    """A word `is_number` accepts within five words before the noun ("19 people", "25 health and
    social sector organizations"), or right after "with" or "of" following it: "interviews with 34
    leaders" were 34 interviews."""
    numbers = [i for i, w in enumerate(words) if is_number(w)]
    nouns = [i for i, w in enumerate(words) if w == noun]
    return any(0 < i - n <= 5 for i in nouns for n in numbers) or any(
        words[i + 1 : i + 2] in (["with"], ["of"]) and i + 2 in numbers for i in nouns
    )


# "what software …?" is answered by a name said to be software ("coded using Dedoose software")
BRANDED = re.compile(r"\b(?:what|which) (software|package|platform|database)", re.I)


# "How many of the hospitals …?" asks for a part of a whole: "26 out of 29", "26 of the 29", "90%"
PART_ASKED = re.compile(r"\bhow many of (?:the|these|those|them|its|their)\b", re.I)
PART_OF_WHOLE = re.compile(
    r"\b\d+\s+(?:out\s+)?of\s+(?:the\s+)?\d+\b|\b\d+(?:\.\d+)?\s*(?:%|percent\b)", re.I
)


def gives_what_is_asked(question: str, sentence: str) -> bool:
    """For "how many X …?", the sentence gives a number of X by name ("19 people contributed"), not
    only some other number, or for "how many of the X", a part of a whole, which may call X otherwise;
    for "what software …?", it says software."""
    if branded := BRANDED.search(question):
        return singular(branded.group(1)) in singular_words(sentence)
    if PART_ASKED.search(question) and PART_OF_WHOLE.search(sentence):
        return True
    noun = _counted_noun(question)
    if not noun or expected_kind(question) != "number":
        return False
    asked = {m.group(0).lower() for m in NUMBER.finditer(question)}
    return _counts(
        noun,
        sentence,
        singular_words(sentence),
        lambda w: bool(NUMBER.fullmatch(w)) and w not in asked and not YEAR.fullmatch(w),
    )


def _counted_noun(question: str) -> str:
    """The head noun of "how many key informant interviews were ..." (here: interview)."""
    match = COUNT_QUESTION.search(question)
    words: list[str] = []
    for word in (match.group(2) or "").split() if match else []:
        # a verb ends the noun: "how many people contributed data" counts people
        if word.lower() in NOT_NOUN or (words and len(word) > 4 and word.lower().endswith("ed")):
            break
        words.append(word)
    return singular(words[-1]) if words else ""


def fact_check(question: str) -> Callable[[Sentence], bool] | None:
    """For a specific-fact question: does a sentence (in its document) carry that fact?"""
    if expected_kind(question) is None:
        return None
    return lambda sentence: missing_fact(question, [sentence], context_of([sentence.passage])) is None


# "the three approaches", "what four mechanisms", "the 29 health care organizations": a count the
# question takes as known. A document that never counts them so is not the one asked about.
GIVEN_COUNT = re.compile(
    rf"\b(?:the|these|those|what|which)\s+(\d+|{NUMBER_WORDS})\s+(?:[\w-]+\s+){{0,3}}?([a-z-]+s)\b", re.I
)
SMALL_NUMBERS = "zero one two three four five six seven eight nine ten eleven twelve".split()


def uncounted(question: str, context: str) -> str | None:
    """The count a question takes as known ("three approaches"), when the context never gives that
    number within a few words before the noun (in words or digits: "3 approaches", "three key
    approaches"); else None."""
    match = GIVEN_COUNT.search(question)
    if not match or YEAR.fullmatch(match.group(1)):  # "the 2021 interviews" count nothing
        return None
    number, noun = match.group(1).lower(), match.group(2)
    forms = {number}
    if number in SMALL_NUMBERS:
        forms.add(str(SMALL_NUMBERS.index(number)))
    elif number.isdigit() and int(number) < len(SMALL_NUMBERS):
        forms.add(SMALL_NUMBERS[int(number)])
    if _number_before(singular(noun.lower()), singular_words(context), lambda w: w.lower() in forms):
        return None
    return f"{match.group(1)} {noun}"
