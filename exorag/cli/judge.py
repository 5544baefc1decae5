"""``exorag judge``: score labelled pairs with a judge, train the learned judge, time it.

- ``exorag judge --dataset PAIRS.jsonl [--judge NAME] [--split tune|test] [--json]``
- ``exorag judge train [--index DIR] [--extra FILE]... [--max-pairs N] [--epochs N]``
- ``exorag judge speed [--index DIR] [--judge NAME]``
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from exorag.cli.common import IndexOption, console, errors, fail, require_index

judge_app = typer.Typer(help="Judges of claim support: score labelled pairs, train the learned judge, time it.",
                        invoke_without_command=True, no_args_is_help=False)

JudgeOption = Annotated[str, typer.Option("--judge", help="rules (default), auto, learned, nli or llm")]


@judge_app.callback()
def score_pairs(
    context: typer.Context,
    dataset: Annotated[Path | None, typer.Option("--dataset", help='JSON Lines of {"claim", "evidence", "label"[, "error_type"]}')] = None,
    judge: JudgeOption = "rules",
    split: Annotated[str | None, typer.Option("--split", help="only the lines whose 'split' field is this (tune or test)")] = None,
    index: IndexOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON with every line's verdict")] = False,
) -> None:
    """Score labelled claim/evidence pairs with a judge: accuracy, precision and recall by error type."""
    if context.invoked_subcommand:
        return
    if dataset is None:
        fail("give --dataset PAIRS.jsonl, or a command: train, speed")
    from evals.calibrate import calibrate
    from evals.dataset import DatasetError, load_judge_pairs
    from exorag.config import get_settings
    from exorag.judge import JudgeError, get_judge

    try:
        pairs = load_judge_pairs(dataset)
        if split:
            pairs = [pair for pair in pairs if getattr(pair, "split", None) == split]
            if not pairs:
                raise DatasetError(f"{dataset}: no line has \"split\": \"{split}\"")
        chosen = get_judge(judge, get_settings(index=index))
        result = calibrate(pairs, chosen)
    except (DatasetError, JudgeError) as error:
        fail(str(error))
    if as_json:
        print(json.dumps(result.as_dict(), ensure_ascii=False, indent=1))
        return
    part = f" ({split} part)" if split else ""
    table = Table(title=f"judge {chosen.name} on {dataset.name}{part} (supported = positive)")
    for column in ("error type", "n", "accuracy", "precision", "recall"):
        table.add_column(column, justify="left" if column == "error type" else "right")
    for name, scores in [("overall", result.overall), *sorted(result.by_error_type.items())]:
        cells = ["–" if value is None else f"{value:.3f}" for value in (scores.accuracy, scores.precision, scores.recall)]
        table.add_row(name, str(scores.n), *cells)
    console.print(table)


def _texts_of(path: Path) -> list[str]:
    """Training texts from a file: plain text or Markdown as one text; a PubMedQA-style JSON
    object of ``{id: {"CONTEXTS": [...]}}`` as one abstract per id, only those of the training
    half (even ids; odd ids are kept for testing)."""
    from exorag.judge.synthetic import pubmedqa_abstracts

    if path.suffix == ".json":
        return pubmedqa_abstracts(path, part="train")
    return [path.read_text(encoding="utf-8", errors="replace")]


@judge_app.command("train")
def train(
    index: IndexOption = None,
    extra: Annotated[list[Path] | None, typer.Option("--extra", help="more text to make pairs from: .txt/.md, or PubMedQA JSON (train half)")] = None,
    max_pairs: Annotated[int, typer.Option("--max-pairs", help="at most this many training pairs", min=1)] = 4000,
    tune: Annotated[Path | None, typer.Option("--tune", help="labelled pairs (JSONL) to set the support threshold on; only lines with \"split\": \"tune\" if any have a split")] = None,
) -> None:
    """Train the learned judge on synthetic pairs from the indexed corpus; saved in <index>/judge/."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from exorag.config import get_settings
    from exorag.judge import JudgeError
    from exorag.judge.learned import build_judge

    settings = get_settings(index=index)
    require_index(settings)
    texts: list[str] = []
    for path in extra or []:
        if not path.is_file():
            fail(f"{path}: no such file")
        try:
            texts += _texts_of(path)
        except (OSError, ValueError, KeyError, TypeError) as error:
            fail(f"{path}: cannot read training text ({error})")
    tune_pairs = []
    if tune is not None:
        from evals.dataset import DatasetError, load_judge_pairs

        try:
            labelled = load_judge_pairs(tune)
        except DatasetError as error:
            fail(str(error))
        if any(getattr(pair, "split", None) for pair in labelled):
            labelled = [pair for pair in labelled if getattr(pair, "split", None) == "tune"]
            if not labelled:
                fail(f'{tune}: no line has "split": "tune"')
        tune_pairs = [(pair.claim, pair.evidence_list, pair.label) for pair in labelled]
    with Progress("reading training pairs", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=errors) as bar:
        task = bar.add_task("train", total=None)
        try:
            report = build_judge(settings, texts, max_pairs=max_pairs, tune=tune_pairs,
                                 progress=lambda done, total: bar.update(task, completed=done, total=total))
        except JudgeError as error:
            fail(str(error))
    kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(report.kinds.items()))
    console.print(f"trained on {report.pairs} pairs ({kinds}) in {report.seconds:.0f} s; saved in {report.folder}")


