"""The Gradio chat: streamed answers whose citation chips open the evidence behind each sentence.

``build_app(settings)`` makes the Blocks; ``serve(settings, host, port)`` warms the pipeline, queues
requests and listens (127.0.0.1 unless told otherwise). The app is a view: retrieval, generation,
citation and verification all happen in ``exorag.chain``.
"""

from __future__ import annotations

import os

# Before gradio is imported: no analytics, no version check, nothing leaves this machine.
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from functools import partial
from pathlib import Path

import gradio as gr
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from exorag.chain import AnswerOptions, answer
from exorag.config import Settings
from exorag.feedback import MAX_COMMENT_CHARACTERS
from exorag.loopback import loopback_host_check
from ui.audit_view import audit_page
from ui.handlers import ChatHandlers, index_overview, overview_html, parse_reference_filter, served_folders
from ui.render import EVIDENCE_HINT, conversation_html

ASSETS = Path(__file__).parent / "assets"
# Answers run this many at a time; everyone else waits in the queue (which has no size limit).
ANSWER_CONCURRENCY = 4
WARM_UP_QUESTION = "How do tumour exosomes affect T cells?"
# Plain-language questions, one for each hallmark the review discusses.
EXAMPLE_QUESTIONS = [
    "How do tumour exosomes blunt T cells?",
    "How does low oxygen change the exosomes that tumours release?",
    "Which cancer-driving receptor do glioblastoma exosomes pass to other cells?",
    "How do melanoma exosomes choose the organ where cancer spreads?",
    "How do exosomes change how cells use glucose?",
    "How can tumour exosomes damage the DNA of other cells?",
    "How do exosomes from senescent stromal cells help tumours?",
    "How do breast cancer exosomes make macrophages inflammatory?",
    "Could exosomal microRNAs help detect cancer early?",
    "Can we stop tumours from releasing exosomes?",
]
THEME = gr.themes.Default(
    primary_hue="teal",
    font=["system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"],
    font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"],
)
SOURCE_CHOICES = [("Review and papers", "all"), ("Review only", "review"), ("Papers only", "literature")]


class UiSettingError(ValueError):
    """A UI setting (such as EXORAG_UI_AUTH) that cannot be used; the message names it."""


def ui_login(settings: Settings) -> tuple[str, str] | None:
    """The login from ``EXORAG_UI_AUTH=user:password`` (``settings.ui_auth``), or None when it is not set."""
    value = settings.ui_auth.get_secret_value().strip() if settings.ui_auth else ""
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise UiSettingError("EXORAG_UI_AUTH: expected user:password (both non-empty)")
    return user, password


