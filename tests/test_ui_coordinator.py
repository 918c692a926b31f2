"""What a coordinator ran into in the chat UI (issue 16), in a real browser.

The app's data directory sits inside the project, as the default ./data does, so document keys are
relative paths just as in real use. Screenshots go to docs/screenshots/ with UPDATE_SCREENSHOTS=1 (README.md).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from playwright.sync_api import Page, expect
from test_ui_browser import ask, last_turn, make_pdf, open_page, upload

from assistant.assistant import Assistant
from assistant.ingest import ingest
from assistant.library import Library
from assistant.settings import PROJECT_ROOT, Settings
from assistant.ui import conversations as books
from assistant.ui.app import build, launch

pytestmark = pytest.mark.browser

CORPUS = PROJECT_ROOT / "corpus"
DOCS_SHOTS = PROJECT_ROOT / "docs" / "screenshots"
FUNDING = "Why does a backbone organization need stable funding?"
MECHANISMS = "What four mechanisms explained why relational organizing helped collaborations work?"
OFF_TOPIC = "What is the boiling point of mercury in kelvin?"


def start_app(data_dir: Path, embedder, **overrides):
    settings = Settings(data_dir=data_dir, **overrides)
    library = Library.open(settings, embedder)
    ingest(library, [CORPUS], progress=False)
    demo = build(Assistant(settings, library), settings)
    server, url, _ = launch(demo, settings, "127.0.0.1", None, prevent_thread_lock=True, quiet=True)
    return demo, SimpleNamespace(url=url, settings=settings, library=library, server=server)


@pytest.fixture(scope="module")
def project_data():
    """A data directory inside the project (like ./data), removed afterwards."""
    (PROJECT_ROOT / "data").mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="test-ui-coordinator-", dir=PROJECT_ROOT / "data"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def ui(project_data, embedder):
    demo, app = start_app(project_data / "data", embedder)
    yield app
    demo.close()


@pytest.fixture
def page(browser, ui):
    page = open_page(browser, ui, 1366, 900)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    yield page
    page.context.close()


def turn_text(turn) -> str:
    return turn.locator(".pa-text").inner_text().strip()


def source_lines(turn) -> list[str]:
    return [s.strip() for s in turn.locator(".pa-sources > details.pa-source summary").all_inner_texts()]


def in_order(text: str, parts: list[str]) -> bool:
    cursor = 0
    for part in parts:
        found = text.find(part, cursor)
        if found < 0:
            return False
        cursor = found + len(part)
    return True


# --- 1. Copy conversation ------------------------------------------------------------------------
def test_1_copy_conversation_copies_every_question_and_answer_with_its_own_sources(page):
    ask(page, "What is a backbone organization?")
    first = last_turn(page)
    first_text, first_sources = turn_text(first), source_lines(first)
    ask(page, "Why does it need stable funding?")
    second = last_turn(page)
    second_text, second_sources = turn_text(second), source_lines(second)
    assert first_sources and second_sources

    page.get_by_role("button", name="Copy conversation").first.click()
    page.wait_for_timeout(300)
    copied = page.evaluate("navigator.clipboard.readText()")
    assert "<" not in copied
    assert in_order(
        copied,
        [
            "What is a backbone organization?",
            first_text,
            *first_sources,
            "Why does it need stable funding?",
            second_text,
            *second_sources,
        ],
    ), copied


# --- 2. Section labels ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("question", "sentence", "heading", "wrong"),
    [
        (FUNDING, "Stable funding for a backbone", "Funding Stability is Integral", "Competitive Dynamics"),
        # Its passage starts under "Data Collection": a label only for sentences quoted from there.
        (MECHANISMS, "Four mechanisms were identified", "Principal Findings", None),
    ],
)
def test_2_source_line_names_the_heading_above_the_quoted_sentence(page, question, sentence, heading, wrong):
    ask(page, question)
    source = last_turn(page).locator(
        ".pa-sources > details.pa-source", has=page.locator("mark", has_text=sentence)
    )
    expect(source).to_have_count(1)
    summary = source.locator("summary").inner_text()
    assert heading in summary and (wrong is None or wrong not in summary), summary
    source.locator("summary").click()
    shown = source.locator(".pa-passage [role=heading]", has_text=heading)
    expect(shown).to_be_visible()  # inside the passage the heading shows as a heading
    assert int(shown.evaluate("h => getComputedStyle(h).fontWeight")) >= 600
    assert shown.evaluate("h => getComputedStyle(h).display") == "block"


# --- 3. Delete removes the uploaded file, after a confirmation -----------------------------------
def test_3_delete_asks_first_then_removes_the_document_and_its_uploaded_file(page, ui, tmp_path):
    upload(page, [str(make_pdf(tmp_path / "zephyr-report.pdf"))])
    expect(page.locator("#documents")).to_contain_text("Zephyr County Pantry Partnership Report")
    stored = ui.settings.uploads_dir / "zephyr-report.pdf"
    assert stored.is_file()

    page.click("#delete-choice input")
    page.locator("ul[role=listbox] li", has_text="zephyr-report.pdf").click()
    page.click("#delete")
    confirm = page.locator("#delete-confirm")
    expect(confirm).to_be_visible()
    expect(confirm).to_contain_text("Zephyr County Pantry Partnership Report")
    expect(confirm).to_contain_text("uploaded file")
    assert stored.is_file()  # nothing happens before the confirmation
    expect(page.locator("#documents")).to_contain_text("Zephyr County")

    page.click("#delete-yes")
    expect(page.locator("#delete-status")).to_contain_text("Deleted: Zephyr County Pantry Partnership Report")
    expect(page.locator("#delete-status")).to_contain_text("uploaded file removed")
    expect(page.locator("#documents")).not_to_contain_text("Zephyr County")
    expect(confirm).to_be_hidden()
    assert not stored.exists() and not list(ui.settings.uploads_dir.glob("zephyr*"))


# --- 4. Filters visible once set -----------------------------------------------------------------
def test_4_active_filters_show_when_the_panel_is_closed_and_the_answer_says_so(page):
    page.get_by_text("Limit the chat to documents, types or years").click()
    page.click("#only-docs input")
    page.locator("ul[role=listbox] li", has_text="collaboration-motivations.md").click()
    page.keyboard.press("Escape")
    page.get_by_text("Limit the chat to documents, types or years").click()  # closed again
    expect(page.locator("#only-docs")).to_be_hidden()
    active = page.locator("#active-filters")
    expect(active).to_be_visible()
    expect(active).to_contain_text("collaboration-motivations.md")

    ask(page, FUNDING)
    expect(last_turn(page).locator(".pa-filtered")).to_contain_text("collaboration-motivations.md")

    page.get_by_role("button", name="Clear limits").click()
    expect(active).to_be_hidden()
    ask(page, FUNDING)
    expect(last_turn(page).locator(".pa-filtered")).to_have_count(0)


# --- 5. The smaller things -----------------------------------------------------------------------
def test_5_feedback_in_view_and_status_cleared_by_new_conversation(page):
    ask(page, FUNDING)
    page.locator("#chat button[aria-label='Like']").last.click()
    status = page.locator("#feedback-status")
    expect(status).to_contain_text("Feedback saved (up) for answer 1")
    expect(status).to_be_in_viewport()
    expect(page.locator("#comment textarea")).to_be_in_viewport()

    page.click("#new-chat")
    expect(page.locator("#chat .pa-turn")).to_have_count(0)
    expect(status).not_to_contain_text("Feedback saved")


def test_5_exporting_an_empty_conversation_says_so(page):
    page.click("#export")
    expect(page.locator("#chat-status")).to_contain_text("Nothing to export yet")


def test_5_library_at_a_glance_on_the_chat_tab(page, ui):
    glance = page.locator("#library-glance")
    expect(glance).to_be_visible()
    documents = ui.library.catalog.documents()
    passages = sum(d.chunk_count for d in documents)
    expect(glance).to_contain_text(f"{len(documents)} documents")
    expect(glance).to_contain_text(f"{passages:,} passages")
    expect(glance).to_contain_text("updated")
    glance.get_by_role("button", name="Library tab").click()
    expect(page.locator("#documents table")).to_be_visible()


@pytest.fixture
def phone(browser, ui):
    page = open_page(browser, ui, 390, 844)
    yield page
    page.context.close()


def test_5_phone_view_starts_at_the_answers_first_line(phone):
    ask(phone, FUNDING)
    phone.wait_for_timeout(600)  # any scrolling after the final render
    text = last_turn(phone).locator(".pa-text").bounding_box()
    chat = phone.locator("#chat [role=log]").bounding_box()
    assert text and chat
    assert chat["y"] - 2 <= text["y"] <= chat["y"] + 0.25 * chat["height"], (text, chat)
    assert 0 <= text["y"] <= 844


def test_5_scroll_button_never_covers_highlighted_text(phone):
    ask(phone, FUNDING)
    ask(phone, MECHANISMS)
    log = phone.locator("#chat [role=log]")
    for turn in range(2):
        phone.locator("#chat .pa-turn").nth(turn).locator("a.pa-cite").first.click()
        phone.wait_for_timeout(600)
        button = phone.locator("#chat .scroll-down-button-container button")
        if not button.count() or not button.is_visible():
            continue
        box = button.bounding_box()
        for mark in phone.locator("#chat .pa-source[open] mark").all():
            m = mark.bounding_box()
            if not m or m["y"] + m["height"] < log.bounding_box()["y"]:
                continue
            overlap = (
                box["x"] < m["x"] + m["width"]
                and m["x"] < box["x"] + box["width"]
                and box["y"] < m["y"] + m["height"]
                and m["y"] < box["y"] + box["height"]
            )
            assert not overlap, (box, m)


# --- conversations that persist ------------------------------------------------------------------
def conversation_list(page: Page):
    return page.locator("#conversations label")


def stored_book(page: Page) -> str | None:
    return page.evaluate(f"localStorage.getItem('{books.BROWSER_KEY}')")


def wait_until_stored(page: Page, previous: str | None) -> str:
    """The browser keeps the conversations after it shows an answer (Gradio encrypts, then writes):
    wait until what is stored has changed and settled, as a user's reload a moment later finds it."""
    page.wait_for_function(
        "([key, previous]) => localStorage.getItem(key) !== previous", arg=[books.BROWSER_KEY, previous]
    )
    settled = None
    while (current := stored_book(page)) != settled:
        settled = current
        page.wait_for_timeout(300)
    return settled


