"""Yes/no verdicts on PubMedQA's development items, retrieval included.

The abstracts (without their conclusions) are laid out as a corpus in a temporary folder, one
``literature/pmidX.txt`` each (``evals.pubmedqa``'s layout), ingested, and every question is asked through ``answer()``:
exorag retrieves, answers and gives a verdict. The gold verdict is the item's ``final_decision``
(``maybe`` is read as ``mixed``). Accuracy is reported per gold label, on a fixed half of the
PMIDs used for tuning (even PMIDs) and, separately, on the other half (odd PMIDs).

    python -m evals.pubmedqa_verdicts --data ../shared/data/pubmedqa-dev/pqal_dev.json --work /tmp/pqa

The data is read where it lies; nothing of it is copied into the repository.
"""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

GOLD = {"yes": "yes", "no": "no", "maybe": "mixed"}
DEFAULT_DATA = Path("../shared/data/pubmedqa-dev/pqal_dev.json")


def tuning_half(pmid: str) -> bool:
    """The fixed half of the items that verdict rules may be tuned on (even PMIDs)."""
    return int(pmid) % 2 == 0


def accuracy_table(rows: list[tuple[str, str]]) -> dict[str, dict[str, float]]:
    """``{label: {"n": …, "accuracy": …}}`` per gold label and ``all``, from ``(gold, predicted)`` pairs."""
    table: dict[str, dict[str, float]] = {}
    for label in [*sorted({gold for gold, _ in rows}), "all"]:
        chosen = [(g, p) for g, p in rows if label in ("all", g)]
        table[label] = {"n": len(chosen), "accuracy": round(sum(g == p for g, p in chosen) / len(chosen), 3) if chosen else 0.0}
    return table


def main(
    data: Annotated[Path, typer.Option(help="PubMedQA's pqal_dev.json")] = DEFAULT_DATA,
    work: Annotated[Path | None, typer.Option(help="folder for the corpus and index (default: a temporary one)")] = None,
    limit: Annotated[int | None, typer.Option(help="only the first N items (by PMID)")] = None,
    half: Annotated[str, typer.Option(help="tuning (even PMIDs), held_out (odd PMIDs) or all")] = "all",
    out: Annotated[Path | None, typer.Option(help="write the per-item verdicts and the tables here (JSON)")] = None,
) -> None:
    from evals.pubmedqa import PubMedQAError, lay_out_corpus, load_pubmedqa
    from exorag.chain import answer
    from exorag.config import get_settings
    from exorag.ingest.sync import sync_corpus

    folder = work or Path(tempfile.mkdtemp(prefix="pubmedqa-"))
    try:
        items = {item.pmid: item for item in load_pubmedqa(data)}
        lay_out_corpus(list(items.values()), folder / "corpus", absent_share=0.0)
    except PubMedQAError as error:
        raise typer.BadParameter(str(error)) from error
    settings = get_settings(corpus=folder / "corpus", index=folder / "index")
    sync_corpus(settings)
    if half not in ("tuning", "held_out", "all"):
        raise typer.BadParameter(f"--half: {half!r}; use tuning, held_out or all")
    chosen = [pmid for pmid in sorted(items) if half == "all" or tuning_half(pmid) == (half == "tuning")][:limit]
    results = []
    for pmid in chosen:
        result = answer(items[pmid].question, settings=settings)
        results.append({"pmid": pmid, "tuning": tuning_half(pmid), "gold": GOLD[items[pmid].decision],
                        "verdict": result.verdict or "none", "shape": result.shape, "abstained": result.abstained,
                        "ms": result.timings_ms.get("total")})
    tables = {
        name: accuracy_table(rows)
        for name in ("tuning", "held_out")
        if (rows := [(r["gold"], r["verdict"]) for r in results if r["tuning"] == (name == "tuning")])
    }
    print("predicted:", dict(Counter(r["verdict"] for r in results)))
    for name, table in tables.items():
        print(f"{name}: " + "  ".join(f"{label} {v['accuracy']:.3f} (n={v['n']})" for label, v in table.items()))
    if out:
        out.write_text(json.dumps({"tables": tables, "items": results}, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    typer.run(main)
