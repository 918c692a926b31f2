"""The coverage label on every Answer (answering/coverage.py): the answerer's own decision on every gold
question, the label the UI shows, and the same field in `ask --json`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from assistant.answering.coverage import coverage_of, key_terms, uncovered_terms
from assistant.settings import PROJECT_ROOT
from assistant.text import singular
from assistant.types import Passage
from assistant.ui import rendering

GOLD = PROJECT_ROOT / "evals" / "questions.jsonl"
SOURDOUGH = "What is the best recipe for sourdough bread?"


def test_key_terms_keep_names_spelled_possessive_and_drop_light_verbs():
    question = "Which group teamed up with Baltimore's health department, and what came out of it?"
    assert key_terms(question) == ["group", "teamed", "Baltimore", "health", "department"]


def test_key_terms_keep_topic_words_not_question_words():
    assert key_terms(SOURDOUGH) == ["recipe", "sourdough", "bread"]
    passage = Passage(
        "p", "Partnerships with food banks need shared recipes for trust.", "s", "Bread and trust"
    )
    assert uncovered_terms(SOURDOUGH, [passage]) == ["sourdough"]  # recipe ~ recipes, bread in the title


def test_the_label_finds_a_journal_in_the_documents_bibliographic_facts():
    passage = Passage(
        "p",
        "Thirty-three interviews were collected.",
        "s",
        "Partnering with CBOs",
        metadata={"venue": "JGIM"},
    )
    question = "How many interviews did the JGIM study include?"
    assert coverage_of(question, [passage]) == ("answered", [])
    # the abstention's own check reads the passages only
    assert "JGIM" in uncovered_terms(question, [passage])


def test_the_label_names_only_topic_words_a_reader_can_look_for():
    passage = Passage(
        "p", "Three collaborations in the Northwestern United States used relational organizing.", "s", "t"
    )
    assert coverage_of("Where did the relational organizing collaborations take place?", [passage]) == (
        "answered",
        [],
    )  # "take place" asks where, it is no topic
    power = Passage("w", "Attention to power imbalances in a partnership is essential.", "s", "t")
    question = "When is it especially important to pay attention to power imbalances in a partnership?"
    assert coverage_of(question, [power]) == ("answered", [])  # not "nothing on especially, pay"
    clout = "Why do hospitals usually have more clout in partnerships?"
    assert coverage_of(clout, [power]) == ("partial", ["hospitals", "clout"])  # not "usually"
    interviews = Passage("i", "Thirty-three semi-structured telephone interviews were held.", "s", "t")
    assert coverage_of("How many interviews did it include?", [interviews]) == ("answered", [])
    assert coverage_of("How long were the interviews?", [interviews]) == ("answered", [])  # not "long"
    chinese = Passage("c", "访谈进行了录音并进行了转录;使用 Dedoose 软件对主题进行了编码。", "s", "t")
    # a Chinese question is one run of characters here, not words: never reported as "nothing on ..."
    assert coverage_of("研究人员用什么软件对访谈主题进行了编码?", [chinese])[1] == []


def test_a_short_word_is_covered_by_its_longer_forms():
    passage = Passage("p", "First, one-way referrals to CBOs did not require formal relationships.", "s", "t")
    # "refer" is five letters: a stem kept to six letters never equals "referr(als)"
    assert uncovered_terms("Do we need an agreement with CBOs we refer to?", [passage]) == ["agreement"]
    # four letters are too few to call a word's start its stem: "care" is not in "career"
    career = Passage("c", "Staff spoke of their career paths.", "s", "t")
    assert "care" in uncovered_terms("How do hospitals coordinate care?", [career])


def test_a_word_ending_in_y_is_covered_by_its_ies_and_ied_forms():
    passage = Passage("p", "This study included six partnerships and their policies in two cities.", "s", "t")
    question = "How many partnerships were studied, and which policy did the city adopt?"
    assert uncovered_terms(question, [passage]) == ["adopt"]
    assert singular("cities") == singular("city") == "city"
    assert singular("partnerships") == "partnership"


def test_an_acronym_is_covered_by_the_words_it_stands_for():
    passage = Passage("p", "Partners and community-based organizations share power.", "s", "t")
    assert uncovered_terms("How do we share power with a new CBO?", [passage]) == []
    assert uncovered_terms("What did JGIM say about CBOs?", [passage]) == ["JGIM"]


def test_a_follow_up_is_labelled_by_what_it_asks_and_by_its_topic_only_when_off_it():
    recommendations = Passage("r", "Administrators highlighted 4 recommendations for CBOs.", "s", "t")
    other = Passage("o", "Administrators recommended hiring more nurses.", "s", "t")
    asked = "And what did administrators recommend?"
    read_as = f"{asked} (health care organizations decide intensive CBO relationships)"
    # on the topic (CBOs): the topic's other words were added for retrieval, not asked
    assert coverage_of(read_as, [recommendations], asked) == ("answered", [])
    # off it: none of the topic's words, so the label says which
    coverage, missing = coverage_of(read_as, [other], asked)
    assert coverage == "partial" and "CBO" in missing and "administrators" not in missing
    assert {"decide", "intensive"} <= set(coverage_of(read_as, [recommendations])[1])  # asked alone


def test_abstention_is_not_covered_and_names_what_no_passage_mentions(corpus_assistant):
    answer = corpus_assistant.ask(SOURDOUGH)
    assert answer.abstained and answer.coverage == "not_covered"
    assert "sourdough" in answer.uncovered and "sourdough" in answer.text
    assert answer.retrieved  # the nearest passages are still listed


def test_an_answer_is_answered_or_partial_with_the_terms_its_citations_lack(corpus_assistant):
    answer = corpus_assistant.ask("How do we share power with a new CBO?")
    assert not answer.abstained
    assert answer.coverage == ("partial" if answer.uncovered else "answered")
    assert answer.uncovered == uncovered_terms(
        answer.standalone_question, [c.passage for c in answer.citations]
    )


def test_ask_json_carries_coverage_and_uncovered_terms(corpus_settings, corpus_library):
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(corpus_settings.data_dir)}
    run = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "ask", "--json", SOURDOUGH],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    answer = json.loads(run.stdout)
    assert answer["coverage"] == "not_covered" and "sourdough" in answer["uncovered"]


def test_coverage_label_agrees_with_the_abstention_decision_on_the_gold_set(corpus_assistant):
    questions = [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]
    kinds = set()
    for question in questions:
        answer = corpus_assistant.ask(question["question"])
        kind, label, tip = rendering.coverage(answer)
        kinds.add(kind)
        assert (kind == "not_covered") == answer.abstained, question["id"]
        assert (label == "Not covered") == answer.abstained and tip
        if not answer.abstained:
            assert kind == answer.coverage, question["id"]
            assert label.startswith("Answered") or label.startswith("Partly covered")
        data = answer.to_dict()
        assert data["abstained"] == answer.abstained
        assert data["coverage"] == ("not_covered" if answer.abstained else kind)  # /ask and ask --json
    assert {"answered", "not_covered"} <= kinds  # the gold set has both


def test_the_terminal_answer_shows_coverage_each_quoted_sentence_and_clean_nearest_passages(corpus_assistant):
    from assistant.cli import render_answer

    answer = corpus_assistant.ask("What makes multisector partnerships last after the grant ends?")
    shown = render_answer(answer)
    assert answer.coverage == "partial" and "coverage: Partly covered: nothing on" in shown
    for citation in answer.citations:  # two sentences of one passage: both under its number
        assert f"“{citation.sentence}”" in shown
    first = answer.citations[0]
    assert f"[{first.number}] {rendering.reference(first.passage, first.location)}" in shown

    abstained = render_answer(corpus_assistant.ask(SOURDOUGH))
    nearest = abstained.split("Nearest passages:\n", 1)[1].splitlines()
    assert len(nearest) == 6  # three passages, each a reference line and a one-line snippet
    for reference_line, snippet in zip(nearest[::2], nearest[1::2], strict=True):
        assert reference_line.startswith("  - ") and " — " in reference_line
        assert snippet.startswith("      ") and "\n" not in snippet and len(snippet) <= 210
        title_and_location = reference_line.rsplit(", ", 1)
        assert not snippet.strip().startswith(title_and_location[-1] + " ")  # the heading is not repeated


def test_a_question_asking_what_a_term_means_is_partly_covered_when_no_cited_passage_defines_it():
    from assistant.answering.coverage import defines, meaning_asked

    uses = Passage("u", "Relational organizing was perceived to contribute to positive outcomes.", "s", "t")
    says = Passage("d", "Relational organizing is a practice that builds on existing ties.", "s", "t")
    question = "What is relational organizing?"
    assert coverage_of(question, [uses]) == ("partial", ["a definition of “relational organizing”"])
    assert coverage_of(question, [uses, says]) == ("answered", [])
    # its role is asked, not its meaning: a sentence on what it does answers that
    assert meaning_asked("What role do community health workers play?") is None
    assert meaning_asked('What does "one-way referral" mean?') == "one-way referral"
    assert meaning_asked("What is the NC SHIP Community Council?") is None  # a name: what it does
    # the wording around the term says what it is, plural-blind, an acronym in brackets aside
    assert defines("backbone organization", "Backbone organizations are the staff that coordinate the work.")
    assert defines("one-way referral", "This pattern, known as a one-way referral, needs no contract.")
    assert defines("community health worker", "Community health workers (CHWs) are a workforce of peers.")
    assert defines("relational organizing", "We used relational organizing, an approach that mobilizes ties.")
    assert not defines("backbone organization", "Stable funding for a backbone organization is critical.")
    assert not defines("power sharing", "Power sharing is important.")
    assert not defines("relational organizing", "Further piloting of relational organizing is recommended.")


def test_the_corpus_answers_what_relational_organizing_is_and_says_it_never_defines_it(corpus_assistant):
    """The relational organizing study uses the term throughout and defines it nowhere: the answer
    quotes what it says and the label tells the reader no passage says what it is."""
    answer = corpus_assistant.ask("What is relational organizing?")
    assert not answer.abstained, answer.notes
    assert "relational organizing" in answer.text.lower()
    assert answer.coverage == "partial"
    assert "a definition of “relational organizing”" in answer.uncovered
    _, label, _ = rendering.coverage(answer)
    assert label == "Partly covered: nothing on a definition of “relational organizing”"


def test_how_long_something_lasted_asks_no_topic_by_last(corpus_assistant):
    """ "How long did the interviews … last?" had abstained: "No passage found mentions last"."""
    assert "last" not in key_terms("How long did the interviews in the motivations study last?")
    assert key_terms("What makes a partnership work?") == ["partnership"]  # not "Partly covered: … makes"
    compared = "What is the difference between a one-way referral and a contract?"
    assert key_terms(compared) == ["referral", "contract"]  # what is compared, not "difference"
    answer = corpus_assistant.ask("How long did the interviews in the motivations study last?")
    assert not answer.abstained, answer.notes
    assert "60-minute interviews" in answer.text


def test_a_document_described_by_its_file_name_is_that_document(corpus_assistant):
    """ "The health and social sector collaboration study": its retrieved passage never says
    "collaboration" and its title says "collaborating", but its file name says it; "the relational
    organizing study" is still no paper on relationships and organizations."""
    from pathlib import Path

    from assistant.answering.coverage import undescribed

    motivations = Passage(
        "m",
        "Social sector organizations voiced frustrations.",
        "corpus/sector-collaboration.md",
        "Motivations",
    )
    assert undescribed("What did the sector collaboration study find?", [motivations]) == []
    other = Passage("o", "Relationships between organizations matter.", "o/relationships.md", "Relationships")
    assert undescribed("What did the relational organizing study find?", [other]) == [
        "relational",
        "organizing",
    ]
    answer = corpus_assistant.ask("What did the health and social sector collaboration study find?")
    assert not answer.abstained, answer.notes  # it had: "not from a document on collaboration"
    cited = {Path(c.source).name for c in answer.citations}
    assert cited == {"health-social-sector-collaboration-motivations.md"}
