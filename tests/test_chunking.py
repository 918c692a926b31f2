"""The chunker on long real text (SciFact abstracts): the model's token window, whole sentences,
headings never alone, nothing lost."""

from __future__ import annotations

import json
import re
from itertools import islice

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from transformers import AutoTokenizer

from assistant import text as splitter
from assistant.chunking import chunk_document, embedding_text, token_counter
from assistant.loading import content_hash
from assistant.settings import Settings
from assistant.text import split_sentences
from assistant.types import LoadedDocument, Passage, Section

SCIFACT = "/work/shared/benchmarks/scifact/corpus.jsonl"


@pytest.fixture(scope="module")
def tokenizer():
    return AutoTokenizer.from_pretrained(str(Settings().model_path))


@pytest.fixture(scope="module")
def count():
    return token_counter(Settings().model_path)


@pytest.fixture(scope="module")
def abstracts() -> list[dict]:
    """The 40 longest of the first 400 SciFact abstracts (read in place, never copied)."""
    with open(SCIFACT, encoding="utf-8") as handle:
        rows = [json.loads(line) for line in islice(handle, 400)]
    return sorted(rows, key=lambda r: -len(r["text"]))[:40]


def document(sections: list[Section], title: str) -> LoadedDocument:
    joined = "\n".join(s.heading + s.text for s in sections)
    return LoadedDocument("doc.txt", sections, {"title": title}, content_hash(joined.encode()))


def model_tokens(tokenizer, passage: Passage) -> int:
    """The model's own count of what ingest embeds, [CLS] and [SEP] included."""
    return len(tokenizer.encode(embedding_text(passage.title, passage.section, passage.text)))


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_token_counter_agrees_with_the_models_tokenizer(count, tokenizer, abstracts):
    for row in abstracts[:10]:
        for text in (row["title"], row["text"], row["text"][:37]):
            assert count(text) == len(tokenizer.encode(text, add_special_tokens=False))


def test_every_chunk_fits_the_window_with_its_title_and_section(count, tokenizer, abstracts):
    # Each abstract a section under its (long, real) title as heading, under a long document title.
    sections = [Section(row["text"], heading=row["title"]) for row in abstracts]
    passages = chunk_document(document(sections, abstracts[0]["title"] + " " + abstracts[1]["title"]), count)
    assert len(passages) > len(abstracts)  # long abstracts really are split
    assert max(model_tokens(tokenizer, p) for p in passages) <= 256


def test_one_huge_paragraph_is_cut_into_chunks_that_fit(count, tokenizer, abstracts):
    text = " ".join(row["text"] for row in abstracts)  # some 10,000 word pieces, no line break
    passages = chunk_document(document([Section(text)], "Collected abstracts"), count)
    assert len(passages) >= 40
    assert max(model_tokens(tokenizer, p) for p in passages) <= 256
    assert squeeze("".join(p.text for p in passages)) == squeeze(text)  # nothing lost, order kept


def test_sentences_are_kept_whole(count, abstracts):
    sections = [Section(row["text"]) for row in abstracts]
    passages = chunk_document(document(sections, "Abstracts"), count)
    texts = [" ".join(p.text.split()) for p in passages]
    for section in sections:
        for sentence in split_sentences(section.text):
            assert any(sentence in text for text in texts), sentence


def test_a_heading_is_never_a_chunk_of_its_own(count, abstracts):
    long_text = abstracts[0]["text"] + " " + abstracts[1]["text"]
    sections = [
        Section("", heading="Empty heading right at the start"),
        Section(long_text, heading="Methods"),
        Section("Short.", heading="Tiny section"),
        Section("", heading="Heading with nothing under it"),
        Section(long_text, heading="Results"),
        Section("", heading="Trailing heading at the end"),
    ]
    headings = {s.heading for s in sections}
    passages = chunk_document(document(sections, "Study"), count)
    for passage in passages:
        body = [line for line in passage.text.split("\n") if line.strip() and line.strip() not in headings]
        assert body, f"heading-only chunk: {passage.text!r}"
    assert not any("nothing under it" in p.text or "Trailing heading" in p.text for p in passages)


def test_sentences_from_split_sentences_rebuild_the_text(abstracts):
    for row in abstracts[:10]:
        assert squeeze("".join(split_sentences(row["text"]))) == squeeze(row["text"])
    assert split_sentences("One line\nTwo line. Three.\n\n") == ["One line", "Two line.", "Three."]