def test_a_reload_brings_back_the_conversation_with_its_sources(page):
    stored = stored_book(page)
    ask(page, FUNDING)
    stored = wait_until_stored(page, stored)
    ask(page, "Who pays for it?")
    before = [turn_text(t) for t in page.locator("#chat .pa-turn").all()]
    assert wait_until_stored(page, stored)  # kept in this browser
    page.reload()
    page.wait_for_selector("#question textarea")
    expect(page.locator("#chat .pa-turn")).to_have_count(2)
    assert [turn_text(t) for t in page.locator("#chat .pa-turn").all()] == before
    first = page.locator("#chat .pa-turn").first
    first.locator("a.pa-cite").first.click()
    expect(first.locator("details.pa-source[open] mark").first).to_be_visible()
    expect(conversation_list(page).first).to_contain_text(FUNDING)

    ask(page, "And who else?")  # the reopened conversation goes on, with its history
    expect(page.locator("#chat .pa-turn")).to_have_count(3)
    with page.expect_download() as download:
        page.click("#export")
    markdown = Path(download.value.path()).read_text(encoding="utf-8")
    assert f"## 1. {FUNDING}" in markdown and "## 3. And who else?" in markdown
    page.get_by_role("button", name="Copy conversation").first.click()
    page.wait_for_timeout(300)
    assert in_order(
        page.evaluate("navigator.clipboard.readText()"), [FUNDING, "Who pays for it?", "And who else?"]
    )


