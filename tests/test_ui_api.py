"""The chat UI's API, driven through gradio_client against the real app on a loopback port."""

from __future__ import annotations

import ipaddress
import os
import re
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from html import escape
from pathlib import Path

import httpx
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from exorag.config import Settings, get_settings
from exorag.feedback import MAX_COMMENT_CHARACTERS, FeedbackStore
from exorag.models import Answer
from ui.app import EXAMPLE_QUESTIONS, UiSettingError, build_app, serve, ui_login
from ui.handlers import ChatHandlers

OPTIONS = ("extractive", 6, "all", [], "")  # generator, passages, source, sections, reference numbers
T_CELLS = "How do tumour exosomes blunt T cells?"
ROOT = Path(__file__).resolve().parent.parent

outbound: list[str] = []
_watching: list[bool] = []


def _is_loopback(host: object) -> bool:
    if host in (None, "localhost"):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _record_outbound(event: str, args: tuple) -> None:
    """Audit hook: every connection or name lookup this process makes to anything but loopback."""
    if not _watching:
        return
    if event == "socket.connect" and isinstance(args[1], tuple) and not _is_loopback(args[1][0]):
        outbound.append(f"connect {args[1]}")
    elif event == "socket.getaddrinfo" and not _is_loopback(args[0]):
        outbound.append(f"lookup {args[0]}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def ui_settings(indexed_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """The shared index, with feedback written to a folder of this module's own."""
    return indexed_settings.model_copy(update={"feedback_db": tmp_path_factory.mktemp("feedback") / "feedback.sqlite3"})


@pytest.fixture(scope="module")
def ui_url(ui_settings: Settings):
    if not _watching:
        sys.addaudithook(_record_outbound)
        _watching.append(True)
    outbound.clear()
    port = free_port()
    app = serve(ui_settings, "127.0.0.1", port, block=False)
    yield f"http://127.0.0.1:{port}/"
    app.close()


def client(url: str, **kwargs) -> Client:
    return Client(url, verbose=False, download_files=False, **kwargs)


def downloaded(button_update: dict) -> str:
    """The text a browser gets when the user clicks a download button the app just updated."""
    response = httpx.get(button_update["value"]["url"])
    response.raise_for_status()
    return response.text


def test_ask_streams_the_draft_then_shows_the_cited_answer(ui_url):
    job = client(ui_url).submit(T_CELLS, *OPTIONS, api_name="/ask")
    conversation, question_box, answer_file, conversation_file = job.result(timeout=120)
    drafts = [output[0] for output in job.outputs()[:-1]]
    assert drafts and "xr-pending" in drafts[0] and "Searching the literature" in drafts[0]
    assert "xr-pending" not in conversation and 'class="xr-chip"' in conversation
    # The box is emptied when the question is taken, and then left to what the user types next.
    assert job.outputs()[0][1] == "" and question_box == {"__type__": "update"}
    markdown = downloaded(answer_file)
    assert markdown.startswith("# exorag answer") and f"## {T_CELLS}" in markdown
    assert downloaded(conversation_file).startswith("# exorag conversation")


def test_a_follow_up_is_rewritten_and_the_reading_shown_on_request(ui_url):
    session = client(ui_url)
    session.predict("How do melanoma exosomes choose the organ where cancer spreads?", *OPTIONS, api_name="/ask")
    conversation, _, _, conversation_file = session.predict("and in the liver?", *OPTIONS, api_name="/ask")
    assert conversation.count('class="xr-turn"') == 2
    assert '<details class="xr-read-as">' in conversation and "read as: <q>How do melanoma exosomes" in conversation
    exported = downloaded(conversation_file)
    assert "## 1. How do melanoma exosomes" in exported and "## 2. and in the liver?" in exported


def test_a_question_asked_while_another_is_answered_keeps_both_answers(ui_url):
    # Enter pressed, then an example clicked before the answer came: both run at once in one session.
    session = client(ui_url)
    questions = [T_CELLS, "How does hypoxia change what liver cancer exosomes carry?", EXAMPLE_QUESTIONS[0]]
    jobs = [session.submit(question, *OPTIONS, api_name="/ask") for question in questions[:2]]
    for job in jobs:
        job.result(timeout=300)
    conversation = session.predict(questions[2], *OPTIONS, api_name="/ask")[0]
    assert conversation.count('class="xr-turn"') == 3
    assert all(escape(question) in conversation for question in questions)


def test_feedback_is_stored_with_the_question_and_the_answer_json(ui_url, ui_settings):
    session = client(ui_url)
    session.predict(T_CELLS, *OPTIONS, api_name="/ask")
    status, comment_box = session.predict("Cites the right passage", api_name="/rate_not_helpful")
    assert "rated not helpful" in status and comment_box == ""
    record = FeedbackStore(ui_settings.feedback_db).records()[-1]
    assert (record["question"], record["rating"], record["comment"], record["channel"]) == (
        T_CELLS, -1, "Cites the right passage", "ui")
    assert Answer.model_validate(record["answer"]).question == T_CELLS


def test_a_comment_past_the_limit_is_refused_and_kept_in_its_box(ui_url, ui_settings):
    # The rating endpoint is open to any client of the UI: a 20 MB comment was stored whole.
    session = client(ui_url)
    session.predict(T_CELLS, *OPTIONS, api_name="/ask")
    before = len(FeedbackStore(ui_settings.feedback_db).records())
    long_comment = "x" * (MAX_COMMENT_CHARACTERS + 1)
    status, comment_box = session.predict(long_comment, api_name="/rate_helpful")
    assert "Not stored" in status and f"at most {MAX_COMMENT_CHARACTERS:,}" in status and comment_box == long_comment
    assert len(FeedbackStore(ui_settings.feedback_db).records()) == before
    status, _ = session.predict("x" * MAX_COMMENT_CHARACTERS, api_name="/rate_helpful")
    assert "rated helpful" in status and len(FeedbackStore(ui_settings.feedback_db).records()) == before + 1


def test_rating_before_any_answer_stores_nothing(ui_url, ui_settings):
    before = len(FeedbackStore(ui_settings.feedback_db).records())
    status, _ = client(ui_url).predict("", api_name="/rate_helpful")
    assert "Ask a question first" in status
    assert len(FeedbackStore(ui_settings.feedback_db).records()) == before


def test_the_answer_endpoint_returns_the_answer_json(ui_url):
    result = client(ui_url).predict(T_CELLS, api_name="/answer")
    answer = Answer.model_validate(result)
    assert not answer.abstained and answer.sentences and answer.generator == "extractive"
    assert {"question", "answer", "abstained", "sentences", "evidence", "references", "generator", "timings_ms"} <= set(result)


def test_an_unreadable_reference_filter_is_refused_with_a_clear_message(ui_url):
    with pytest.raises(AppError, match="Reference numbers: cannot read 'PD-L1 papers'"):
        client(ui_url).predict(T_CELLS, "extractive", 6, "all", [], "PD-L1 papers", api_name="/ask")


def test_filters_reach_retrieval(ui_url):
    api = client(ui_url)
    only_170 = api.predict(T_CELLS, "extractive", 6, "review", [], "170-172", api_name="/answer")
    assert only_170["evidence"] and all({170, 171, 172} & set(e["refs"]) for e in only_170["evidence"])
    section = "EGFRvIII Transfer in Glioblastoma"
    one_section = api.predict(T_CELLS, "extractive", 6, "all", [section], "", api_name="/answer")
    assert one_section["evidence"] and {e["section"] for e in one_section["evidence"]} == {section}


def test_the_coverage_tab_lists_the_numbers_the_review_cites(ui_url):
    table = client(ui_url).predict(api_name="/coverage")
    assert "<td>[170]</td>" in table and "<td>[59]</td>" in table
    assert re.search(r"<b>\d+</b> nothing", table)


def test_ten_people_asking_at_once_are_all_served(ui_url):
    questions = [*EXAMPLE_QUESTIONS, "What is the capital of France?"][:10]

    def ask(question: str) -> str:
        return client(ui_url).predict(question, *OPTIONS, api_name="/ask")[0]

    with ThreadPoolExecutor(max_workers=10) as pool:
        conversations = list(pool.map(ask, questions))
    assert len(conversations) == 10
    for question, conversation in zip(questions, conversations):
        assert escape(question) in conversation
        assert 'class="xr-chip"' in conversation or "xr-abstained" in conversation


def test_only_files_in_the_corpus_folders_can_be_fetched(ui_url, ui_settings):
    review = (ui_settings.corpus / "review" / "review-analysis.txt").resolve()
    assert httpx.get(f"{ui_url}gradio_api/file={review}").status_code == 403  # in a served folder, but no PDF
    escaping = f"{review.parent}/../../index/chroma/chroma.sqlite3"
    for private in ("/etc/passwd", str((ui_settings.index / "chroma" / "chroma.sqlite3").resolve()), escaping):
        assert httpx.get(f"{ui_url}gradio_api/file={private}").status_code in (403, 404)


def test_on_loopback_it_answers_only_requests_addressed_to_a_loopback_name(ui_url):
    port = ui_url.rstrip("/").rsplit(":", 1)[1]
    ask = {"data": [T_CELLS]}
    # What a page does after pointing its own name at 127.0.0.1 (DNS rebinding): its Host is its own name.
    rebound = httpx.post(f"{ui_url}gradio_api/call/answer", json=ask, headers={"Host": f"attacker.example:{port}"})
    local = httpx.post(f"{ui_url}gradio_api/call/answer", json=ask, headers={"Host": f"localhost:{port}"})
    assert rebound.status_code == 400 and "event_id" not in rebound.text
    assert local.status_code == 200 and local.json()["event_id"]


def test_nothing_left_the_machine_while_serving(ui_url):
    assert outbound == []


def test_login_is_required_when_set(indexed_settings):
    port = free_port()
    app = serve(indexed_settings, "127.0.0.1", port, block=False, auth=("scientist", "s3cret"))
    url = f"http://127.0.0.1:{port}/"
    try:
        assert httpx.get(f"{url}config").status_code == 401
        with pytest.raises(ValueError, match="Could not login"):
            client(url, auth=("scientist", "wrong"))
        result = client(url, auth=("scientist", "s3cret")).predict(T_CELLS, api_name="/answer")
        assert result["question"] == T_CELLS
    finally:
        app.close()


def test_the_login_setting_is_read_as_user_and_password(monkeypatch):
    monkeypatch.setenv("EXORAG_UI_AUTH", "scientist:pass:word")
    assert ui_login(get_settings()) == ("scientist", "pass:word")
    monkeypatch.setenv("EXORAG_UI_AUTH", "")
    assert ui_login(get_settings()) is None
    monkeypatch.setenv("EXORAG_UI_AUTH", "no-password")
    with pytest.raises(UiSettingError, match="EXORAG_UI_AUTH: expected user:password"):
        ui_login(get_settings())


def test_serve_command_refuses_a_malformed_login_setting(tmp_path):
    environment = {**os.environ, "EXORAG_UI_AUTH": "no-password"}
    result = subprocess.run(
        [sys.executable, "-m", "exorag.cli", "serve", "--port", str(free_port()), "--index", str(tmp_path / "index")],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 2
    assert "EXORAG_UI_AUTH: expected user:password" in result.stderr


def test_the_llm_is_offered_only_when_one_is_configured(indexed_settings):
    def generator_choices(settings: Settings) -> list[str]:
        radio = next(b for b in build_app(settings).blocks.values() if getattr(b, "label", None) == "Generator")
        return [value for _, value in radio.choices]

    assert generator_choices(indexed_settings) == ["extractive"]
    configured = indexed_settings.model_copy(update={"llm_base_url": "http://127.0.0.1:9/v1"})
    assert generator_choices(configured) == ["extractive", "llm"]


def test_a_failing_generator_shows_as_an_error_turn_not_a_crash(indexed_settings):
    unreachable = indexed_settings.model_copy(update={"llm_base_url": f"http://127.0.0.1:{free_port()}/v1"})
    updates = list(ChatHandlers(unreachable).ask(T_CELLS, [], "llm", 6, "all", [], ""))
    conversation, turns = updates[-1][0], updates[-1][1]
    assert "xr-error" in conversation and "Could not answer" in conversation
    assert turns[-1].answer is None and turns[-1].error


def test_the_chat_stopped_by_a_service_manager_removes_its_temporary_downloads(indexed_settings: Settings, tmp_path: Path):
    # SIGTERM (systemd, docker stop) ended the process without its exit handlers: every run left a
    # folder of answer downloads in the temporary directory.
    port, temporary = free_port(), tmp_path / "tmp"
    temporary.mkdir()
    environment = {**os.environ, "TMPDIR": str(temporary), "HF_HUB_OFFLINE": "1"}
    command = [sys.executable, "-c", "from exorag.cli import main; main()", "serve", "--port", str(port),
               "--index", str(indexed_settings.index), "--corpus", str(indexed_settings.corpus)]
    server = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline and server.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        assert server.poll() is None and list(temporary.glob("exorag-exports-*"))
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    finally:
        if server.poll() is None:
            server.kill()
    assert not list(temporary.glob("exorag-exports-*")), server.stderr.read().decode()[-2000:]


def test_of_the_corpus_folders_only_pdfs_reach_the_browser(ui_url, ui_settings):
    # Gradio serves whole folders: an HTML page saved among the papers ran its scripts as the app.
    literature = (ui_settings.corpus / "literature").resolve()
    page, paper = literature / "999_saved_page.html", literature / "999_paper.pdf"
    page.write_text("<script>fetch('/gradio_api/queue/join')</script>", encoding="utf-8")
    paper.write_bytes(b"%PDF-1.4\n%%EOF\n")
    outside = ui_settings.corpus.parent / "elsewhere"
    outside.mkdir(exist_ok=True)
    link = literature / "999_link"
    link.symlink_to(outside, target_is_directory=True)
    try:
        # both of Gradio's file routes, and a ".." after a link, which Gradio reads as text
        for asked in (f"gradio_api/file={page}", f"gradio_api/file/{page}", f"gradio_api/file={link}/../{page.name}",
                      f"gradio_api/file={link}/%2e%2e/{page.name}", f"gradio_api/file={os.path.relpath(page)}"):
            refused = httpx.get(f"{ui_url}{asked}")
            assert refused.status_code in (403, 404) and "<script>" not in refused.text, asked
        served = httpx.get(f"{ui_url}gradio_api/file={paper}")
        assert served.status_code == 200 and served.content.startswith(b"%PDF")
    finally:
        page.unlink()
        paper.unlink()
        link.unlink()