def build_app(settings: Settings) -> gr.Blocks:
    """The chat, "Add a paper" and "Literature coverage" tabs for the index in ``settings``."""
    handlers = ChatHandlers(settings)
    overview = index_overview(settings)
    generators = ["extractive", "llm"] if settings.llm_configured else ["extractive"]
    default_generator = settings.generator if settings.generator in generators else "extractive"

    with gr.Blocks(title="exorag: cited answers about tumour exosomes", delete_cache=(3600, 86400)) as app:
        turns = gr.State([])
        header = gr.HTML(overview_html(overview, settings), elem_id="xr-header", js_on_load=None)
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"), gr.Row(equal_height=False):
                with gr.Column(scale=3, min_width=420):
                    conversation = gr.HTML(
                        conversation_html([]), elem_id="xr-conversation", max_height="68vh", autoscroll=True,
                        js_on_load=(ASSETS / "conversation.js").read_text(encoding="utf-8"),
                    )
                    with gr.Row(equal_height=True):
                        question = gr.Textbox(
                            show_label=False, placeholder="Ask about tumour exosomes, e.g. How do tumour exosomes blunt T cells?",
                            lines=1, max_lines=4, scale=6, autofocus=True, container=False, elem_id="xr-question",
                        )
                        ask_button = gr.Button("Ask", variant="primary", scale=1, min_width=90, elem_id="xr-ask")
                    examples = gr.Dataset(
                        components=[question], samples=[[q] for q in EXAMPLE_QUESTIONS],
                        label="Try a question", elem_id="xr-examples", samples_per_page=len(EXAMPLE_QUESTIONS),
                    )
                    with gr.Row(equal_height=True, elem_id="xr-feedback"):
                        thumbs_up = gr.Button("Helpful", icon=str(ASSETS / "thumb-up.svg"), size="sm",
                                              elem_id="xr-thumbs-up", min_width=110, scale=0)
                        thumbs_down = gr.Button("Not helpful", icon=str(ASSETS / "thumb-down.svg"), size="sm",
                                                elem_id="xr-thumbs-down", min_width=130, scale=0)
                        comment = gr.Textbox(show_label=False, placeholder="Optional comment on the last answer",
                                             max_length=MAX_COMMENT_CHARACTERS,
                                             scale=3, container=False, elem_id="xr-comment")
                    feedback_status = gr.HTML("", elem_id="xr-feedback-status", js_on_load=None)
                    with gr.Row():
                        answer_download = gr.DownloadButton(
                            "Download answer (Markdown)", interactive=False, size="sm", elem_id="xr-download-answer")
                        conversation_download = gr.DownloadButton(
                            "Download conversation (Markdown)", interactive=False, size="sm",
                            elem_id="xr-download-conversation")
                        new_chat = gr.Button("New chat", size="sm", elem_id="xr-new-chat")
                    with gr.Row(equal_height=True):
                        cite_format = gr.Dropdown(
                            [("BibTeX", "bibtex"), ("RIS", "ris"), ("CSL-JSON", "csl-json"),
                             ("Formatted bibliography", "text")], value="bibtex", show_label=False, container=False,
                            scale=1, min_width=160, elem_id="xr-cite-format")
                        references_download = gr.DownloadButton(
                            "Download cited references", interactive=False, size="sm", scale=2,
                            elem_id="xr-download-references")
                with gr.Column(scale=2, min_width=320):
                    evidence = gr.HTML(
                        EVIDENCE_HINT, elem_id="xr-evidence", js_on_load=(ASSETS / "evidence.js").read_text(encoding="utf-8"),
                    )
                    pdf_view = gr.HTML(
                        "", elem_id="xr-pdf", js_on_load=(ASSETS / "pdf_view.js").read_text(encoding="utf-8"))
                    with gr.Accordion("Answer settings", open=False, elem_id="xr-settings"):
                        generator = gr.Radio(
                            generators, value=default_generator, label="Generator",
                            info="extractive quotes the literature's own sentences"
                            + ("; llm writes with the configured model." if len(generators) > 1 else
                               ". An LLM appears here when EXORAG_LLM_BASE_URL or EXORAG_LLM_GGUF is set."),
                        )
                        k = gr.Slider(1, 20, value=settings.k, step=1, label="Passages to retrieve")
                        source = gr.Radio(SOURCE_CHOICES, value="all", label="Search in")
                        sections = gr.Dropdown(
                            overview.sections, value=[], multiselect=True, label="Only these sections",
                            info="empty: all sections", allow_custom_value=False,
                        )
                        refs_filter = gr.Textbox("", label="Only passages citing these reference numbers",
                                                 placeholder="e.g. 170-172, 58")
            with gr.Tab("Add a paper", id="add-paper"):
                gr.Markdown(
                    "Add the PDF of a paper the review cites. Give its **reference number** in the review: the file "
                    "is checked, saved as `corpus/literature/<number>_<name>.pdf` and indexed, and answers cite it "
                    "by that number from then on. A file that cannot be read is refused and nothing changes."
                )
                with gr.Row():
                    upload = gr.File(label="PDF of the paper", file_types=[".pdf"], type="filepath", elem_id="xr-upload")
                    with gr.Column():
                        # no precision: Gradio would round 2.5 to 2 before check_number could refuse it
                        number = gr.Number(None, label="Reference number in the review", minimum=1,
                                           elem_id="xr-ref-number")
                        add_button = gr.Button("Add to the corpus", variant="primary", elem_id="xr-add-paper")
                upload_status = gr.HTML("", elem_id="xr-upload-status", js_on_load=None)
            with gr.Tab("Literature coverage", id="coverage") as coverage_tab:
                gr.Markdown(
                    "Every reference number the review cites, and what the corpus holds of that paper: the full "
                    "text, only its abstract, or nothing yet."
                )
                coverage_refresh = gr.Button("Refresh", size="sm")
                coverage = gr.HTML("", elem_id="xr-coverage", js_on_load=None)
            with gr.Tab("Audit", id="audit") as audit_tab:
                gr.Markdown("Each review sentence that cites reference numbers, checked against the text of the "
                            "cited papers in the corpus: supported, partly supported, contradicted, not found, or "
                            "paper not in the corpus.")
                audit_run = gr.Button("Run the audit again", size="sm", elem_id="xr-audit-run")
                audit_view = gr.HTML("", elem_id="xr-audit", js_on_load=None)

        options = [generator, k, source, sections, refs_filter]
        ask_outputs = [conversation, turns, question, answer_download, conversation_download]
        # One queue for every way of asking, so that at most ANSWER_CONCURRENCY answers run at a time.
        # "multiple": a question asked while another is answered is taken, not dropped in silence.
        ask_event = {"fn": handlers.ask, "inputs": [question, turns, *options], "outputs": ask_outputs,
                     "show_progress": "hidden", "concurrency_id": "answer", "concurrency_limit": ANSWER_CONCURRENCY,
                     "trigger_mode": "multiple"}
        # The conversation's references, in the chosen format, after every answer.
        references_event = {"fn": handlers.references_file, "inputs": [turns, cite_format],
                            "outputs": references_download, "api_visibility": "private", "queue": False}
        asking = [question.submit(**ask_event, api_name="ask"), ask_button.click(**ask_event, api_visibility="private"),
                  examples.click(lambda sample: sample[0], examples, question, api_visibility="private", queue=False
                                 ).then(**ask_event, api_visibility="private")]
        for asked in asking:
            asked.then(**references_event)
        cite_format.change(**references_event)
        new_chat_event = {
            "fn": lambda: ([], conversation_html([]), EVIDENCE_HINT, gr.DownloadButton(value=None, interactive=False),
                           gr.DownloadButton(value=None, interactive=False), "",
                           gr.DownloadButton(value=None, interactive=False), ""),
            "outputs": [turns, conversation, evidence, answer_download, conversation_download, feedback_status,
                        references_download, pdf_view],
            "api_visibility": "private", "queue": False}
        # An answer still being written would otherwise bring the old conversation back; an update it
        # sent before the cancel took effect can still arrive after the first reset, hence the second.
        new_chat.click(**new_chat_event, cancels=asking).then(**new_chat_event)
        conversation.click(handlers.show_evidence, [turns], evidence, api_visibility="private",
                           concurrency_limit=None, show_progress="hidden")
        evidence.click(handlers.show_pdf, [turns], pdf_view, api_visibility="private", concurrency_limit=2)
        thumbs_up.click(partial(handlers.rate, 1), [turns, comment], [feedback_status, comment], api_name="rate_helpful",
                        concurrency_limit=None)
        thumbs_down.click(partial(handlers.rate, -1), [turns, comment], [feedback_status, comment],
                          api_name="rate_not_helpful", concurrency_limit=None)
        add_button.click(handlers.add_paper, [upload, number], [upload_status, header, sections, upload, number],
                         api_name="add_paper", concurrency_limit=1, show_progress_on=upload_status)
        coverage_tab.select(handlers.coverage, outputs=coverage, api_name="coverage_tab", api_visibility="private")
        coverage_refresh.click(handlers.coverage, outputs=coverage, api_name="coverage")
        audit_tab.select(partial(audit_page, settings), outputs=audit_view, api_visibility="private")
        audit_run.click(partial(audit_page, settings, run=True), outputs=audit_view, api_name="audit", concurrency_limit=1)
        app.load(handlers.refresh, outputs=[header, sections], api_visibility="private", queue=False)

        def answer_json(question: str, generator: str = "", k: int = 0, source: str = "all",
                        sections: list[str] | None = None, refs: str = "") -> dict:
            """The Answer JSON of DESIGN.md (for scripts: ``Client(url).predict(question, api_name="/answer")``)."""
            options = AnswerOptions(
                generator=generator or None, k=k or None, source_kind=None if source in ("", "all") else source,
                sections=sections or None, refs=parse_reference_filter(refs),
            )
            return answer(question, options, settings).model_dump()

        gr.api(answer_json, api_name="answer", concurrency_id="answer", concurrency_limit=ANSWER_CONCURRENCY)
    return app