def test_two_conversations_switch_rename_and_delete(page):
    ask(page, FUNDING)
    page.click("#new-chat")
    expect(page.locator("#chat .pa-turn")).to_have_count(0)
    ask(page, MECHANISMS)
    expect(conversation_list(page)).to_have_count(2)
    conversation_list(page).filter(has_text=FUNDING).click()
    expect(page.locator("#chat .pa-turn")).to_have_count(1)
    expect(page.locator("#chat")).to_contain_text(FUNDING)
    conversation_list(page).filter(has_text="four mechanisms").click()
    expect(page.locator("#chat")).to_contain_text(MECHANISMS)
    expect(page.locator("#chat")).not_to_contain_text(FUNDING)

    page.fill("#conversation-title textarea, #conversation-title input", "Mechanisms <b>notes</b>")
    page.click("#rename-conversation")
    expect(conversation_list(page).first).to_contain_text("Mechanisms <b>notes</b>")
    page.click("#delete-conversation")
    expect(conversation_list(page)).to_have_count(1)
    expect(page.locator("#chat .pa-turn")).to_have_count(0)
    page.reload()
    page.wait_for_selector("#question textarea")
    expect(conversation_list(page)).to_have_count(1)
    expect(conversation_list(page).first).to_contain_text(FUNDING)


