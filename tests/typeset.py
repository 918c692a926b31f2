"""The corpus typeset as people get papers: real engines, real layouts.

- LaTeX (Debian texlive): a two-column article, hyphenated, with a running head, page numbers, an
  author affiliation, a copyright line and a reference list;
- LibreOffice (Debian): a Word file (python-docx) with a running head and page-number footer,
  converted to PDF;
- reportlab: one column, a running head and "Page n" footer on every page.

Used by the tests (tests/conftest.py, once per session) and evals/pdf_library.py.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

ENGINES = {
    "multisector-partnership-strategies.md": "latex",
    "communities-joined-in-action-findings.md": "latex",
    "health-care-organizations-partnering-with-cbos.md": "libreoffice",
    "health-social-sector-collaboration-motivations.md": "libreoffice",
    "relational-organizing-covid19.md": "reportlab",
}
RUNNING_HEAD = "Partnership Literature Review"
AFFILIATION = "Department of Community Health, Example University, Springfield"
COPYRIGHT = "© 2024 The Authors. Published under a CC BY 4.0 licence."
# Fixture references: they exist to be recognized as a reference list, not to be cited.
REFERENCES = [
    "Adams R, Baker S. Community health partnerships in practice. J Health Policy. 2019;12(3):45–67.",
    "Chen L, Diaz M. Aligning hospitals and community organizations. Health Aff. 2021;40(2):210–218.",
    "Evans T. Power sharing in multisector coalitions. Am J Public Health. 2020;110(5):655–661.",
]


@dataclass
class Block:
    kind: str  # title | heading | subheading | paragraph | item | quote
    text: str


def markdown_blocks(text: str) -> list[Block]:
    blocks = []
    for paragraph in re.split(r"\n\s*\n", text):
        for line in paragraph.strip().splitlines():
            line = line.strip()
            if not line:
                continue
            if line.startswith("# "):
                blocks.append(Block("title", line[2:].strip()))
            elif line.startswith("## "):
                blocks.append(Block("heading", line[3:].strip()))
            elif line.startswith("###"):
                blocks.append(Block("subheading", line.lstrip("#").strip()))
            elif line.startswith("- "):
                blocks.append(Block("item", line[2:].strip()))
            elif line.startswith(">"):
                blocks.append(Block("quote", line.lstrip("> ").strip()))
            elif blocks and blocks[-1].kind == "paragraph" and not paragraph.startswith(line):
                blocks[-1].text += " " + line
            else:
                blocks.append(Block("paragraph", line))
    return blocks


def typeset_corpus(corpus: Path, out: Path) -> dict[str, Path]:
    """Every corpus document as a PDF by its engine: {markdown name: pdf path}."""
    out.mkdir(parents=True, exist_ok=True)
    work = out.with_name(out.name + "-work")  # sources and engine output, beside the PDFs
    work.mkdir(exist_ok=True)
    made = {}
    for name, engine in ENGINES.items():
        blocks = markdown_blocks((corpus / name).read_text(encoding="utf-8"))
        built = {"latex": latex_pdf, "libreoffice": libreoffice_pdf, "reportlab": reportlab_pdf}[engine](
            blocks, work / (Path(name).stem + ".pdf")
        )
        made[name] = Path(shutil.copy(built, out / built.name))
    return made


# --- LaTeX ---------------------------------------------------------------------------------------
LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


def _tex(text: str) -> str:
    text = "".join(LATEX_SPECIAL.get(c, c) for c in text)
    return text.replace("“", "``").replace("”", "''").replace("’", "'").replace("—", "---").replace("–", "--")


def latex_pdf(blocks: list[Block], target: Path) -> Path:
    title = next((b.text for b in blocks if b.kind == "title"), target.stem.replace("-", " ").title())
    body = []
    in_list = False
    for block in blocks:
        if block.kind == "item" and not in_list:
            body.append(r"\begin{itemize}")
            in_list = True
        elif block.kind != "item" and in_list:
            body.append(r"\end{itemize}")
            in_list = False
        text = _tex(block.text)
        body.append(
            {
                "title": "",
                "heading": rf"\section*{{{text}}}",
                "subheading": rf"\subsection*{{{text}}}",
                "item": rf"\item {text}",
                "quote": rf"\begin{{quote}}{text}\end{{quote}}",
                "paragraph": text + "\n",
            }[block.kind]
        )
    if in_list:
        body.append(r"\end{itemize}")
    references = "\n".join(rf"\bibitem{{r{i}}} {_tex(r)}" for i, r in enumerate(REFERENCES))
    source = rf"""\documentclass[twocolumn,11pt]{{article}}
