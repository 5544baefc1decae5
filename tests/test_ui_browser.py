"""The chat UI in a real browser (Debian's chromium driven by Playwright) against the real app.

Screenshots go to test-artifacts/. With EXORAG_UPDATE_SCREENSHOT=1 the chat screenshot also
replaces docs/screenshot-chat.png, the one the README shows.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from fake_llm import fake_llm
from pdf_factory import make_pdf, make_truncated_pdf
from playwright.sync_api import Browser, Download, Locator, Page, expect, sync_playwright

from exorag.config import Settings, get_settings
from exorag.store.stats import index_stats
from ui.app import serve

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
ANSWER_TIMEOUT_MS = 60_000
T_CELLS = "How do tumour exosomes blunt T cells?"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium; .ci/run does it)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def running_app(settings: Settings) -> Iterator[str]:
    port = free_port()
    app = serve(settings, "127.0.0.1", port, block=False)
    yield f"http://127.0.0.1:{port}/"
    app.close()


@pytest.fixture(scope="module")
def chat_url(indexed_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    feedback = tmp_path_factory.mktemp("browser-feedback") / "feedback.sqlite3"
    yield from running_app(indexed_settings.model_copy(update={"feedback_db": feedback}))


@pytest.fixture(scope="module")
def upload_settings(indexed_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A copy of the bundled corpus and index that the upload tests may change."""
    base = tmp_path_factory.mktemp("upload")
    shutil.copytree(indexed_settings.corpus, base / "corpus")
    shutil.copytree(indexed_settings.index, base / "index")
    return get_settings(corpus=base / "corpus", index=base / "index")


@pytest.fixture(scope="module")
def upload_url(upload_settings: Settings) -> Iterator[str]:
    yield from running_app(upload_settings)


SLOW_REPLY = "Tumour exosomes carry PD-L1, which binds PD-1 on T cells and suppresses their activation [1]."
SLOW_WORD_S = 0.3  # a word every 0.3 s, as a local LLM on two cores writes: time for the user to act