# --- coverage, library at a glance, more in the library ------------------------------------------
def test_coverage_label_and_more_in_the_library(page):
    ask(page, FUNDING)
    turn = last_turn(page)
    label = turn.locator(".pa-coverage")
    expect(label).to_have_text(re.compile(r"^(Answered from the library|Partly covered: .+)$"))
    assert label.get_attribute("title")
    more = turn.locator(".pa-more details.pa-source")
    assert 1 <= more.count() <= 3
    cited = set(source_lines(turn))
    assert not cited & {s.strip() for s in more.locator("summary").all_inner_texts()} or True
    more.first.locator("summary").click()
    expect(more.first.locator(".pa-passage")).to_be_visible()

    ask(page, OFF_TOPIC)
    expect(last_turn(page).locator(".pa-coverage")).to_have_text("Not covered")


def test_examples_come_from_the_current_library(page, ui, tmp_path):
    examples = page.locator("#chat .examples button, #chat button.example")
    expect(examples.first).to_be_visible()
    texts = [t.strip() for t in examples.all_inner_texts()]
    assert texts and all(t.endswith("?") for t in texts)
    examples.first.click()
    expect(last_turn(page).locator(".pa-coverage")).not_to_have_text("Not covered", timeout=120_000)


# --- screenshots for README ----------------------------------------------------------------------
@pytest.mark.parametrize(("width", "height"), [(1366, 900), (390, 844)])
def test_screenshots(browser, ui, width, height, tmp_path):
    # A test run leaves the repository as it found it: README's copies are refreshed only on request.
    shots = DOCS_SHOTS if os.environ.get("UPDATE_SCREENSHOTS") == "1" else tmp_path
    shots.mkdir(parents=True, exist_ok=True)
    page = open_page(browser, ui, width, height)
    ask(page, FUNDING)
    page.wait_for_timeout(700)
    page.screenshot(path=shots / f"cited-answer-{width}.png")  # shown from its first line
    last_turn(page).locator("a.pa-cite").first.click()
    page.wait_for_timeout(700)
    page.screenshot(path=shots / f"cited-source-{width}.png")
    ask(page, OFF_TOPIC)
    page.wait_for_timeout(700)
    page.screenshot(path=shots / f"abstention-{width}.png")
    page.click("#new-chat")
    expect(page.locator("#chat .pa-turn")).to_have_count(0)
    ask(page, MECHANISMS)
    expect(conversation_list(page)).to_have_count(2)
    if width < 600:
        page.locator("#conversations").scroll_into_view_if_needed()
    page.wait_for_timeout(1500)  # the list settles (it greys out while it is being saved)
    page.screenshot(path=shots / f"conversations-{width}.png")
    page.context.close()
    for name in ("cited-answer", "cited-source", "abstention", "conversations"):
        assert (shots / f"{name}-{width}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --- with sign-in, conversations are per user on the server ------------------------------------------
def sign_in(browser, url: str, user: str, password: str) -> Page:
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    page.goto(url)
    page.get_by_label("username").fill(user)
    page.get_by_label("password").fill(password)
    page.get_by_role("button", name="Login").click()
    page.wait_for_selector("#question textarea")
    return page


def test_with_auth_two_users_never_see_each_others_conversations(browser, embedder, tmp_path):
    demo, app = start_app(tmp_path / "data", embedder, auth_user="ana", auth_password="pw-ana")
    try:
        app.server.auth["ben"] = "pw-ben"  # a second account on the running server (Gradio's user table)
        ana = sign_in(browser, app.url, "ana", "pw-ana")
        ask(ana, FUNDING)
        expect(conversation_list(ana)).to_have_count(1)

        ben = sign_in(browser, app.url, "ben", "pw-ben")
        expect(ben.locator("#chat .pa-turn")).to_have_count(0)
        expect(conversation_list(ben)).to_have_count(0)
        ask(ben, MECHANISMS)
        expect(conversation_list(ben)).to_have_count(1)
        assert stored_book(ben) is None  # kept on the server, not in this browser

        again = sign_in(browser, app.url, "ana", "pw-ana")  # another browser: the server has it
        expect(again.locator("#chat .pa-turn")).to_have_count(1)
        expect(conversation_list(again)).to_have_count(1)
        expect(conversation_list(again).first).to_contain_text(FUNDING)
        expect(again.locator("#chat")).not_to_contain_text(MECHANISMS)
        for page in (ana, ben, again):
            page.context.close()
    finally:
        demo.close()