\input{{glyphtounicode}}\pdfgentounicode=1
\usepackage[utf8]{{inputenc}}
\pagestyle{{myheadings}}\markright{{{RUNNING_HEAD}}}
\title{{{_tex(title)}}}
\author{{A. Writer\\{AFFILIATION}}}
\date{{}}
\begin{{document}}
\maketitle\thispagestyle{{myheadings}}
{{\footnotesize Copyright 2024 The Authors. All rights reserved.\par}}
{chr(10).join(body)}
\begin{{thebibliography}}{{9}}
{references}
\end{{thebibliography}}
\end{{document}}
"""
    work = target.with_suffix(".tex-build")
    work.mkdir(exist_ok=True)
    (work / "paper.tex").write_text(source, encoding="utf-8")
    subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "paper.tex"],
        cwd=work,
        check=True,
        capture_output=True,
        timeout=120,
    )
    shutil.copy(work / "paper.pdf", target)
    return target


# --- LibreOffice ---------------------------------------------------------------------------------
def write_docx_blocks(blocks: list[Block], target: Path, head: str = RUNNING_HEAD) -> Path:
    import docx
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    document = docx.Document()
    section = document.sections[0]
    section.header.paragraphs[0].text = head
    footer = section.footer.paragraphs[0]
    footer.text = "Page "
    run = footer.add_run()
    for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
        if kind:
            field = OxmlElement("w:fldChar")
            field.set(qn("w:fldCharType"), kind)
        else:
            field = OxmlElement("w:instrText")
            field.text = text
        run._r.append(field)
    styles = {
        "title": "Title",
        "heading": "Heading 1",
        "subheading": "Heading 2",
        "item": "List Bullet",
        "quote": "Quote",
        "paragraph": "Normal",
    }
    for block in blocks:
        document.add_paragraph(block.text, style=styles[block.kind])
    document.save(str(target))
    return target


def libreoffice_pdf(blocks: list[Block], target: Path) -> Path:
    source = write_docx_blocks(blocks, target.with_suffix(".docx"))
    return docx_to_pdf(source, target)


def docx_to_pdf(source: Path, target: Path) -> Path:
    out = target.parent / "soffice-out"
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{out}/profile",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    shutil.move(out / (source.stem + ".pdf"), target)
    return target


# --- reportlab -----------------------------------------------------------------------------------
def reportlab_pdf(blocks: list[Block], target: Path) -> Path:
    from reportlab.lib.pagesizes import A5
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import ListFlowable, Paragraph, SimpleDocTemplate

    styles = getSampleStyleSheet()
    kinds = {
        "title": styles["Title"],
        "heading": styles["Heading1"],
        "subheading": styles["Heading2"],
        "paragraph": styles["BodyText"],
        "quote": styles["BodyText"],
        "item": styles["BodyText"],
    }

    def furniture(canvas, document) -> None:
        canvas.setFont("Helvetica", 8)
        canvas.drawString(document.leftMargin, A5[1] - 30, RUNNING_HEAD)
        canvas.drawRightString(A5[0] - document.rightMargin, 25, f"Page {document.page}")

    story = []
    for block in blocks:
        text = block.text.replace("&", "&amp;").replace("<", "&lt;")
        if block.kind == "item":
            story.append(ListFlowable([Paragraph(text, kinds["item"])], bulletType="bullet"))
        else:
            story.append(Paragraph(text, kinds[block.kind]))
    SimpleDocTemplate(str(target), pagesize=A5).build(story, onFirstPage=furniture, onLaterPages=furniture)
    return target


# --- comparing what a loader read with the Markdown original --------------------------------------
def normalized(sentence: str) -> str:
    """A sentence compared whitespace-normalized (NFKC, one space; none around an ellipsis, whose
    spacing typesetters choose) and without a list marker."""
    import unicodedata

    text = " ".join(unicodedata.normalize("NFKC", sentence).split())
    return re.sub(r"\s*(?:…|\.\.\.)\s*", "…", re.sub(r"^[-•*▪]\s+", "", text))


def quotable_sentences(document) -> list[str]:
    """The sentences of a loaded document's quotable sections (headings aside), normalized."""
    from assistant.text import split_sentences

    return [
        normalized(s)
        for section in document.sections
        if section.quotable
        for s in split_sentences(section.text)
    ]


def sentence_match(pdf_sentences: list[str], markdown_sentences: list[str]) -> tuple[float, float]:
    """(share of the PDF's sentences that are the Markdown's, share of the Markdown's found in the PDF)."""
    pdf, markdown = set(pdf_sentences), set(markdown_sentences)
    precision = sum(s in markdown for s in pdf_sentences) / max(1, len(pdf_sentences))
    recall = sum(s in pdf for s in markdown_sentences) / max(1, len(markdown_sentences))
    return precision, recall
