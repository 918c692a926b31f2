"""The answer step's fitted models: the shipped files load, tell findings from set-up, and drive
sentence choice and abstention through the real pipeline (real model, real store)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from assistant.answering.abstention import (
    ABSTENTION_FEATURES,
    abstention_features,
    answerable,
    lead_over_next,
    question_kind,
)
from assistant.answering.extractive import NOT_ENGLISH_TEXT
from assistant.answering.findings import ANSWER_FEATURES, TRAITS, finding_features, sentence_traits
from assistant.answering.models import LinearModel, load_model, save_model
from assistant.ingest import ingest
from assistant.text import other_language
from assistant.types import Passage


def test_linear_model_round_trips_through_json(tmp_path):
    model = LinearModel(
        ("a", "b"), np.array([2.0, -1.0]), 0.5, np.array([1.0, 0.0]), np.array([2.0, 1.0]), 0.3
    )
    path = save_model("toy", model, tmp_path)
    again = LinearModel.from_json(json.loads(path.read_text()))
    x = np.array([[3.0, 1.0], [1.0, 4.0]])
    # ((3-1)/2)*2 - 1*1 + 0.5 = 1.5 ; 0 - 4 + 0.5 = -3.5
    assert again.logit(x) == pytest.approx([1.5, -3.5])
    assert again.probability(x)[0] == pytest.approx(1 / (1 + np.exp(-1.5)))
    assert again.threshold == 0.3 and again.features == ("a", "b")


def test_a_yes_no_question_is_decided_by_its_own_model():
    """Open and yes/no questions each have a fitted abstention model: "Does X reduce Y?" asks what one
    study found; answered from a nearby study it would be wrong."""
    assert question_kind("Does vitamin D reduce fractures in older women?") == "yes_no"
    assert question_kind("How do we share power with a new CBO?") == "open"
    assert (
        question_kind("Updating emotional content in working memory: a depression-specific deficit?")
        == "yes_no"
    )
    assert question_kind("stable funding backbone organizations") == "open"  # keywords ask no yes/no
    open_model, yes_no_model = load_model("abstain"), load_model("abstain-yes-no")
    assert yes_no_model.threshold > open_model.threshold  # it answers only what stands out
    # one feature row, read by each kind's own model and threshold
    row = list(open_model.mean)
    for kind, model in (("open", open_model), ("yes_no", yes_no_model)):
        probability = float(model.probability(np.array(row))[0])
        assert answerable(row, kind) == (probability >= model.threshold, pytest.approx(probability))
    assert answerable(row, "open")[1] != pytest.approx(answerable(row, "yes_no")[1])


@pytest.mark.parametrize(
    ("name", "features"),
    [("answer", ANSWER_FEATURES), ("abstain", ABSTENTION_FEATURES), ("abstain-yes-no", ABSTENTION_FEATURES)],
)
def test_shipped_models_match_the_features_the_code_computes(name, features):
    model = load_model(name)
    assert model.features == tuple(features)
    assert len(model.weights) == len(features) and "held-out" in " ".join(model.about)


def test_finding_model_reads_the_heading_and_the_sentence(embedder):
    model = load_model("finding")
    assert model.features[-len(TRAITS) :] == TRAITS and len(model.weights) == embedder.dimension + len(TRAITS)
    finding = "Patients in the intervention group had 30% fewer readmissions than controls (p < 0.01)."
    setup = (
        "The aim of this study was to assess whether a community health worker program reduces readmissions."
    )

    def probability(text: str, heading: str) -> float:
        vectors = embedder.encode([text])
        return float(model.probability(finding_features(vectors, [text], [heading], [0.5]))[0])

    # From the sentence alone (a plain document; 0.5: where a long document puts every sentence) ...
    assert probability(finding, "") > 0.5 > probability(setup, "")
    # ... and the heading moves the same sentence the right way.
    middle = "Readmissions were recorded for every patient over twelve months."
    assert probability(middle, "Results") > probability(middle, "") > probability(middle, "Methods")


def test_sentence_traits_name_heading_kinds():
    traits = dict(
        zip(TRAITS, sentence_traits("We recommend a shared budget.", "Recommendations"), strict=True)
    )
    assert traits["finding_heading"] == 1 and traits["setup_heading"] == 0 and traits["advice"] == 1
    traits = dict(zip(TRAITS, sentence_traits("Interviews were conducted in 2021.", "Methods"), strict=True))
    assert traits["setup_heading"] == 1 and traits["finding_heading"] == 0 and traits["number"] == 1


def test_term_rarity_is_one_for_absent_terms_and_lower_for_common_ones(corpus_library):
    rarity = corpus_library.term_rarity(["partnership", "sourdough", "organizations"])
    assert rarity["sourdough"] == 1.0
    assert 0.0 <= rarity["partnership"] < 1.0 and rarity["organizations"] < 1.0


WALKING_QUESTION = "Do community walking groups reduce knee pain in older adults?"


def ask_of_one_file(make_library, path, text: str, question: str):
    """A library holding one file (written at `path`, ingested for real), asked one question."""
    from assistant.assistant import Assistant

    folder = path.parent
    folder.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    library = make_library()
    ingest(library, [folder], progress=False)
    return Assistant(library.settings, library).ask(question)


def test_a_study_abstract_is_answered_with_its_finding_not_its_objective(make_library, tmp_path):
    """A sectioned abstract whose objective restates the question: the answer quotes the result."""
    answer = ask_of_one_file(
        make_library,
        tmp_path / "docs" / "walking.md",
        "# Walking groups and knee pain\n\n## Objective\n\nTo determine whether community walking groups "
        "reduce knee pain in older adults.\n\n## Methods\n\nWe randomized 120 older adults from six senior "
        "centres to walking groups or usual care for 12 weeks.\n\n## Results\n\nKnee pain fell by 31% in "
        "the walking groups and by 4% with usual care (p < 0.001).\n\n## Conclusions\n\nCommunity walking "
        "groups run by senior centres reduce knee pain in older adults.\n",
        WALKING_QUESTION,
    )
    assert not answer.abstained
    quoted = [c.sentence for c in answer.citations]
    assert any("31%" in q or "reduce knee pain in older adults." in q for q in quoted)
    assert not any(q.startswith("To determine") for q in quoted), quoted


def test_a_plain_abstract_answers_a_yes_no_question_with_findings_only(make_library, tmp_path):
    """Without headings, the finding model tells its aim and methods from its results."""
    answer = ask_of_one_file(
        make_library,
        tmp_path / "docs" / "walking.txt",
        "Walking groups and knee pain in older adults\n\n"
        "Knee pain limits the mobility of many older adults, and exercise programmes are often hard to "
        "sustain. We asked whether community walking groups reduce knee pain in older adults. "
        "We randomized 120 older adults from six senior centres to walking groups or usual care for 12 "
        "weeks. Pain was measured with the WOMAC pain scale at baseline and at 12 weeks. "
        "Knee pain fell by 31% in the walking groups and by 4% with usual care (p < 0.001). "
        "Adherence to the walking groups was 84% and no serious adverse events occurred. "
        "Community walking groups run by senior centres reduce knee pain in older adults.\n",
        WALKING_QUESTION,
    )
    quoted = [c.sentence for c in answer.citations]
    assert any("31%" in q for q in quoted), quoted
    # its aim and methods are set-up, quoted before this change ("We asked whether ...")
    assert not any(q.startswith(("We randomized", "Pain was measured", "We asked")) for q in quoted), quoted


def test_a_question_in_another_language_is_told_the_assistant_reads_english(corpus_assistant):
    answer = corpus_assistant.ask("¿Cuál es la mejor receta de pan de masa madre para una panadería?")
    assert answer.abstained
    # its words say nothing about what the library lacks ("mejor", "receta" are in no English text)
    assert NOT_ENGLISH_TEXT in answer.text and answer.uncovered == [] and answer.retrieved
    english = corpus_assistant.ask("What is the best recipe for sourdough bread for a bakery?")
    assert english.abstained and NOT_ENGLISH_TEXT not in english.text


def test_other_languages_are_told_by_their_function_words_not_by_missing_english_ones():
    for question in (
        "¿Cuántas organizaciones de salud participaron en el estudio?",
        "Comment partager le pouvoir avec une nouvelle organisation?",
        "Wie teilen wir Macht mit einer neuen Organisation?",
        "Como compartilhar o poder com uma nova organização?",
    ):
        assert other_language(question), question
    for question in (
        "Stable funding backbone organizations sustainability cross-sector efforts",  # keywords
        "Does La Clinica del Pueblo partner with the health department?",  # a Spanish name
        "访谈探讨了卫生和社会部门合作的哪些方面?",  # another script: the language penalty's business
    ):
        assert not other_language(question), question


def test_off_topic_question_abstains_naming_what_is_missing(corpus_assistant):
    answer = corpus_assistant.ask("What is the best recipe for sourdough bread?")
    assert answer.abstained and answer.coverage == "not_covered"
    assert "sourdough" in answer.uncovered and answer.retrieved  # the nearest passages are still shown


def test_term_rarity_follows_an_ingest_despite_its_cache(make_library, tmp_path):
    library = make_library()
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.md").write_text("# Partners\n\nPartners met every week to plan the food pantry.\n")
    ingest(library, [folder], progress=False)
    assert library.term_rarity(["sourdough"])["sourdough"] == 1.0  # now cached
    (folder / "b.md").write_text("# Baking\n\nThe pantry baked sourdough bread for its partners.\n")
    ingest(library, [folder], progress=False)
    assert library.term_rarity(["sourdough"])["sourdough"] < 1.0


def test_term_rarity_leaving_a_document_out_reads_the_library_without_it(make_library, tmp_path):
    library = make_library()
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.md").write_text("# Partners\n\nPartners met every week to plan the food pantry.\n")
    (folder / "b.md").write_text("# Baking\n\nThe pantry baked sourdough bread for its partners.\n")
    ingest(library, [folder], progress=False)
    baking = next(d.key for d in library.documents() if d.key.endswith("b.md"))
    assert library.term_rarity(["sourdough"])["sourdough"] < 1.0
    # a term only the left-out document has is in no document left: as rare as a term never seen
    assert library.term_rarity(["sourdough"], [baking])["sourdough"] == 1.0
    # the cached whole-library count is untouched by the leaving out
    assert library.term_rarity(["sourdough"])["sourdough"] < 1.0
    # a term both documents have is in every chunk of the library that is left: as common as can be
    assert library.term_rarity(["pantry"], [baking])["pantry"] == 0.0


def test_a_question_asked_with_a_document_left_out_weighs_its_terms_without_it(corpus_assistant):
    """The evaluation's leave-out asks as if the document were missing; the abstention's term
    weights must see it missing too (counting it made its own terms look common to the model)."""
    from assistant.answering.turn import Turn
    from assistant.types import Filters

    question = "How did relational organizing help COVID-19 vaccination collaborations?"
    left_out = "corpus/relational-organizing-covid19.md"
    seen: list[tuple] = []
    rarity = corpus_assistant.extractive.rarity
    corpus_assistant.extractive.rarity = lambda terms, leaving_out: (
        seen.append(tuple(leaving_out)) or rarity(terms, leaving_out)
    )
    try:
        corpus_assistant.prepare(Turn(question, filters=Filters(exclude_documents=(left_out,))))
        corpus_assistant.prepare(Turn(question))
    finally:
        corpus_assistant.extractive.rarity = rarity
    assert seen == [(left_out,), ()]
    assert rarity(["relational"], [left_out])["relational"] > rarity(["relational"], [])["relational"]


def test_abstention_sees_whether_one_passage_has_all_the_question_s_terms():
    question = "Does metformin lower dementia risk in veterans?"
    one_study = [Passage("a", "Metformin use was linked to lower dementia risk among veterans.", "a.md", "A")]
    three_studies = [
        Passage("b", "Metformin lowers glucose.", "b.md", "B"),
        Passage("c", "Dementia risk rises with age.", "c.md", "C"),
        Passage("d", "Veterans were surveyed.", "d.md", "D"),
    ]

    def features(passages: list[Passage]) -> dict[str, float]:
        row = abstention_features(question, passages, [], [], False, rarity={})
        return dict(zip(ABSTENTION_FEATURES, row, strict=True))

    # Between them the three studies carry every key term, as the one study does ...
    assert features(three_studies)["uncovered_share"] == features(one_study)["uncovered_share"] == 0.0
    # ... but no one of them does: the feature that tells "the study asked about" from "studies nearby".
    assert features(one_study)["best_single_uncovered_share"] == 0.0
    assert features(three_studies)["best_single_uncovered_share"] > 0.5


def test_abstention_sees_whether_the_closest_document_stands_out():
    def passage(pid: str, source: str, relevance: float) -> Passage:
        return Passage(pid, "Partners met weekly.", source, source, relevance=relevance)

    # The study asked about (two chunks, counted once) is well ahead of the next documents ...
    stands_out = [passage("a1", "a.md", 0.8), passage("a2", "a.md", 0.78), passage("b", "b.md", 0.5)]
    stands_out.append(passage("c", "c.md", 0.4))
    # ... while with it left out, several nearby studies are about as close as each other.
    ties = [passage("b", "b.md", 0.52), passage("c", "c.md", 0.5), passage("d", "d.md", 0.49)]
    assert lead_over_next(stands_out) == pytest.approx(0.8 - (0.5 + 0.4) / 2)
    assert lead_over_next(ties) == pytest.approx(0.52 - (0.5 + 0.49) / 2)
    assert lead_over_next([passage("a", "a.md", 0.6)]) == pytest.approx(0.6)
    assert lead_over_next([]) == 0.0


def test_a_yes_no_follow_up_is_judged_by_its_own_words(corpus_assistant, monkeypatch):
    """A follow-up's standalone form ends with its appended topic terms ("… involved? (frustrations
    …)"), not with the "?" that makes it a yes/no question: the kind comes from the user's words."""
    import assistant.answering.extractive as extractive

    kinds = []
    decide = extractive.answerable
    monkeypatch.setattr(extractive, "answerable", lambda f, kind: kinds.append(kind) or decide(f, kind))
    history = [
        {"role": "user", "content": "What frustrations did social sector organizations voice?"},
        {"role": "assistant", "content": "They voiced frustrations with their health sector partners."},
    ]
    answer = corpus_assistant.ask(
        "Despite that, did they still support the health sector being involved?", history
    )
    assert answer.standalone_question.rstrip().endswith(")")  # the topic terms were appended
    assert kinds == ["yes_no"]
