"""Follow-ups follow the current topic: the last answered turn, never an abstained or older one."""

from __future__ import annotations

import re

from assistant.answering.extractive import ABSTAIN_TEXT
from assistant.followups import NOT_COVERED, current_topic, names_own_topic, standalone_question


def user(text: str) -> dict:
    return {"role": "user", "content": text}


def answered(text: str = "An answer [1]", **extra) -> dict:
    return {"role": "assistant", "content": text, "abstained": False, **extra}


def abstained(flag: bool = True) -> dict:
    return {"role": "assistant", "content": ABSTAIN_TEXT, **({"abstained": True} if flag else {})}


RELATIONAL = [user("Is there a study on relational organizing during COVID-19?"), answered()]
CCP = [user("What is the Reading Hospital Community Connections Program?"), answered()]
AUSTRALIA = [user("What is the capital of Australia?"), abstained()]


def test_only_the_last_answered_turn_enters_the_rewrite():
    rewritten = standalone_question("Who ran it?", RELATIONAL + CCP)
    assert "Reading" in rewritten and "relational" not in rewritten


def test_a_that_starting_a_clause_points_back_at_nothing():
    funding = [user("Is stable funding important for partnerships?"), answered()]
    asked = "Give an example of a partnership that shares power."
    assert standalone_question(asked, funding) == asked  # it was read with "(stable funding …)"
    assert "funding" in standalone_question("Why does that matter?", funding)


def test_an_abstained_turn_never_becomes_the_topic():
    rewritten = standalone_question("How many people contributed data to it?", RELATIONAL + AUSTRALIA)
    assert "relational" in rewritten and "Australia" not in rewritten and "capital" not in rewritten
    # Without the flag (an older caller), the abstention is known by its text.
    legacy = [*RELATIONAL, user("What is the capital of Australia?"), abstained(flag=False)]
    assert "Australia" not in standalone_question("Who ran it?", legacy)
    assert ABSTAIN_TEXT.startswith(NOT_COVERED)


def test_nothing_is_appended_when_no_turn_was_answered():
    assert standalone_question("Who ran it?", AUSTRALIA) == "Who ran it?"
    question = "健康和社会部门合作研究的访谈是在什么时候进行的?"
    assert standalone_question(question, AUSTRALIA) == question


def test_a_question_in_chinese_leans_on_the_topic_only_through_a_pronoun():
    question = "健康和社会部门合作研究的访谈是在什么时候进行的?"  # names its study: no pronoun
    assert standalone_question(question, RELATIONAL) == question
    assert "relational" in standalone_question("它的合作伙伴是谁?", RELATIONAL)  # "who are its partners?"


def test_a_follow_up_naming_its_own_topic_is_left_as_it_is():
    for question in (
        "What about the Baltimore City Health Department — who did it partner with?",
        "What did the CJA study find?",
        "And what does “shared purpose” mean there?",
        "What software did the health and social sector collaboration study use to code its themes?",
    ):
        assert names_own_topic(question)
        assert standalone_question(question, RELATIONAL) == question
    for question in (
        "How many people did they interview?",
        "And what did the rest of them say?",
        "It? Who?",
        "Who ran the same study?",  # one word says no topic
    ):
        assert not names_own_topic(question)


def test_the_study_said_which_study_is_not_a_follow_up():
    question = "What was the objective of the study on health care organizations partnering with CBOs?"
    assert standalone_question(question, RELATIONAL) == question
    assert "relational" in standalone_question("What was the objective of the study?", RELATIONAL)
    assert "relational" in standalone_question("When were the interviews done?", RELATIONAL)


def test_a_question_naming_one_topic_word_and_no_study_asks_about_the_last_one():
    # it had been read alone and answered with two other studies' counts
    assert "relational" in standalone_question("How many organizations took part?", RELATIONAL)
    # two topic words of its own ("people", "data") make a question of its own
    asked = "How many people contributed data?"
    assert standalone_question(asked, RELATIONAL) == asked


