"""The UI's pure rendering: answers and sources as inert HTML, the Markdown export, library tables."""

from __future__ import annotations

import html
import re

from hypothesis import given
from hypothesis import strategies as st

from assistant.catalog import DocumentRecord
from assistant.types import Answer, Citation, Passage
from assistant.ui import rendering

EVIL = '<script>window.__pwned=1</script><img src=x onerror="alert(1)"> **bold** [link](javascript:x) $$x$$'


def passage(text: str, **meta) -> Passage:
    return Passage(
        id="p1",
        text=text,
        source="uploads/evil <b>.md",
        title=meta.pop("title", "A <i>title</i>"),
        section="Findings",
        page=meta.pop("page", None),
        metadata={"authors": ["Ana Ruiz", "Ben Oku"], "year": 2023, "type": "report", **meta},
    )


def cited(text: str, sentences: list[str], number: int = 1) -> list[Citation]:
    p = passage(text)
    return [Citation(number, p, s, (text.index(s), text.index(s) + len(s))) for s in sentences]


def answer(text: str, citations: list[Citation], **kw) -> Answer:
    return Answer(
        question=kw.pop("question", "Q?"),
        text=text,
        citations=citations,
        retrieved=[c.passage for c in citations] or kw.pop("retrieved", []),
        abstained=kw.pop("abstained", False),
        standalone_question=kw.pop("standalone", "Q?"),
        **kw,
    )


