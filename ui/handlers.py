"""What the chat's buttons and boxes do: each handler calls the library and returns HTML to show.

Handlers hold no state of their own between calls: the conversation lives in the browser session
(``gr.State``), the corpus and index on disk.
"""

from __future__ import annotations

import atexit
import logging
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

import gradio as gr

from exorag.chain import AnswerOptions, answer_stream, get_pipeline
from exorag.citations import parse_citation
from exorag.config import Settings
from exorag.feedback import FeedbackStore, default_feedback_path
from exorag.ingest.sync import CorpusMissing
from exorag.refs.export import FILE_SUFFIXES, cited_references, export_references
from exorag.store.chroma import StoreUnavailable
from ui.coverage import coverage_html
from ui.export import answer_markdown, conversation_markdown, file_name_for, write_markdown
from ui.pdf_view import pdf_view_html
from ui.render import EVIDENCE_HINT, FileLinks, Turn, conversation_html, evidence_panel_html
from ui.upload import PaperRejected, add_paper, check_number

log = logging.getLogger(__name__)
# What a browser is told when answering fails; the exception itself goes only to the server log.
ANSWER_FAILED = "Something went wrong while answering; the details are in the server log."


def parse_reference_filter(text: str | None) -> list[int] | None:
    """``"170-172, 58"`` -> [58, 170, 171, 172]; empty -> None; anything else -> gr.Error."""
    if not text or not text.strip():
        return None
    citation = parse_citation(text)
    if citation is None or citation.notes:
        raise gr.Error(f"Reference numbers: cannot read {text.strip()!r}; write numbers and ranges like 170-172, 58.")
    return sorted(citation.numbers)


@dataclass
class IndexOverview:
    """What the index holds, for the header and the section filter."""

    passages: int = 0
    review_passages: int = 0
    reference_numbers: int = 0
    sections: list[str] = field(default_factory=list)


def index_overview(settings: Settings) -> IndexOverview:
    """Passages, cited numbers and sections (review sections in reading order, then the papers')."""
    lexical = get_pipeline(settings).index.lexical
    review_sections: dict[str, None] = {}
    other_sections: set[str] = set()
    for kind, section in zip(lexical.kinds.tolist(), lexical.sections.tolist()):
        if not section:
            continue
        if kind == "review":
            review_sections.setdefault(section, None)
        else:
            other_sections.add(section)
    return IndexOverview(
        passages=len(lexical.ids),
        review_passages=int((lexical.kinds == "review").sum()),
        reference_numbers=len({n for refs in lexical.refs for n in refs}),
        sections=list(review_sections) + sorted(other_sections - set(review_sections)),
    )


def overview_html(overview: IndexOverview, settings: Settings) -> str:
    if not overview.passages:
        status = (
            f'<span class="xr-overview-empty">The index at {escape(str(settings.index))} is empty: run '
            "<code>exorag ingest</code> (or <code>make run</code>) and reload this page.</span>"
        )
    else:
        papers = overview.passages - overview.review_passages
        status = (
            f"{overview.passages} passages indexed ({overview.review_passages} from the review, {papers} from papers), "
            f"with {overview.reference_numbers} reference numbers"
        )
    return (
        "<h1>exorag</h1><p class=\"xr-tagline\">Cited answers about tumour exosomes and the hallmarks of cancer, "
        f'from the review and the papers it cites.</p><p class="xr-overview">{status}</p>'
    )


def notice_html(message: str, kind: str = "") -> str:
    css = f" xr-notice-{kind}" if kind else ""
    return f'<div class="xr-notice{css}">{message}</div>'