def test_an_it_that_stands_for_what_follows_is_not_a_follow_up():
    # in the browser the previous (Chinese) question had been appended to this one
    for question in (
        "When is it especially important to pay attention to power imbalances in a partnership?",
        "Why is it hard for hospitals to share power?",
        "How long does it take to build a partnership?",
    ):
        assert standalone_question(question, RELATIONAL) == question
    assert "relational" in standalone_question("Why was it hard?", RELATIONAL)
    assert "relational" in standalone_question("Did it work for the clinics?", RELATIONAL)


def test_a_pronoun_for_the_question_s_own_words_is_not_a_follow_up():
    # read in the browser as follow-ups of the question before, and abstained with its words
    for question in (
        "What is a joint mission and why does it matter?",
        "Should partnerships pay community organizations for their time?",
        "How should hospitals and health departments share power with their community partners?",
    ):
        assert standalone_question(question, RELATIONAL) == question
    # a pronoun with little before it, or pointing at a study, still leans on the topic
    for question in (
        "What is it and why does it matter?",
        "What recommendations did its administrators give?",
        "How many people responded to their survey?",
        "How many health care organizations took part in their study?",
    ):
        assert "relational" in standalone_question(question, RELATIONAL), question


def test_a_follow_up_of_a_follow_up_keeps_the_topic_it_was_read_with():
    read_as = "Who are its partners? (Reading Hospital Community Connections Program)"
    history = [*CCP, user("Who are its partners?"), answered(standalone_question=read_as)]
    assert current_topic(history) == read_as
    assert "Reading" in standalone_question("Who funds them?", history)


def test_a_question_without_a_reply_still_counts_as_the_topic():
    assert current_topic([user("What is relational organizing?")]) == "What is relational organizing?"
    assert current_topic([user("What is relational organizing?"), user("Who ran it?")]) == "Who ran it?"
    assert current_topic([]) is None


def test_after_an_off_topic_turn_the_answer_comes_from_the_earlier_topic(corpus_assistant):
    answer = corpus_assistant.ask("How many people contributed data to it?", RELATIONAL + AUSTRALIA)
    assert not answer.abstained
    assert any("19 people contributed data" in c.sentence for c in answer.citations)


def test_a_follow_up_is_read_for_what_it_asks_not_for_the_topic_words_added(corpus_assistant):
    objective = "What was the objective of the study on health care organizations partnering with CBOs?"
    answer = corpus_assistant.ask("How many interviews did it include?", [user(objective), answered()])
    assert "objective" in answer.standalone_question  # the topic's words are added for retrieval ...
    assert not answer.abstained  # ... but do not make it a question about the Objective section
    assert any(re.search(r"\d|Thirty", c.sentence) for c in answer.citations)


def test_a_follow_up_that_says_little_of_its_topic_is_answered_from_the_topic_s_study(corpus_assistant):
    # In the browser this was answered first with another study's interviews (relational organizing).
    topic = (
        "What was the objective of the study on health care organizations partnering with "
        "community organizations?"
    )
    first = corpus_assistant.ask(topic)
    history = [user(topic), answered(first.text, standalone_question=first.standalone_question)]
    answer = corpus_assistant.ask("How many interviews did it include?", history)
    assert answer.text.startswith("Thirty-three semi-structured telephone interviews")
    assert {c.passage.source for c in answer.citations} == {first.citations[0].passage.source}


def test_a_follow_up_to_a_study_named_by_its_journal_stays_with_that_study(corpus_assistant):
    first = corpus_assistant.ask("What was the objective of the JGIM study?")
    assert "JGIM" in first.standalone_question  # read with the name the user gave, not without it
    history = [
        {"role": "user", "content": "What was the objective of the JGIM study?"},
        {"role": "assistant", "content": first.text, "standalone_question": first.standalone_question},
    ]
    answer = corpus_assistant.ask("How many interviews did it include?", history)
    assert "Thirty-three semi-structured telephone interviews" in answer.text


def test_a_follow_up_stays_with_the_study_its_topic_named_by_its_organization(corpus_assistant):
    """ "The California Policy Lab study" is named by its organization (a bibliographic fact): the
    follow-up is asked of that study, not of the one the topic question's search found closest."""
    asked = "How many interviews did the California Policy Lab study conduct?"
    first = corpus_assistant.ask(asked)
    assert "34 leaders" in first.text
    history = [
        {"role": "user", "content": asked},
        {"role": "assistant", "content": first.text, "standalone_question": first.standalone_question},
    ]
    answer = corpus_assistant.ask("How many organizations took part?", history)
    assert not answer.abstained, answer.notes
    assert {c.source for c in answer.citations} == {
        "corpus/health-social-sector-collaboration-motivations.md"
    }