def text_of(fragment: str) -> str:
    """What a browser would show for our HTML: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", fragment.replace("<br>", "\n")))


@given(st.text())
def test_escape_is_inert_and_shows_the_same_text(text):
    out = rendering.escape(text)
    bare = re.sub(r"&#?\w+;", "", out.replace("<br>", ""))  # what is left outside entities
    assert not set(bare) & set("<>&*_[]`#$\"'")  # no HTML, Markdown or attribute syntax
    assert html.unescape(out.replace("<br>", "\n")) == text.replace("\r\n", "\n").replace("\r", "\n")


def test_answer_links_each_number_to_its_source_with_the_sentence_marked():
    body = f"Intro {EVIL}. Stable funding matters for backbones. Tail text."
    citations = cited(body, ["Stable funding matters for backbones."])
    out = rendering.answer_html(answer("Stable funding matters for backbones. [1]", citations), turn=3)
    assert "<script" not in out and "<img" not in out and "<i>" not in out and "<b>" not in out
    assert '<a class="pa-cite" href="#pa-t3-s1">' in out
    assert '<details id="pa-t3-s1" class="pa-source">' in out
    marked = re.findall(r"<mark>(.*?)</mark>", out)
    assert [text_of(m) for m in marked] == ["Stable funding matters for backbones."]
    shown = text_of(out)
    assert EVIL in shown  # the document's markup is visible as text
    assert "A <i>title</i> — Ana Ruiz and Ben Oku, 2023, Findings" in shown
    assert "evil <b>.md · report" in shown
    assert "\n" not in out  # one line: Markdown passes an HTML block through untouched


def test_sentences_sharing_a_number_are_one_source_with_two_marks():
    body = "First point here. Filler. Second point here."
    citations = cited(body, ["First point here.", "Second point here."])
    out = rendering.answer_html(answer("First point here. [1] Second point here. [1]", citations), 1)
    assert out.count("<details") == 1
    assert [text_of(m) for m in re.findall(r"<mark>(.*?)</mark>", out)] == [
        "First point here.",
        "Second point here.",
    ]
    assert out.count('class="pa-cite"') == 2


def test_unknown_number_stays_text_and_unsupported_is_flagged():
    body = "Claim one."
    citations = cited(body, ["Claim one."])
    citations[0].supported = False
    out = rendering.answer_html(answer("Claim one. [1] See [7].", citations), 1)
    assert out.count('class="pa-cite"') == 1
    assert "&#91;7&#93;" in out
    assert "(not verified)" in out


def test_abstention_says_not_covered_and_lists_nearest_passages():
    near = [passage(f"Nearby passage {i} {EVIL}", title=f"Doc {i}") for i in range(5)]
    out = rendering.answer_html(
        answer("The library does not cover this question.", [], abstained=True, retrieved=near), 2
    )
    shown = text_of(out)
    assert shown.startswith("Not coveredNot covered by the library.")  # the label, then the notice
    assert "Nearest passages" in shown
    assert out.count("<details") == 3  # the three nearest
    assert "pa-cite" not in out and "<mark>" not in out and "<script" not in out


def test_rewritten_follow_up_is_shown():
    out = rendering.answer_html(answer("x", [], question="And why?", standalone="And why? (backbone)"), 1)
    assert "Read as: And why? (backbone)" in text_of(out)


def test_byline_and_reference():
    assert rendering.byline({"authors": ["A"]}) == "A"
    assert rendering.byline({"authors": ["A", "B", "C"]}) == "A, B and C"
    assert rendering.byline({"authors": ["A", "B", "C", "D"]}) == "A et al."
    assert rendering.byline({"organization": "Health+ Studio"}) == "Health+ Studio"
    assert (
        rendering.reference(passage("t", page=4, year=None))
        == "A <i>title</i> — Ana Ruiz and Ben Oku, n.d., p. 4"
    )


def test_conversation_markdown_has_questions_answers_and_references():
    body = "Alpha sentence. Beta."
    first = answer("Alpha sentence. [1]", cited(body, ["Alpha sentence."]), question="What is alpha?")
    second = answer("Not covered.", [], question="Weather?", abstained=True, retrieved=[passage("zzz")])
    md = rendering.conversation_markdown([first, second])
    assert "## 1. What is alpha?" in md and "## 2. Weather?" in md
    assert "1. A <i>title</i> — Ana Ruiz and Ben Oku, 2023, Findings (uploads/evil <b>.md)" in md
    assert "   > Alpha sentence." in md
    assert "Nearest passages:" in md


def test_results_and_library_tables_escape_names():
    out = rendering.ingest_results_html([("<img src=x onerror=alert(1)>.md", "skipped", "empty file")])
    assert "<img" not in out and "&lt;img src&#61;x" in out
    assert text_of(out).endswith("<img src=x onerror=alert(1)>.mdskippedempty file")
    assert rendering.ingest_results_html([]) == ""
    record = DocumentRecord("/d/uploads/<b>x.md", "h", "<script>t</script>", "report", 2021, {}, 4)
    table = rendering.documents_html([record])
    assert "<script" not in table and "<b>" not in table
    assert text_of(table) == (
        "1 documents, 4 passagesTitleTypeYearChunks<script>t</script><b>x.md · report · 2021report20214"
    )
    assert "empty" in rendering.documents_html([])


def test_a_real_answer_marks_exactly_its_cited_sentences(corpus_assistant):
    real = corpus_assistant.ask("Why does a backbone organization need stable funding?")
    out = rendering.answer_html(real, 1)
    marked = [text_of(m) for m in re.findall(r"<mark>(.*?)</mark>", out)]
    assert marked and set(marked) == {c.passage.text[c.span[0] : c.span[1]] for c in real.citations}
    assert len(re.findall(r'class="pa-cite"', out)) == len(re.findall(r"\[\d+\]", real.text))


def test_heading_lines_show_as_headings_and_the_source_names_the_sentences_heading():
    body = f"Setup\nWe met twice.\nFunding {EVIL}\nStable money keeps backbones alive. More text."
    p = passage(body)
    p.section, p.headings = "Setup", [(0, "Setup"), (body.index("Funding"), f"Funding {EVIL}")]
    sentence = "Stable money keeps backbones alive."
    start = body.index(sentence)
    citation = Citation(1, p, sentence, (start, start + len(sentence)))
    assert citation.location == f"Funding {EVIL}" and p.location == "Setup"
    out = rendering.answer_html(answer(f"{sentence} [1]", [citation]), 1)
    headings = re.findall(r'<span class="pa-h" role="heading" aria-level="4">(.*?)</span>', out)
    assert [text_of(h) for h in headings] == ["Setup", f"Funding {EVIL}"]
    assert "<script" not in out and "<img" not in out
    assert f"2023, Funding {EVIL}" in text_of(out)  # the summary: the heading above the sentence
    shown = re.search(r'<div class="pa-passage">(.*?)</div>', out)[1]
    assert shown.startswith(
        '<span class="pa-h" role="heading" aria-level="4">Setup</span>We met twice&#46;<br>'
    )
    assert [text_of(m) for m in re.findall(r"<mark>(.*?)</mark>", out)] == [sentence]


def test_coverage_label_follows_the_answerers_decision():
    covered = answer("x [1]", cited("x", ["x"]))
    assert rendering.coverage(covered)[:2] == ("answered", "Answered from the library")
    covered.coverage, covered.uncovered = "partial", ["rural <clinics>"]
    kind, label, tip = rendering.coverage(covered)
    assert (kind, label) == ("partial", "Partly covered: nothing on rural <clinics>") and tip
    assert "&lt;clinics&gt;" in rendering.answer_html(covered, 1)
    refused = answer("No.", [], abstained=True, retrieved=[passage("p")])
    assert rendering.coverage(refused)[:2] == ("not_covered", "Not covered")
    assert 'title="' in rendering.answer_html(refused, 1)


def test_more_in_the_library_lists_unquoted_passages_and_limits_are_named():
    cites = cited("Quoted one.", ["Quoted one."])
    others = [Passage(f"o{i}", f"Other {i} {EVIL}", "corpus/o.md", f"Other {i}") for i in range(5)]
    quoted = answer("Quoted one. [1]", cites)
    quoted.retrieved = [cites[0].passage, *others]
    out = rendering.answer_html(quoted, 2)
    more = out[out.index('class="pa-more"') :]
    assert more.count("<details") == 3 and "Other 0" in more and "Quoted one" not in more
    assert "<script" not in more
    limits = rendering.limits_text({"sources": ["corpus/a.md"], "types": [], "years": ["2020"]})
    assert limits == "documents: a.md; years: 2020"
    assert "Limited to documents: a.md; years: 2020" in text_of(
        rendering.answer_html(answer("x", []), 1, limits)
    )
    assert rendering.limits_text({"sources": [], "types": None}) == ""


def test_conversation_text_has_each_question_answer_and_its_own_sources():
    first = answer("Alpha sentence. [1]", cited("Alpha sentence. B.", ["Alpha sentence."]), question="Alpha?")
    second = answer("Gone.", [], question="Weather?", abstained=True, retrieved=[passage("zzz")])
    text = rendering.conversation_text([first, second])
    reference = "A <i>title</i> — Ana Ruiz and Ben Oku, 2023, Findings"
    assert text == (
        f"Q: Alpha?\n\nAlpha sentence. [1]\n\nSources:\n[1] {reference}\n\n"
        f"Q: Weather?\n\nNot covered by the library. Gone.\n\nNearest passages:\n{reference}"
    )