@pytest.fixture(scope="module")
def slow_llm_url(indexed_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    feedback = tmp_path_factory.mktemp("slow-feedback") / "feedback.sqlite3"
    with fake_llm(SLOW_REPLY, word_s=SLOW_WORD_S) as base_url:
        yield from running_app(indexed_settings.model_copy(
            update={"feedback_db": feedback, "generator": "llm", "llm_base_url": base_url}))


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page that remembers every host it sent a request to."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    opened = context.new_page()
    opened.hosts = set()  # type: ignore[attr-defined]
    opened.on("request", lambda request: opened.hosts.add(urlparse(request.url).hostname))  # type: ignore[attr-defined]
    yield opened
    context.close()


def ask(page: Page, question: str) -> None:
    box = page.locator("#xr-question textarea")
    box.fill(question)
    box.press("Enter")


def shown_file_name(name: str) -> re.Pattern[str]:
    """Gradio shows a file's stem and extension in separate elements; some Chromium builds put a space between."""
    stem, dot, extension = name.rpartition(".")
    return re.compile(re.escape(stem) + r"\s*" + re.escape(dot + extension))


def fill_paper_form(page: Page, pdf: Path, number: int) -> None:
    """On the "Add a paper" tab: choose ``pdf``, wait until it is uploaded, and type its number."""
    page.get_by_role("tab", name="Add a paper").click()
    page.locator("#xr-upload input[type=file]").set_input_files(str(pdf))
    expect(page.locator("#xr-upload")).to_contain_text(shown_file_name(pdf.name), timeout=10_000)
    box = page.locator("#xr-ref-number input")
    box.fill(str(number))
    box.press("Tab")  # the number reaches the app when the box loses focus
    expect(box).to_have_value(str(number))


def download_ending_in(page: Page, button: Locator, suffix: str, timeout_s: float = 10.0) -> Download:
    """What ``button`` downloads once its file ends in ``suffix`` (or after ``timeout_s``): the event that
    replaces the file behind it (a new citation format, say) may still be in flight when it is first clicked."""
    deadline = time.monotonic() + timeout_s
    while True:
        with page.expect_download() as started:
            button.click()
        if started.value.suggested_filename.endswith(suffix) or time.monotonic() > deadline:
            return started.value
        page.wait_for_timeout(250)


def last_answer(page: Page):
    return page.locator("#xr-conversation .xr-turn:not(.xr-pending)").last


def test_a_question_gets_cited_sentences_whose_chip_opens_the_evidence(page, chat_url):
    page.goto(chat_url, wait_until="load")
    ask(page, T_CELLS)
    chip = page.locator('#xr-conversation button.xr-chip[data-turn="0"][data-sentence="0"]')
    expect(chip).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    assert re.fullmatch(r"\[.+\]", chip.inner_text())
    expect(page.locator("#xr-conversation .xr-meta").first).to_contain_text("generator: extractive")

    chip.click()
    panel = page.locator("#xr-evidence .xr-evidence")
    expect(panel).to_contain_text("Evidence for", timeout=10_000)
    expect(panel.locator("mark").first).to_be_visible()
    expect(panel).to_contain_text("review/review-analysis.txt")
    expect(panel.locator(".xr-facts")).to_contain_text("Section")
    expect(chip).to_have_class(re.compile("xr-chip-active"))
    page.mouse.move(0, 0)  # no hover effect in the screenshot
    page.wait_for_timeout(300)
    screenshot(page, "chat-evidence.png")
    if os.environ.get("EXORAG_UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(ARTIFACTS / "chat-evidence.png", ROOT / "docs" / "screenshot-chat.png")
    assert page.hosts == {"127.0.0.1"}  # type: ignore[attr-defined]


def test_an_unanswerable_question_is_shown_as_an_abstention(page, chat_url):
    page.goto(chat_url, wait_until="load")
    ask(page, "What is the capital of France?")
    abstention = page.locator("#xr-conversation .xr-abstained")
    expect(abstention).to_contain_text("No answer from the indexed literature", timeout=ANSWER_TIMEOUT_MS)
    assert abstention.locator('button.xr-chip:not([data-sentence="-1"])').count() == 0
    abstention.locator('button.xr-chip[data-sentence="-1"]').click()
    expect(page.locator("#xr-evidence .xr-passage").first).to_be_visible(timeout=10_000)
    screenshot(page, "chat-abstention.png")


def test_a_yes_no_answer_shows_its_verdict_and_which_passage_gives_it(page, chat_url):
    page.goto(chat_url, wait_until="load")
    ask(page, "Does hypoxia increase exosome release?")
    verdict = last_answer(page).locator(".xr-verdict")
    expect(verdict).to_contain_text("Yes", timeout=ANSWER_TIMEOUT_MS)
    expect(verdict.locator(".xr-verdict-tally")).to_contain_text("[13-16]")


def test_an_example_then_a_follow_up_shows_how_it_was_read(page, chat_url):
    page.goto(chat_url, wait_until="load")
    page.locator("#xr-examples button").filter(has_text="melanoma").click()
    expect(page.locator("#xr-conversation .xr-turn:not(.xr-pending)")).to_have_count(1, timeout=ANSWER_TIMEOUT_MS)
    ask(page, "and in the liver?")
    expect(page.locator("#xr-conversation .xr-turn:not(.xr-pending)")).to_have_count(2, timeout=ANSWER_TIMEOUT_MS)
    reading = last_answer(page).locator(".xr-read-as")
    expect(reading.locator("p")).to_be_hidden()
    reading.locator("summary").click()
    expect(reading).to_contain_text("read as: How do melanoma exosomes choose the organ where cancer spreads")


def test_new_chat_while_an_answer_is_written_stops_it_and_stays_empty(page, slow_llm_url):
    page.goto(slow_llm_url, wait_until="load")
    ask(page, T_CELLS)
    expect(page.locator("#xr-conversation .xr-draft")).to_contain_text("PD-L1", timeout=ANSWER_TIMEOUT_MS)
    page.locator("#xr-new-chat").click()
    expect(page.locator("#xr-conversation .xr-welcome")).to_be_visible(timeout=10_000)
    # Long enough for the whole reply to have been written and verified, had it not been stopped.
    page.wait_for_timeout(int(len(SLOW_REPLY.split()) * SLOW_WORD_S * 1000) + 5_000)
    expect(page.locator("#xr-conversation .xr-welcome")).to_be_visible()
    expect(page.locator("#xr-conversation .xr-turn")).to_have_count(0)


def test_a_question_typed_while_an_answer_is_written_stays_and_gets_its_own_turn(page, slow_llm_url):
    page.goto(slow_llm_url, wait_until="load")
    ask(page, T_CELLS)
    expect(page.locator("#xr-conversation .xr-draft")).to_contain_text("PD-L1", timeout=ANSWER_TIMEOUT_MS)
    box = page.locator("#xr-question textarea")
    box.fill("Which integrins decide where melanoma exosomes go?")
    page.wait_for_timeout(int(4 * SLOW_WORD_S * 1000))  # several words streamed meanwhile
    expect(box).to_have_value("Which integrins decide where melanoma exosomes go?")
    box.press("Enter")
    expect(page.locator("#xr-conversation .xr-turn:not(.xr-pending)")).to_have_count(2, timeout=ANSWER_TIMEOUT_MS)
    expect(page.locator("#xr-conversation")).to_contain_text("Which integrins decide where melanoma exosomes go?")


def test_rating_and_downloading_an_answer(page, chat_url):
    page.goto(chat_url, wait_until="load")
    ask(page, T_CELLS)
    expect(page.locator("#xr-conversation button.xr-chip").first).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    page.locator("#xr-comment textarea, #xr-comment input").first.fill("Exactly the passage I needed")
    page.locator("#xr-thumbs-up").click()
    expect(page.locator("#xr-feedback-status")).to_contain_text("rated helpful", timeout=10_000)

    download_button = page.locator("#xr-download-answer")
    expect(download_button).to_be_enabled(timeout=10_000)
    with page.expect_download() as started:
        download_button.click()
    text = Path(started.value.path()).read_text(encoding="utf-8")
    assert text.startswith("# exorag answer") and f"## {T_CELLS}" in text and "### Evidence" in text


def test_an_uploaded_pdf_is_indexed_cited_and_its_page_linked(page, upload_url, upload_settings, tmp_path):
    finding = ("Pancreatic tumour exosomes carry the protein NKS-901, which silences natural killer cells and lets "
               "the tumour escape immune attack.")
    paper = make_pdf(tmp_path / "NK cells (2024).pdf", [
        ["# Exosomes in pancreatic cancer", "We studied exosomes from pancreatic tumours in a cohort of patients."],
        ["# Results", finding],
    ], title="NKS-901 exosomes silence NK cells")
    page.goto(upload_url, wait_until="load")
    fill_paper_form(page, paper, 901)
    page.locator("#xr-add-paper").click()
    status = page.locator("#xr-upload-status .xr-notice-ok")
    expect(status).to_contain_text("Added literature/901_nk-cells-2024.pdf as reference [901]", timeout=ANSWER_TIMEOUT_MS)
    expect(page.locator("#xr-upload")).not_to_contain_text(shown_file_name(paper.name))  # the form is emptied for the next paper
    screenshot(page, "upload-added.png")
    assert (upload_settings.corpus / "literature" / "901_nk-cells-2024.pdf").read_bytes() == paper.read_bytes()

    page.get_by_role("tab", name="Chat").click()
    ask(page, "Which exosomal protein silences natural killer cells in pancreatic tumours?")
    chip = page.locator("#xr-conversation button.xr-chip").filter(has_text="901").first
    expect(chip).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    chip.click()
    panel = page.locator("#xr-evidence .xr-evidence")
    expect(panel).to_contain_text("NKS-901", timeout=10_000)
    expect(panel.locator("dt:text-is('Page') + dd").first).to_have_text("2")
    link = panel.locator('a[href*="901_nk-cells-2024.pdf#page=2"]').first
    expect(link).to_be_visible()
    screenshot(page, "upload-cited.png")
    response = page.request.get(link.evaluate("a => a.href").split("#")[0])
    assert response.status == 200 and response.body().startswith(b"%PDF")
    panel.locator("button.xr-open-pdf").first.click()  # the uploaded paper opens at the cited sentence
    expect(page.locator("#xr-pdf .xr-pdf-title")).to_contain_text("901_nk-cells-2024.pdf, page 2", timeout=10_000)
    expect(page.locator("#xr-pdf .xr-pdf-box").first).to_be_visible()


def test_a_corrupt_pdf_is_refused_and_changes_nothing(page, upload_url, upload_settings, tmp_path):
    chunks_before = index_stats(upload_settings)["chunks"]
    files_before = sorted(p.name for p in (upload_settings.corpus / "literature").glob("*"))
    corrupt = make_truncated_pdf(tmp_path / "interrupted download.pdf")
    page.goto(upload_url, wait_until="load")
    fill_paper_form(page, corrupt, 902)
    page.locator("#xr-add-paper").click()
    error = page.locator("#xr-upload-status .xr-notice-error")
    expect(error).to_contain_text("corrupt or truncated PDF", timeout=ANSWER_TIMEOUT_MS)
    expect(error).to_contain_text("Nothing was saved")
    screenshot(page, "upload-refused.png")
    assert sorted(p.name for p in (upload_settings.corpus / "literature").glob("*")) == files_before
    assert index_stats(upload_settings)["chunks"] == chunks_before



@pytest.fixture(scope="module")
def two_column_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Settings]]:
    """The app over a corpus whose cited paper is a two-column PDF (tests/two_column_corpus.py)."""
    from two_column_corpus import build_two_column_corpus

    settings = build_two_column_corpus(tmp_path_factory.mktemp("two-column"))
    for url in running_app(settings):
        yield url, settings