def test_an_inline_list_stays_in_its_sentence():
    """pysbd starts a sentence at each "(a)", "(b)": items inside a sentence were quoted as fragments."""
    text = (
        "Surveys are a useful tool to identify, at an early stage, (a) major issues, (b) persons who play "
        "a major role, and (c) obstacles. By surveying leaders, studies respond to needs."
    )
    first, second = text[: text.index(" By")], "By surveying leaders, studies respond to needs."
    assert split_sentences(text) == [first, second]
    assert split_sentences("Risk was higher for 1) older women; and 2) younger women. Done.") == [
        "Risk was higher for 1) older women; and 2) younger women.",
        "Done.",
    ]
    # pysbd ends a sentence at an abbreviation it does not know; no sentence opens with "/" or "in".
    assert split_sentences("PSA was below 0.4 ng./ml. in 64.8% of the patients. Survival was the same.") == [
        "PSA was below 0.4 ng./ml. in 64.8% of the patients.",
        "Survival was the same.",
    ]
    assert split_sentences("Levels rose. pol mu forms foci.") == ["Levels rose.", "pol mu forms foci."]
    # A species abbreviated to a short capitalized word ends no sentence; a lower-case gene name may
    # still start one.
    assert split_sentences("Larvae of An. gambiae were caught. Staph. aureus grew. mRNA rose.") == [
        "Larvae of An. gambiae were caught.",
        "Staph. aureus grew.",
        "mRNA rose.",
    ]
    # An item after a finished sentence, or on a line of its own, still starts a sentence.
    assert split_sentences("We found more cases. (b) Fewer deaths were seen.") == [
        "We found more cases.",
        "(b) Fewer deaths were seen.",
    ]
    assert split_sentences("Aims:\n(1) To examine effects.") == ["Aims:", "(1) To examine effects."]


def test_run_on_text_long_words_and_long_titles_still_fit(count, tokenizer):
    url = "https://example.org/" + "a1b2c3/" * 600  # one 4,000-character word
    run_on = " ".join(f"word{n}" for n in range(3000))  # no sentence end at all
    heading = "A paragraph styled as a heading " * 20
    sections = [Section(f"{run_on} {url} end.", heading=heading)]
    passages = chunk_document(document(sections, "Long title words " * 40), count)
    assert max(model_tokens(tokenizer, p) for p in passages) <= 256
    joined = squeeze("".join(p.text for p in passages))
    assert squeeze(run_on + url) in joined  # the huge word is cut, not dropped
    assert all(p.section.endswith("…") and len(p.section) < len(heading) for p in passages)


def test_ids_depend_on_content_only(count, abstracts):
    sections = [Section(row["text"]) for row in abstracts[:3]]
    first = chunk_document(document(sections, "A"), count)
    again = chunk_document(document(sections, "A"), count)
    assert [p.id for p in first] == [p.id for p in again]
    assert len({p.id for p in first}) == len(first)
    changed = chunk_document(document([*sections[:2], Section("A new ending.")], "A"), count)
    assert not {p.id for p in changed} & {p.id for p in first}  # a changed file gets all-new ids


def pysbd_sentences(block: str) -> list[str]:
    """What _segment gives when every block goes through pysbd."""
    plain = splitter._plain_sentences
    splitter._plain_sentences = lambda _: None
    try:
        return splitter._segment(block)
    finally:
        splitter._plain_sentences = plain


def blocks_of(text: str) -> list[str]:
    return [b for p in re.split(r"\n+", text) for b in splitter._blocks(" ".join(p.split()))]


def test_the_fast_path_splits_exactly_as_pysbd_on_real_abstracts():
    with open(SCIFACT, encoding="utf-8") as handle:
        blocks = [b for line in islice(handle, 800) for b in blocks_of(json.loads(line)["text"])]
    plain = [(b, splitter._plain_sentences(b)) for b in blocks]
    taken = [(b, sentences) for b, sentences in plain if sentences is not None]
    assert len(taken) > 0.3 * len(blocks)  # the path is taken, or this test proves nothing
    assert [s for b, s in taken] == [pysbd_sentences(b) for b, _ in taken]


# Words pysbd treats specially (abbreviations, initials, numbers, list items) among plain ones.
WORDS = "The study Partners met Dr etc al Fig No vs U.S. e.g. 5 3.5 (i) 2) (CBO) [12] Mr A x Inc approx p ca"
WORDS += " 2019 n=5 I II Sept Jan St cells' don't p<0.05 Ph.D a.m. ... 1,000 www.cbo.org Figs ie (p=0.2) OK"


# Most random blocks take pysbd's path, not the fast one (`assume` drops them: about 2,400 for the 400
# kept), which Hypothesis's health check failed one CI run on ("50 inputs were filtered out")
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(
    st.lists(
        st.tuples(
            st.lists(st.sampled_from(WORDS.split()), min_size=1, max_size=6),
            st.sampled_from([".", "?", ",", "", ";", ":", ".)", "?]", "'."]),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_the_fast_path_never_disagrees_with_pysbd(parts):
    block = " ".join(" ".join(words) + stop for words, stop in parts)
    sentences = splitter._plain_sentences(block)
    assume(sentences is not None)
    assert sentences == pysbd_sentences(block)
