"""An answer, or a whole conversation, as Markdown a scientist can paste into notes: every sentence
with its citation, the passages it rests on, and the references with their DOIs."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from exorag.citations import split_ending
from exorag.facets import uncovered_note
from exorag.links import doi_link, web_link
from exorag.models import Answer, Reference
from exorag.text import inert_markdown
from exorag.verdict import VERDICT_LABELS

_QUOTE_CHARS = 600


def conversation_markdown(answers: list[Answer], title: str = "exorag conversation") -> str:
    """Markdown of ``answers`` in order, followed by one list of the references they cite."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"# {title}", "", f"_Exported from exorag on {stamp}._", ""]
    references: dict[int, Reference] = {}
    cited: set[int] = set()
    for number, answer in enumerate(answers, start=1):
        lines += _answer_lines(answer, number if len(answers) > 1 else None)
        references.update((r.number, r) for r in answer.references)
        cited.update(n for s in answer.sentences for n in s.refs)
    if cited:
        lines += ["## References", ""]
        for number in sorted(cited):
            lines.append(f"- {_reference_line(number, references.get(number))}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def answer_markdown(answer: Answer) -> str:
    """Markdown of one answer with its evidence and references."""
    return conversation_markdown([answer], title="exorag answer")


def _answer_lines(answer: Answer, number: int | None) -> list[str]:
    prefix = f"{number}. " if number is not None else ""
    lines = [f"## {prefix}{inert_markdown(answer.question)}", ""]
    if answer.standalone_question:
        lines += [f"_Read as: {inert_markdown(answer.standalone_question)}_", ""]
    if answer.verdict and not answer.abstained:
        tally = f" ({inert_markdown(answer.verdict_tally)})" if answer.verdict_tally else ""
        lines += [f"**{VERDICT_LABELS[answer.verdict]}**{tally}", ""]
    if answer.abstained:
        lines += [f"> **No answer from the indexed literature.** {inert_markdown(answer.reason or answer.answer)}", ""]
    else:
        for sentence in answer.sentences:
            text, ending = split_ending(sentence.text)
            flag = " _(weakly supported: check the evidence)_" if sentence.flagged else ""
            lines.append(f"{inert_markdown(text)} {sentence.citation}{ending}{flag}")
        lines.append("")
        notes = [uncovered_note(f.text) for f in answer.facets if not f.covered]
        lines += [f"_{inert_markdown(note)}_" for note in notes] + ([""] if notes else [])
        if answer.basis_note:
            lines += [f"_{inert_markdown(answer.basis_note)}_", ""]
    cited_ids = {i for s in answer.sentences for i in s.evidence_ids}
    shown = [e for e in answer.evidence if e.id in cited_ids] if cited_ids else answer.evidence
    if shown:
        lines += ["### Evidence" if cited_ids else "### Closest passages", ""]
        for evidence in shown:
            where = ", ".join(
                part
                for part in (
                    f"`{evidence.source_path}`",
                    f"section “{inert_markdown(evidence.section)}”" if evidence.section else "",
                    f"p. {inert_markdown(evidence.printed_page or '')}" if evidence.page is not None else "",
                )
                if part
            )
            text = " ".join(evidence.text.split())
            if len(text) > _QUOTE_CHARS:
                text = text[: _QUOTE_CHARS - 1].rsplit(" ", 1)[0] + "…"
            lines += [f"- **{evidence.id}** {inert_markdown(evidence.source_label)} ({where})", f"  > {inert_markdown(text)}"]
        lines.append("")
    lines += [f"_Generator: {answer.generator}._", ""]
    return lines


def _reference_line(number: int, reference: Reference | None) -> str:
    if reference is None or not reference.citation:
        return f"[{number}] (not in the reference list)"
    link = doi_link(reference.doi) if reference.doi else web_link(reference.url)
    return f"[{number}] {inert_markdown(reference.citation)}" + (f" {link}" if link else "")


def file_name_for(question: str, kind: str) -> str:
    """A download name such as ``exorag-answer-how-do-tumour-exosomes-blunt-t-cells.md``."""
    slug = re.sub(r"[^a-z0-9]+", "-", question.lower()).strip("-")[:60].rstrip("-") or "untitled"
    return f"exorag-{kind}-{slug}.md"


def write_markdown(folder: Path, name: str, text: str) -> Path:
    """Write ``text`` to ``folder/name`` and return the path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path