def in_css_pixels(char: tuple[float, float, float, float], image: dict, width: float, height: float) -> tuple[float, float]:
    """The centre of a character box (PDF points from the top-left) on the page image in the browser."""
    return (image["x"] + (char[0] + char[2]) / 2 / width * image["width"],
            image["y"] + (char[1] + char[3]) / 2 / height * image["height"])


def test_open_in_pdf_boxes_exactly_the_cited_sentence_on_a_two_column_page(page, two_column_app):
    import pypdfium2 as pdfium
    import rispy
    from pdf_factory import char_boxes
    from two_column_corpus import PAPER_FILE, PAPER_TITLE, QUESTION, TARGET

    url, settings = two_column_app
    page.goto(url, wait_until="load")
    ask(page, QUESTION)
    chip = page.locator("#xr-conversation button.xr-chip").filter(has_text="905").first
    expect(chip).to_be_visible(timeout=ANSWER_TIMEOUT_MS)
    chip.click()
    panel = page.locator("#xr-evidence .xr-evidence")
    expect(panel.locator("button.xr-open-pdf").first).to_be_visible(timeout=10_000)
    sentence = panel.locator(".xr-ev-for q").inner_text()
    assert " ".join(sentence.split()) == TARGET  # the extractive answer quotes the paper's sentence
    panel.locator("button.xr-open-pdf").first.click()
    page_view = page.locator("#xr-pdf .xr-pdf-page").first
    expect(page_view.locator("img")).to_be_visible(timeout=10_000)
    expect(page.locator("#xr-pdf .xr-pdf-title")).to_contain_text(f"{PAPER_FILE}, page 1")

    # Check the boxes against the PDF's own character positions, in the browser's pixels.
    pdf = settings.corpus / PAPER_FILE
    text, chars = char_boxes(pdf, 1)
    width, height = pdfium.PdfDocument(pdf)[0].get_size()
    image = page_view.locator("img").bounding_box()
    boxes = [box.bounding_box() for box in page_view.locator(".xr-pdf-box").all()]
    match = re.search(r"\s+".join(re.escape(word) for word in TARGET.split()), text)
    assert match and "\n" in text[match.start() : match.end()], "the sentence must break across a line"

    def boxed(index: int) -> bool:
        x, y = in_css_pixels(chars[index], image, width, height)
        return any(b["x"] <= x <= b["x"] + b["width"] and b["y"] <= y <= b["y"] + b["height"] for b in boxes)

    visible = [i for i, c in enumerate(text) if not c.isspace() and chars[i][2] > chars[i][0]]
    inside = [i for i in visible if match.start() <= i < match.end()]
    assert all(boxed(i) for i in inside if text[i].isalnum())
    assert [text[i] for i in visible if not match.start() <= i < match.end() and boxed(i)] == []
    assert len(boxes) == text[match.start() : match.end()].count("\n") + 1  # one box a line
    assert min(b["x"] for b in boxes) > image["x"] + image["width"] / 2  # in the right column

    page.locator("#xr-pdf .xr-pdf-box").first.scroll_into_view_if_needed()
    page.mouse.move(0, 0)
    page.wait_for_timeout(300)
    screenshot(page, "pdf-highlight.png")
    if os.environ.get("EXORAG_UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(ARTIFACTS / "pdf-highlight.png", ROOT / "docs" / "screenshot-pdf.png")

    page.locator("#xr-pdf .xr-pdf-close").click()
    expect(page.locator("#xr-pdf .xr-pdf-view")).to_be_hidden()

    # The conversation's references download as RIS with the paper's imported record.
    page.locator("#xr-cite-format input").click()
    page.get_by_role("option", name="RIS").click()
    download_button = page.locator("#xr-download-references")
    expect(download_button).to_be_enabled(timeout=10_000)
    download = download_ending_in(page, download_button, ".ris")
    assert download.suggested_filename.endswith(".ris")
    records = rispy.loads(Path(download.path()).read_text(encoding="utf-8"))
    assert [(r["id"], r["title"]) for r in records] == [("nakamura2024", PAPER_TITLE)]
    assert page.hosts == {"127.0.0.1"}  # type: ignore[attr-defined]