class ChatHandlers:
    """The event handlers of one app, sharing its settings, file links, exports and feedback store."""

    def __init__(self, settings: Settings):
        self.settings = settings
        corpus = settings.corpus.resolve()
        self.links = FileLinks(corpus, tuple(p.resolve() for p in served_folders(settings)))
        self.exports = Path(tempfile.mkdtemp(prefix="exorag-exports-"))
        atexit.register(shutil.rmtree, self.exports, True)
        self.feedback = FeedbackStore(default_feedback_path(settings))

    def ask(self, question: str, turns: list[Turn], generator: str, k: float, source: str,
            sections: list[str] | None, refs_text: str):
        """Stream the answer to ``question``: the draft as it is written, then the verified answer."""
        question = (question or "").strip()
        if not question:
            gr.Warning("Type a question first.")
            return
        options = AnswerOptions(
            generator=generator or None,
            k=int(k) if k else None,
            source_kind=None if source in (None, "", "all") else source,
            sections=sections or None,
            refs=parse_reference_filter(refs_text),
            history=[(t.question, t.answer.answer) for t in turns if t.answer is not None],
        )
        pending = Turn(question)
        keep = gr.skip()

        def showing(draft: str, status: str) -> tuple:
            # The box is emptied once, when the question is taken: what is typed while the answer
            # streams is the next question, and stays.
            return conversation_html(turns, pending, draft, status), turns, keep, keep, keep

        yield conversation_html(turns, pending, "", "Searching the literature…"), turns, "", keep, keep
        draft = ""
        try:
            for event in answer_stream(question, options, self.settings):
                if event.kind == "answer" and event.answer is not None:
                    pending.answer = event.answer
                elif event.kind == "token":
                    draft += event.text
                    yield showing(draft, "Writing, then checking every sentence against its evidence…")
                elif event.kind == "status":
                    yield showing(draft, event.text)
        except Exception:  # a view shows any failure as a turn; the details go to the log
            log.exception("answering %r failed", question)
            pending.error = ANSWER_FAILED
        if pending.answer is None and not pending.error:
            pending.error = "The pipeline ended without an answer."
        # Appended to the session's own list, not a copy: a question asked while this one was being
        # answered appends to the same list, and whichever ends last must not drop the other's turn.
        turns.append(pending)
        answer_file, conversation_file = self._export_files(turns)
        yield (
            conversation_html(turns),
            turns,
            keep,
            gr.DownloadButton(value=answer_file, interactive=answer_file is not None),
            gr.DownloadButton(value=conversation_file, interactive=conversation_file is not None),
        )

    def _export_files(self, turns: list[Turn]) -> tuple[str | None, str | None]:
        answers = [t.answer for t in turns if t.answer is not None]
        if not answers:
            return None, None
        folder = self.exports / uuid.uuid4().hex
        last = answers[-1]
        answer_path = write_markdown(folder, file_name_for(last.question, "answer"), answer_markdown(last))
        conversation_path = write_markdown(
            folder, file_name_for(answers[0].question, "conversation"), conversation_markdown(answers)
        )
        return str(answer_path), str(conversation_path)

    def show_evidence(self, turns: list[Turn], event: gr.EventData) -> str:
        """The evidence panel for the chip that was clicked."""
        data = event._data if isinstance(event._data, dict) else {}
        try:
            turn, sentence = int(data["turn"]), int(data["sentence"])
        except (KeyError, TypeError, ValueError):
            return EVIDENCE_HINT
        return evidence_panel_html(turns, turn, sentence, self.links)

    def show_pdf(self, turns: list[Turn], event: gr.EventData) -> str:
        """"Open in PDF": the page of the clicked passage with the chip's sentence highlighted."""
        data = event._data if isinstance(event._data, dict) else {}
        try:
            turn, sentence, evidence_id = int(data["turn"]), int(data["sentence"]), str(data["evidence"])
            answer = turns[turn].answer if turn >= 0 else None
            chosen = answer.sentences[sentence] if answer is not None and sentence >= 0 else None
        except (KeyError, TypeError, ValueError, IndexError):
            return gr.skip()
        evidence = answer.evidence_by_id(evidence_id) if chosen is not None else None
        if evidence is None:
            return gr.skip()
        return pdf_view_html(evidence, chosen.text, self.links)

    def references_file(self, turns: list[Turn], cite_format: str) -> gr.DownloadButton:
        """The references the whole conversation cites, as a file in ``cite_format`` (bibtex, ris, csl-json, text)."""
        answers = [t.answer for t in turns if t.answer is not None]
        references = cited_references(answers)
        if not references:
            return gr.DownloadButton(value=None, interactive=False)
        folder = self.exports / uuid.uuid4().hex
        name = file_name_for(answers[0].question, "references").removesuffix(".md") + FILE_SUFFIXES[cite_format]
        path = write_markdown(folder, name, export_references(references, cite_format))
        return gr.DownloadButton(value=str(path), interactive=True)

    def rate(self, rating: int, turns: list[Turn], comment: str) -> tuple[str, str]:
        """Store a thumbs up (1) or down (-1) for the latest answer."""
        rated = next((t for t in reversed(turns) if t.answer is not None), None)
        if rated is None:
            return notice_html("Ask a question first, then rate its answer."), comment
        try:
            self.feedback.add(rated.question, rated.answer, rating, (comment or "").strip(), channel="ui")
        except ValueError as error:  # the comment is too long: kept in its box to be shortened
            return notice_html(f"Not stored: {escape(str(error))}.", "error"), comment
        verdict = "helpful" if rating > 0 else "not helpful"
        return notice_html(f"Thank you: “{escape(rated.question)}” rated {verdict}.", "ok"), ""

    def add_paper(self, upload: str | None, number: float | None, progress: gr.Progress = gr.Progress()):  # noqa: B008 (Gradio's idiom)
        """Check, save and index an uploaded PDF.

        Returns the message, the refreshed header and section filter, and the emptied upload form
        (the form is kept as it was when the paper is refused, so the user can correct it).
        """
        keep = gr.skip()
        if not upload:
            return notice_html("Choose a PDF first.", "error"), keep, keep, keep, keep
        try:
            reference = check_number(number)

            def report(stage: str, done: int, total: int) -> None:
                share = done / total if total else 1.0
                if stage == "reading":
                    progress(0.5 * share, desc=f"Reading the corpus ({done}/{total} files)")
                else:
                    progress(0.5 + 0.5 * share, desc=f"Indexing passages ({done}/{total})")

            progress(0.0, desc="Checking the PDF")
            added = add_paper(self.settings, Path(upload), reference, Path(upload).name, report)
        except (PaperRejected, StoreUnavailable, CorpusMissing) as error:
            return notice_html(escape(str(error)), "error"), keep, keep, keep, keep
        message = (
            f"Added <code>{escape(added.path)}</code> as reference [{added.number}]: {added.pages} pages with text, "
            f"{added.chunks_added} new passages indexed. Ask about it in the Chat tab."
        )
        if added.other_failures:
            message += "<br>Other corpus files could not be read: " + "; ".join(
                escape(f"{f['path']}: {f['error']}") for f in added.other_failures
            )
        overview = index_overview(self.settings)
        return (notice_html(message, "ok"), overview_html(overview, self.settings), gr.Dropdown(choices=overview.sections),
                None, None)

    def refresh(self) -> tuple[str, gr.Dropdown]:
        """Header and section filter for a page that just loaded (another user may have added papers)."""
        overview = index_overview(self.settings)
        return overview_html(overview, self.settings), gr.Dropdown(choices=overview.sections)

    def coverage(self) -> str:
        try:
            return coverage_html(self.settings.corpus)
        except Exception:  # coverage is a report: show why it failed instead of breaking the tab
            log.exception("coverage failed")
            return notice_html("Coverage could not be computed; the details are in the server log.", "error")


def served_folders(settings: Settings) -> list[Path]:
    """The corpus folders whose PDFs the browser may open (and nothing else on disk)."""
    return [settings.corpus / "review", settings.corpus / "literature"]