SPEED_CLAIM = "Exosomal miR-21 from hypoxic tumour cells suppresses PTEN in fibroblasts."


def _speed_passages(tag: str) -> list[str]:
    """Five paragraphs near the speed claim; ``tag`` makes them new texts (nothing of them embedded yet)."""
    return [
        "Tumour cells release vesicles into the circulation. " * 3 + f"Under hypoxia{tag}, exosomal miR-{20 + i} rises "
        "and reaches fibroblasts, where it suppresses PTEN and activates AKT signalling. Fibroblasts then secrete IL-6."
        for i in range(5)
    ]


@judge_app.command("speed")
def speed(index: IndexOption = None, judge: JudgeOption = "rules",
          repeats: Annotated[int, typer.Option("--repeats", min=1)] = 20) -> None:
    """Time one claim against five passages (each a paragraph), the verification of one sentence:
    against passages judged before (an answer's sentences checked one after another against the
    same evidence) and against new ones (their sentences embedded in the time)."""
    from exorag.config import get_settings
    from exorag.judge import JudgeError, get_judge

    try:
        chosen = get_judge(judge, get_settings(index=index))
    except JudgeError as error:
        fail(str(error))
    chosen.judge_many([(SPEED_CLAIM, _speed_passages(""))])  # warm-up: first calls load kernels
    for label, new_passages in (("passages judged before", False), ("new passages", True)):
        timings = []
        for repeat in range(repeats):
            passages = _speed_passages(f" ({label} {repeat})" if new_passages else "")
            started = time.perf_counter()
            chosen.judge_many([(f"{SPEED_CLAIM} ({label} {repeat})", passages)])
            timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        console.print(f"judge {chosen.name}, {label}: one claim against 5 passages in "
                      f"{timings[len(timings) // 2]:.1f} ms median, {timings[-1]:.1f} ms max over {repeats} runs")


DATASETS = Path("evals/datasets")


@judge_app.command("table")
def calibration_table(
    index: IndexOption = None,
    datasets: Annotated[Path, typer.Option("--datasets", help="folder of judge_calibration.jsonl, judge_dev.jsonl and judge_heldout.jsonl")] = DATASETS,
) -> None:
    """Every judge on the calibration file's tune and test parts, the dev file and the held-out file: accuracy,
    precision on supported, and recall (share caught) of each error type, as a Markdown table."""
    from evals.calibrate import calibrate
    from evals.dataset import DatasetError, load_judge_pairs
    from exorag.config import get_settings
    from exorag.judge import JudgeError, get_judge

    settings = get_settings(index=index)
    parts: list[tuple[str, list]] = []
    try:
        calibration = load_judge_pairs(datasets / "judge_calibration.jsonl")
        parts += [(f"calibration {split}", [p for p in calibration if getattr(p, "split", None) == split]) for split in ("tune", "test")]
        for file, part in (("judge_dev.jsonl", "dev"), ("judge_heldout.jsonl", "held-out")):
            if (datasets / file).is_file():
                parts.append((part, load_judge_pairs(datasets / file)))
    except DatasetError as error:
        fail(str(error))
    if not any(pairs for part, pairs in parts if part.startswith("calibration")):
        fail(f'{datasets / "judge_calibration.jsonl"}: no line has a "split" of tune or test')
    error_types = sorted({pair.error_type for _, pairs in parts for pair in pairs if pair.error_type and not pair.label})
    print("| " + " | ".join(["judge", "part", "n", "accuracy", "precision (supported)", "recall (supported)", *error_types]) + " |")
    print("|---|---|---:|---:|---:|---:|" + "---:|" * len(error_types))
    for name in ("rules", "learned", "nli"):
        try:
            judge = get_judge(name, settings)
        except JudgeError as error:
            print(f"| {name} | – | – | not available: {error} |")
            continue
        for part, pairs in parts:
            result = calibrate(pairs, judge)
            caught = [result.by_error_type[kind].accuracy if kind in result.by_error_type else None for kind in error_types]
            cells = [result.overall.accuracy, result.overall.precision, result.overall.recall, *caught]
            print(f"| {name} | {part} | {result.overall.n} | " + " | ".join("–" if v is None else f"{v:.3f}" for v in cells) + " |")
