"""Fit the answer step's three small models and write them to assistant/answering/models/.

    python evals/train_answering.py --data-dir DEVLIB --plain-data-dir PLAIN --corpus-store CORPUS_STORE
    python evals/train_answering.py --data-dir DEVLIB --only answer --only select
    python evals/train_answering.py --data-dir DEVLIB --corpus-store CORPUS_STORE --only abstain-yes-no

DEVLIB is the development library (`assistant devlib`), PLAIN its plain twin (`--plain`);
CORPUS_STORE a data dir holding corpus/ alone (`ASSISTANT_DATA_DIR=... assistant ingest corpus`).
Steps, in order (evals/README.md, "The answer step's fitted models"):

1. finding: finding vs set-up sentence, fitted on the tune half of PubMedQA-dev's labelled
   sentences with their stored vectors, each seen with its heading (DEVLIB), and as a plain
   abstract with and without its position (PLAIN).
2. answer: does a retrieved sentence answer the question, fitted on the sentences retrieved for the
   tune halves of PubMedQA-dev (label: a finding of the own abstract) and the gold set (label: it
   holds an evidence phrase).
3. select: prints how each `answer_keep_share` would answer the tune halves and the one to use.
4. abstain, abstain-yes-no: does the library cover the question, one model for open questions and
   one for yes/no ones, each fitted on all the tune questions asked as they are (covered) and with
   their evidence documents left out, plus the gold set's off-topic questions (not covered), on the
   development library and on the corpus store; the threshold keeps answering TARGET_ANSWERED of
   each source's covered questions, and for the yes/no model also of the covered yes/no ones (a
   yes/no question is answered by its own study or not at all).

Every figure printed and written into a model's "about" is measured on the held-out halves, which
no fit sees (assistant/evaluation/splits.py). The finding fit is deterministic; the others
depend on what retrieval returns, and Chroma's approximate search can differ by a few sentences
between runs (8,415 or 8,418 held-out sentences were seen on the same library).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sklearn.linear_model import LogisticRegression  # noqa: E402
from tqdm import tqdm  # noqa: E402

from assistant.answering.abstention import ABSTENTION_FEATURES, ABSTENTION_MODELS, question_kind  # noqa: E402
from assistant.answering.citations import passage_sentences  # noqa: E402
from assistant.answering.composing import compose  # noqa: E402
from assistant.answering.coverage import key_terms  # noqa: E402
from assistant.answering.extractive import (  # noqa: E402
    MIN_WORDS,
    position_in_document,
    sentence_candidates,
)
from assistant.answering.facts import fact_check, names_something_new  # noqa: E402
from assistant.answering.findings import ANSWER_FEATURES, SIGNALS, TRAITS, finding_features  # noqa: E402
from assistant.answering.models import LinearModel, load_model, save_model  # noqa: E402
from assistant.answering.quoting import (  # noqa: E402
    choose_sentences,
    on_the_best_documents_topic,
    quotable_candidates,
)
from assistant.answering.turn import Turn  # noqa: E402
from assistant.assistant import Assistant  # noqa: E402
from assistant.evaluation.answer_metrics import carries_evidence, sentence_holds_evidence  # noqa: E402
from assistant.evaluation.devlib import PUBMEDQA, PubMedAbstract, read_pubmedqa  # noqa: E402
from assistant.evaluation.pubmedqa import pubmedqa_questions, role_in  # noqa: E402
from assistant.evaluation.questions import Question, load_questions  # noqa: E402
from assistant.evaluation.scale import evidence_documents, pubmed_keys  # noqa: E402
from assistant.evaluation.splits import Split, in_split  # noqa: E402
from assistant.followups import standalone_question  # noqa: E402
from assistant.library import Library  # noqa: E402
from assistant.settings import Settings  # noqa: E402
from assistant.store import Embedder  # noqa: E402
from assistant.types import Filters  # noqa: E402

TARGET_ANSWERED = 0.98  # share of each source's covered tune questions the threshold keeps answering
GOLD = ROOT / "evals" / "questions.jsonl"


def fit(x: np.ndarray, y: np.ndarray, names: Sequence[str], weights=None, c: float = 1.0) -> LinearModel:
    """A class-balanced logistic regression on standardized features."""
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-6] = 1.0  # constant columns (the model has a few near-constant dimensions)
    model = LogisticRegression(C=c, max_iter=5000, class_weight="balanced")
    model.fit((x - mean) / scale, y, sample_weight=weights)
    return LinearModel(tuple(names), model.coef_[0], float(model.intercept_[0]), mean, scale)


def provenance(**facts) -> dict:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    return {
        "fitted": date.today().isoformat(),
        "commit": commit.stdout.strip(),
        "by": "evals/train_answering.py",
        **facts,
    }


# --- 1. finding -----------------------------------------------------------------------------------
Row = tuple[np.ndarray, str, str, float, bool]  # vector, sentence, heading, position, is finding


def labelled_sentences(library: Library, abstracts: Sequence[PubMedAbstract]) -> list[Row]:
    """Every finding or set-up sentence of the abstracts as the answerer sees it in this library: its
    stored vector (pooled in its chunk's context), heading and position in the document."""
    keys = pubmed_keys(library, abstracts)
    rows = []
    for abstract in abstracts:
        passages = list(
            library.catalog.passages(library.catalog.chunk_ids(keys[abstract.file_name])).values()
        )
        stored = library.sentence_vectors([p.id for p in passages])
        for passage in passages:
            by_span = stored[passage.id].by_span()
            for sentence in passage_sentences(passage):
                role = role_in(abstract, sentence.text)
                if role in ("finding", "setup") and len(sentence.text.split()) >= MIN_WORDS:
                    heading = passage.section_at(sentence.span[0])
                    position = position_in_document(sentence)
                    vector = by_span[sentence.span].astype(np.float32)
                    rows.append((vector, sentence.text, heading, position, role == "finding"))
    return rows


# Each sentence is seen as a sectioned abstract shows it (the development library), as a plain
# abstract does (the plain one: no heading, position only), and as a long document does (no heading,
# no position signal), so the sentence's own words carry weight where the other two are absent.
VIEWS = {"with headings": (True, True), "plain abstract": (False, True), "sentence alone": (False, False)}


def finding_data(rows: Sequence[Row], view: str) -> tuple[np.ndarray, np.ndarray]:
    headings, position = VIEWS[view]
    texts = [row[1] for row in rows]
    shown = [row[2] if headings else "" for row in rows]
    positions = [row[3] if position else 0.5 for row in rows]
    x = finding_features(np.stack([row[0] for row in rows]), texts, shown, positions)
    return x, np.array([row[4] for row in rows])


def train_finding(library: Library, plain: Library) -> LinearModel:
    abstracts = read_pubmedqa(library.settings.benchmarks_dir / PUBMEDQA)
    halves = {s: in_split(abstracts, s, lambda a: a.pmid) for s in ("tune", "held-out")}
    # the plain views read the plain library (its vectors were pooled without heading lines)
    sources = {"with headings": library, "plain abstract": plain, "sentence alone": plain}
    libraries = {id(lib): lib for lib in (library, plain)}  # one read when there is no plain library
    rows = {
        (split, key): labelled_sentences(lib, halves[split])
        for split in halves
        for key, lib in libraries.items()
    }
    data = {
        (split, view): finding_data(rows[split, id(sources[view])], view)
        for split in halves
        for view in VIEWS
    }
    names = [*(f"v{i}" for i in range(library.embedder.dimension)), *TRAITS]
    tune = [data["tune", view] for view in VIEWS]
    model = fit(np.vstack([x for x, _ in tune]), np.concatenate([y for _, y in tune]), names, c=0.1)
    figures = {}
    for view in VIEWS:
        x, labels = data["held-out", view]
        figures[f"held-out accuracy, {view}"] = round(
            float(((model.probability(x) >= 0.5) == labels).mean()), 3
        )
    held_out = data["held-out", "with headings"][1]
    figures["held-out base rate (findings)"] = round(float(held_out.mean()), 3)
    figures["tune sentences"] = len(data["tune", "with headings"][1])
    figures["held-out sentences"] = len(held_out)
    print("finding:", figures)
    about = provenance(data="PubMedQA-dev tune half, as stored in the development libraries", **figures)
    return LinearModel(**{**model.__dict__, "about": about})


# --- 2. answer --------------------------------------------------------------------------------------
def gold_questions(split: Split) -> list[Question]:
    return in_split(load_questions(GOLD), split)


def pubmed_questions(abstracts: Sequence[PubMedAbstract], split: Split) -> list[Question]:
    return in_split(pubmedqa_questions(abstracts), split)


def answer_rows(assistant: Assistant, questions, label_of, group: int):
    """Features and labels of every candidate sentence retrieved for each question, its set (group)
    and which question it was retrieved for."""
    xs, ys, groups, asked = [], [], [], []
    for q in tqdm(questions, desc="answer features", unit="q"):
        standalone = standalone_question(q.question, q.history)
        passages, query_vector = assistant.search.search(standalone, assistant.retrieval)
        candidates = sentence_candidates(
            standalone, query_vector, passages, assistant.extractive.vectors, fact_check(standalone)
        )
        if not candidates.sentences:
            continue
        xs.append(candidates.features)
        ys.append(np.array([label_of(q, s) for s in candidates.sentences]))
        groups.append(np.full(len(candidates.sentences), group))
        asked.append(np.full(len(candidates.sentences), f"{group}:{q.id}"))
    return np.vstack(xs), np.concatenate(ys), np.concatenate(groups), np.concatenate(asked)


def labelers(abstracts: Sequence[PubMedAbstract]):
    by_name = {a.file_name: a for a in abstracts}

    def pubmed(q: Question, sentence) -> bool:
        abstract = by_name[q.documents[0]]
        return (
            Path(sentence.passage.source).stem == abstract.file_name
            and role_in(abstract, sentence.text) == "finding"
        )

    def gold(q: Question, sentence) -> bool:
        return sentence_holds_evidence(sentence.text, q.evidence)

    return pubmed, gold


def answer_sets(assistant: Assistant, abstracts, split: str):
    pubmed, gold = labelers(abstracts)
    answerable = [q for q in gold_questions(split) if q.answerable]
    a = answer_rows(assistant, pubmed_questions(abstracts, split), pubmed, 0)
    b = answer_rows(assistant, answerable, gold, 1)
    return tuple(np.concatenate([u, v]) for u, v in zip(a, b, strict=True))


def train_answer(assistant: Assistant, abstracts) -> LinearModel:
    x, y, groups, _ = answer_sets(assistant, abstracts, "tune")
    # Each set weighs the same, however many sentences it has.
    weights = np.where(groups == 0, 0.5 / (groups == 0).sum(), 0.5 / (groups == 1).sum()) * len(groups)
    model = fit(x, y, ANSWER_FEATURES, weights)
    hx, hy, hg, hq = answer_sets(assistant, abstracts, "held-out")
    figures = {"tune sentences": len(y), "held-out sentences": len(hy)}
    for g, name in ((0, "PubMedQA-dev"), (1, "gold")):
        rows = hg == g
        for ranking, scores in (("this model", model.logit(hx)), ("similarity ranking", closeness(hx))):
            top = top_sentence_answers(scores[rows], hy[rows], hq[rows])
            figures[f"held-out {name}, top sentence answers, {ranking}"] = round(top, 3)
    print("answer:", figures, dict(zip(ANSWER_FEATURES, np.round(model.weights, 2), strict=True)))
    return LinearModel(
        **{**model.__dict__, "about": provenance(data="tune halves of PubMedQA-dev and gold", **figures)}
    )


def closeness(x: np.ndarray) -> np.ndarray:
    """The ranking score before this model (score_sentences' closeness), from the same features."""
    column = {name: x[:, i] for i, name in enumerate(ANSWER_FEATURES)}
    # each signal sits in its yes/no or its open column, the other one being 0
    f = {s: column[f"{s}_yes_no"] + column[f"{s}_open"] for s in SIGNALS}
    return (
        f["similarity"]
        + 0.15 * f["shared"]
        - 0.02 * f["passage_rank"]
        + 0.1 * f["has_fact"]
        - 0.5 * f["other_script"]
    )


def top_sentence_answers(scores: np.ndarray, labels: np.ndarray, asked: np.ndarray) -> float:
    """Share of questions (with some answering sentence retrieved) whose best-scored sentence answers."""
    hits = [
        labels[asked == q][np.argmax(scores[asked == q])]
        for q in np.unique(asked)
        if labels[asked == q].any()
    ]
    return float(np.mean(hits))


# --- 2b. how many sentences ---------------------------------------------------------------------------
KEEP_SHARES = (0.3, 0.5, 0.7, 0.9)
CARRY_MARGIN = 0.02


def selection_scores(assistant: Assistant, abstracts, split: str) -> dict[float, dict[str, float]]:
    """For each keep_share: what the answers would quote (abstention aside), scored by the answer
    metrics on the split's answerable gold questions and PubMedQA-dev questions."""
    by_name = {a.file_name: a for a in abstracts}
    asks = [(q, "gold") for q in gold_questions(split) if q.answerable]
    asks += [(q, "pubmedqa") for q in pubmed_questions(abstracts, split)]
    turns = [(q, kind, assistant.prepare(Turn(q.question, tuple(q.history)))) for q, kind in asks]
    scores = {}
    for share in KEEP_SHARES:
        carries, precise, found, setup, quoted = [], [], [], [], []
        for q, kind, turn in turns:
            quotable = quotable_candidates(turn.standalone, turn.answering, turn.passages, turn.question)
            terms = key_terms(turn.standalone)  # as the product quotes: no other documents' padding
            weights = assistant.library.term_rarity(terms) if terms else {}
            quotable = on_the_best_documents_topic(turn.standalone, quotable, turn.passages, weights)
            chosen = choose_sentences(quotable, keep_share=share, adds=names_something_new(turn.standalone))
            text, citations = compose(chosen, turn.passages)
            if kind == "gold":
                carries.append(carries_evidence({"abstained": False, "answer": text}, q))
                precise += [sentence_holds_evidence(c.sentence, q.evidence) for c in citations]
                continue
            roles = [
                role_in(by_name[Path(c.source).stem], c.sentence) if Path(c.source).stem in by_name else None
                for c in citations
            ]
            own = [Path(c.source).stem in q.documents for c in citations]
            found.append(any(r == "finding" and o for r, o in zip(roles, own, strict=True)))
            setup += [r == "setup" for r in roles]
            quoted.append(len(citations))
        scores[share] = {
            "gold answer carries evidence": float(np.mean(carries)),
            "gold sentence citation precision": float(np.mean(precise)),
            "pubmedqa finding rate": float(np.mean(found)),
            "pubmedqa set-up share": float(np.mean(setup)),
            "pubmedqa sentences quoted": float(np.mean(quoted)),
        }
    return scores


def choose_keep_share(assistant: Assistant, abstracts) -> float:
    """The largest share (the fewest sentences: no padding) whose answers on tune still carry the
    gold evidence within CARRY_MARGIN of the best share's, and quote a finding as often."""
    tune = selection_scores(assistant, abstracts, "tune")
    carry = max(row["gold answer carries evidence"] for row in tune.values())
    finding = max(row["pubmedqa finding rate"] for row in tune.values())
    best = max(
        share
        for share, row in tune.items()
        if row["gold answer carries evidence"] >= carry - CARRY_MARGIN
        and row["pubmedqa finding rate"] >= finding - CARRY_MARGIN
    )
    for share, row in tune.items():
        print(
            f"keep_share {share}: " + ", ".join(f"{k} {v:.3f}" for k, v in row.items()),
            "<-" * (share == best),
        )
    return best


# --- 3. abstain -------------------------------------------------------------------------------------
def turn_features(assistant: Assistant, q: Question, left_out: Sequence[str] = ()) -> list[float]:
    turn = Turn(q.question, tuple(q.history), Filters(exclude_documents=tuple(left_out)))
    return assistant.prepare(turn).abstention


def gold_asks(assistant: Assistant, split: str, label: str = "gold") -> list:
    """The split's gold questions as they are, and its answerable ones with their evidence left out."""
    gold = gold_questions(split)
    answerable = [q for q in gold if q.answerable]
    documents = evidence_documents(assistant.library, answerable)
    asks = [(assistant, q, (), q.answerable, label if q.answerable else f"{label} off-topic") for q in gold]
    return asks + [
        (assistant, q, documents[q.id], False, f"{label} left out") for q in answerable if documents[q.id]
    ]


def abstain_set(assistant: Assistant, abstracts, keys, split: str, small: Assistant | None = None):
    """(features, covered, set name, yes/no question) for the split's questions, as they are and with
    evidence left out: the gold set and PubMedQA-dev on the development library, and the gold set
    once more on the bundled 22-chunk library when `small` is given (the decision must hold at both
    sizes)."""
    pubmed = pubmed_questions(abstracts, split)
    asks = gold_asks(assistant, split)
    asks += [(assistant, q, (), True, "pubmedqa") for q in pubmed]
    asks += [(assistant, q, [keys[d] for d in q.documents], False, "pubmedqa left out") for q in pubmed]
    if small is not None:
        asks += gold_asks(small, split, "gold (corpus store)")
    rows = [turn_features(bot, q, out) for bot, q, out, *_ in tqdm(asks, desc=f"abstain {split}", unit="q")]
    yes_no = [question_kind(q.question) == "yes_no" for _, q, *_ in asks]
    return np.array(rows), np.array([a[3] for a in asks]), [a[4] for a in asks], np.array(yes_no)


def kind_threshold(p: np.ndarray, covered: np.ndarray, source: np.ndarray, yes_no: np.ndarray, kind: str):
    """The highest threshold that still answers TARGET_ANSWERED of each source's covered tune
    questions; for the yes/no model, also of the covered yes/no ones of every source together."""
    threshold = min(float(np.quantile(p[covered & (source == s)], 1 - TARGET_ANSWERED)) for s in set(source))
    if kind == "yes_no":
        threshold = max(threshold, float(np.quantile(p[covered & yes_no], 1 - TARGET_ANSWERED)))
    return round(threshold, 4)


def held_out_figures(model: LinearModel, kind: str, x, covered, names, yes_no) -> dict[str, float]:
    """Per held-out set, over its questions of the model's kind: the share answered (covered sets)
    or abstained (the rest)."""
    mine = yes_no if kind == "yes_no" else ~yes_no
    answered = model.probability(x) >= model.threshold
    figures = {}
    for name in dict.fromkeys(names):
        rows = np.array([n == name for n in names]) & mine
        if not rows.any():
            continue
        share = answered[rows].mean() if covered[rows].all() else 1 - answered[rows].mean()
        verdict = "answered" if covered[rows].all() else "abstained"
        figures[f"held-out {name}: {verdict} ({rows.sum()} {kind})"] = round(float(share), 3)
    return figures


def train_abstain(
    assistant: Assistant, abstracts, keys, small: Assistant | None, kinds: Sequence[str]
) -> dict[str, LinearModel]:
    """The abstention model for each kind of question asked for ("open", "yes_no"): one set of
    weights, fitted on every tune question (each source weighs the same, however many questions it
    has), with each kind's threshold (`kind_threshold`). The questions are asked once for all kinds."""
    x, covered, names, yes_no = abstain_set(assistant, abstracts, keys, "tune", small)
    source = np.array([n.removesuffix(" off-topic").removesuffix(" left out") for n in names])
    sources = sorted(set(source))
    weights = np.array([len(source) / (len(sources) * (source == s).sum()) for s in source])
    fitted = fit(x, covered, ABSTENTION_FEATURES, weights)
    print("abstain weights:", dict(zip(ABSTENTION_FEATURES, np.round(fitted.weights, 2), strict=True)))
    held_out = abstain_set(assistant, abstracts, keys, "held-out", small)
    models = {}
    for kind in kinds:
        threshold = kind_threshold(fitted.probability(x), covered, source, yes_no, kind)
        model = replace(fitted, threshold=threshold)
        figures = held_out_figures(model, kind, *held_out)
        print(f"abstain ({kind}):", figures)
        data = f"tune halves of PubMedQA-dev and gold; threshold on {kind} questions"
        models[kind] = replace(model, about=provenance(data=data, **figures))
    return models


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, help="the development library (assistant devlib)")
    parser.add_argument(
        "--plain-data-dir", type=Path, help="the plain development library (finding: its plain views)"
    )
    parser.add_argument(
        "--corpus-store", type=Path, help="a data dir holding corpus/ alone (abstain: fitted there too)"
    )
    parser.add_argument(
        "--only", choices=["finding", "answer", "select", "abstain", "abstain-yes-no"], action="append"
    )
    args = parser.parse_args(argv)
    steps = args.only or ["finding", "answer", "select", "abstain", "abstain-yes-no"]
    settings = Settings(**({"data_dir": args.data_dir} if args.data_dir else {}))
    embedder = Embedder(settings.model_path)
    library = Library.open(settings, embedder)
    if "finding" in steps:
        plain = library
        if args.plain_data_dir:
            plain = Library.open(settings.model_copy(update={"data_dir": args.plain_data_dir}), embedder)
        print("wrote", save_model("finding", train_finding(library, plain)))
        load_model.cache_clear()
    abstain_steps = {"abstain": "open", "abstain-yes-no": "yes_no"}
    if {"answer", "select", *abstain_steps} & set(steps):
        assistant = Assistant(settings, library)
        abstracts = read_pubmedqa(settings.benchmarks_dir / PUBMEDQA)
        keys = pubmed_keys(library, abstracts)
        if "answer" in steps:
            print("wrote", save_model("answer", train_answer(assistant, abstracts)))
            load_model.cache_clear()
        if "select" in steps:
            print(
                "keep_share chosen on tune (set Settings.answer_keep_share to it):",
                choose_keep_share(assistant, abstracts),
            )
        kinds = [kind for step, kind in abstain_steps.items() if step in steps]
        small = None
        if args.corpus_store and kinds:
            small_settings = settings.model_copy(update={"data_dir": args.corpus_store})
            small = Assistant(small_settings, Library.open(small_settings, embedder))
        if kinds:
            for kind, model in train_abstain(assistant, abstracts, keys, small, kinds).items():
                print("wrote", save_model(ABSTENTION_MODELS[kind], model))


if __name__ == "__main__":
    main()