# The routes Gradio serves a file of its allowed folders at ("file=" and the older "file/").
FILE_ROUTES = ("gradio_api/file=", "gradio_api/file/")


class CorpusPdfsOnly:
    """ASGI: of the served corpus folders, only PDFs reach the browser. Gradio serves whole folders,
    and an HTML page saved among the papers would run its scripts as the app."""

    def __init__(self, app: ASGIApp, roots: list[Path]) -> None:
        self.app = app
        self.roots = roots

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        route = next((route for route in FILE_ROUTES if route in path), None)
        if route is not None:
            asked = path.split(route, 1)[1]
            # As Gradio reads it (".." taken away as text) and as the disk resolves it (links followed).
            readings = (Path(os.path.normpath(os.path.abspath(asked))), Path(asked).resolve())
            if any(reading.suffix.lower() != ".pdf" and any(reading.is_relative_to(root) for root in self.roots)
                   for reading in readings):
                await PlainTextResponse("Only the corpus's PDFs are served.", status_code=403)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def launch_options(settings: Settings) -> dict:
    """Theme, styles and file access passed to ``launch()`` (Gradio 6 takes them there)."""
    return {
        "theme": THEME,
        "css": (ASSETS / "style.css").read_text(encoding="utf-8"),
        "allowed_paths": [str(p.resolve()) for p in served_folders(settings)],
        "ssr_mode": False,
        "pwa": False,
        "mcp_server": False,
        "show_error": False,  # exception text stays in the server log, never reaches a browser
        "max_file_size": int(settings.max_file_mb * 1_000_000),  # bytes; larger uploads get 413
    }


def warm_up(settings: Settings) -> None:
    """Load the embedding model, the index and the generator before the first user arrives."""
    answer(WARM_UP_QUESTION, AnswerOptions(generator="extractive"), settings)


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 7860, block: bool = True,
          auth: tuple[str, str] | None = None) -> gr.Blocks:
    """Start the chat at http://host:port; with ``block=False`` return the running app (call ``.close()``).

    The login is ``auth`` or, when that is None, ``EXORAG_UI_AUTH=user:password`` if set.
    """
    login = auth or ui_login(settings)
    folders = served_folders(settings)
    warm_up(settings)
    app = build_app(settings)
    app.queue(default_concurrency_limit=ANSWER_CONCURRENCY, max_size=None)
    app.launch(
        server_name=host, server_port=port, auth=login, prevent_thread_lock=not block, quiet=not block,
        app_kwargs={"middleware": [*loopback_host_check(host, settings.allowed_hosts), Middleware(
            CorpusPdfsOnly, roots=[root for folder in folders for root in (folder.resolve(), folder.absolute())])]},
        **launch_options(settings),
    )
    return app
