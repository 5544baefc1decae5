"""The Answer as a person reads it in a terminal (rich), used by ``exorag ask``."""

from __future__ import annotations

import re

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from exorag.citations import split_ending
from exorag.facets import uncovered_note
from exorag.links import doi_link, web_link
from exorag.models import Answer
from exorag.shape import BROAD_SHAPES
from exorag.verdict import VERDICT_LABELS

# Terminal sequences in a corpus text (colours, hidden links: CSI and OSC), then any other control
# character but tab and newline.
_CONTROL = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """``text`` without the control characters a terminal would act on."""
    return _CONTROL.sub("", text)


def render_answer(answer: Answer, console: Console) -> None:
    if answer.abstained:
        console.print(Panel(Text(printable(answer.answer), style="yellow"), title="No answer from the literature", border_style="yellow"))
    else:
        body = Text()
        if answer.verdict:
            body.append(VERDICT_LABELS[answer.verdict], style="bold")
            body.append(f"  ({printable(answer.verdict_tally)})\n" if answer.verdict_tally else "\n")
        broad = answer.shape in BROAD_SHAPES and len(answer.sentences) > 1
        for sentence in answer.sentences:
            text, ending = split_ending(printable(sentence.text))
            body.append(("• " if broad else "") + text + " ")
            body.append(sentence.citation, style="bold cyan")
            body.append(ending + ("\n" if broad else " "))
            if sentence.repaired:
                body.append("(quoted from the source) ", style="blue")
            if sentence.flagged:
                body.append("(weakly supported) ", style="red")
        for facet in answer.facets:
            if not facet.covered:
                body.append("\n" + uncovered_note(printable(facet.text)), style="italic")
        notes = [Text(answer.basis_note, style="italic")] if answer.basis_note else []
        notes += [Text(f"generator: {answer.generator}   {answer.timings_ms.get('total', 0):.0f} ms", style="dim")]
        if answer.standalone_question:
            notes.insert(0, Text(f"read as: {printable(answer.standalone_question)}", style="dim"))
        # Text, not str: rich reads a str's brackets as markup ("[/]" crashes, "[link=…]" links).
        console.print(Panel(Group(body, *notes), title=Text(printable(answer.question)), border_style="green"))
    if answer.held_back_note:
        console.print(Text(printable(answer.held_back_note), style="bold yellow"))
    cited = {i for s in answer.sentences for i in s.evidence_ids}
    table = Table(title="Evidence", show_lines=False, expand=True)
    for column in ("id", "source", "section", "page", "refs", "passage"):
        table.add_column(column, overflow="fold")
    for evidence in answer.evidence:
        if cited and evidence.id not in cited:
            continue
        table.add_row(*(Text(printable(cell)) for cell in (
            evidence.id, evidence.source_path, evidence.section, str(evidence.page or ""),
            ", ".join(map(str, evidence.refs)), evidence.text[:300],
        )))
    if answer.evidence:
        console.print(table)
    for reference in answer.references:
        link = doi_link(reference.doi) if reference.doi else web_link(reference.url)
        console.print(Text(printable(f"[{reference.number}] {reference.citation}") + (f"  {link}" if link else "")))