APPROACHES = (
    "Successful multisector community partnerships use three key approaches; they center mutual benefits "
    "to promote engagement and trust, develop a joint mission and shared goals, and foster power sharing. [1]"
)
RECOMMENDATIONS = (
    "Administrators highlighted 4 recommendations for collaborating with CBOs: (1) engage early; (2) "
    "establish shared purpose for the collaboration; (3) determine who is best suited to lead activities; "
    "and (4) avoid making assumptions about partner organizations. [1]"
)


def test_the_second_one_is_the_second_item_of_the_list_an_answer_gave():
    from assistant.followups import listed_items

    assert listed_items(APPROACHES)[1] == "develop a joint mission and shared goals"
    assert listed_items(RECOMMENDATIONS) == [
        "engage early",
        "establish shared purpose for the collaboration",
        "determine who is best suited to lead activities",
        "avoid making assumptions about partner organizations",
    ]
    assert listed_items("Partnerships take time to develop and flourish. [1]") == []
    listed = [user("What are the three approaches?"), answered(APPROACHES)]
    assert standalone_question("Tell me more about the second one.", listed) == (
        "Tell me more about the second one. (develop a joint mission and shared goals)"
    )
    # after an answer without a list, "the last one" is still the list's; its noun must be the list's
    later = [*listed, user("Tell me more about the second one."), answered("A joint mission helps. [1]")]
    assert standalone_question("What about the last approach?", later).endswith("(foster power sharing)")
    first_year = standalone_question("What happened in the first year of the program?", listed)
    assert first_year.endswith("(three approaches)")  # "the program" leans on the topic, no item
    assert standalone_question("Why does the fifth one matter?", listed) == (
        "Why does the fifth one matter? (three approaches)"  # no fifth: the topic's words, as before
    )


def test_a_follow_up_on_an_item_of_a_listed_answer_is_answered_about_that_item(corpus_assistant):
    question = "What are the three approaches of successful multisector partnerships?"
    first = corpus_assistant.ask(question)
    assert "develop a joint mission and shared goals" in first.text
    history = [user(question), answered(first.text)]
    answer = corpus_assistant.ask("Tell me more about the second one.", history)
    assert not answer.abstained, answer.notes
    assert answer.coverage == "answered"  # "second" is no topic the library lacks
    assert "joint mission" in answer.citations[0].sentence.lower()


def test_a_follow_up_after_one_on_a_listed_item_carries_the_item_not_the_pointing_words():
    read_as = "Tell me more about the third one. (foster power sharing)"
    history = [user("Tell me more about the third one."), answered(standalone_question=read_as)]
    assert standalone_question("Can you give an example?", history) == (
        "Can you give an example? (foster power sharing)"
    )


def test_a_question_browsing_its_own_topic_is_left_as_it_is():
    assert standalone_question("Is there anything about housing?", RELATIONAL) == (
        "Is there anything about housing?"
    )
    assert standalone_question("Is there anything more about it?", RELATIONAL) != (
        "Is there anything more about it?"
    )


def test_a_follow_up_is_answered_by_a_sentence_saying_what_its_own_words_ask(corpus_assistant):
    """ "And what did administrators recommend?" after a question on how intensive relationships
    should be had been answered with the intensity sentence again (the topic's words weighed more)."""
    topic = "How do health care organizations decide how intensive their CBO relationships should be?"
    history = [user(topic), answered(corpus_assistant.ask(topic).text)]
    answer = corpus_assistant.ask("And what did administrators recommend?", history)
    assert answer.text.startswith("Administrators highlighted 4 recommendations")
    # a name answers "who?" in words of its own: "funded" need not be in it
    history = [user("Why does a backbone organization need stable funding?"), answered()]
    answer = corpus_assistant.ask("Who funded that work?", history)
    assert "Robert Wood Johnson Foundation" in answer.text
