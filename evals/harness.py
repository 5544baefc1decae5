"""Run a question set through a system (exorag's ``answer`` or the baseline), item by item.

Every finished item is appended at once to ``items.jsonl`` in the run folder, so an interrupted run
loses nothing: ``resume=True`` keeps the answered items and runs only the rest. An item whose
system raises is recorded with its error and the run goes on; it is retried on resume.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from evals.dataset import EvalItem
from exorag.models import Answer

ITEMS_FILE = "items.jsonl"
# What produced the answers in items.jsonl (system, generator, index): a resume must match it.
PRODUCER_FILE = "producer.json"

AnswerFunction = Callable[[str], Answer]


@dataclass
class ItemResult:
    """What one item produced: an Answer, or the error that stopped it."""

    id: str
    answer: Answer | None = None
    error: str | None = None

    def to_json(self) -> dict:
        return {"id": self.id, "answer": self.answer.model_dump() if self.answer else None, "error": self.error}

    @classmethod
    def from_json(cls, value: dict) -> ItemResult:
        answer = Answer.model_validate(value["answer"]) if value.get("answer") else None
        return cls(id=str(value["id"]), answer=answer, error=value.get("error"))


class ResumeMismatch(ValueError):
    """``--resume`` in a run folder whose answers another system, generator or index produced."""


def read_results(path: Path) -> dict[str, ItemResult]:
    """The last recorded result of each id in an items file (a torn last line is ignored)."""
    results: dict[str, ItemResult] = {}
    if not path.exists():
        return results
    for line in path.read_text(encoding="utf-8").split("\n"):  # "\n" only: answers may hold U+2028
        try:
            result = ItemResult.from_json(json.loads(line))
        except (json.JSONDecodeError, KeyError, ValueError):
            continue  # a line cut short when the run was killed
        results[result.id] = result
    return results


def _describe_producer(producer: dict) -> str:
    return ", ".join(f"{key} {value}" for key, value in producer.items())


def _run_one(item: EvalItem, answer_fn: AnswerFunction) -> ItemResult:
    try:
        return ItemResult(item.id, answer=answer_fn(item.question))
    except Exception as error:  # noqa: BLE001 - any failure of the system under test is data for the report
        message = str(error).strip() or "(no message)"
        return ItemResult(item.id, error=f"{type(error).__name__}: {message}")


def run_items(
    items: Sequence[EvalItem],
    answer_fn: AnswerFunction,
    run_dir: Path,
    *,
    workers: int = 1,
    resume: bool = False,
    progress_label: str | None = "answering",
    warm_up: bool = True,
    producer: dict | None = None,
) -> dict[str, ItemResult]:
    """Answer every item, appending each result to ``run_dir/items.jsonl``; returns results by id.

    ``workers`` threads answer in parallel. With ``resume``, items already answered in the file
    are kept and skipped; without it the file starts empty. ``warm_up`` answers the first pending
    question once before timing starts, so model loading does not land in the latencies.
    ``progress_label`` names a rich progress bar on stderr (None: no bar). ``producer`` (the
    system, generator and index) is kept beside the answers; a resume with another one raises
    ResumeMismatch rather than report one system's answers as another's.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / ITEMS_FILE
    producer_path = run_dir / PRODUCER_FILE
    if resume and producer is not None and producer_path.exists():  # folders from before it resume as they did
        recorded = json.loads(producer_path.read_text(encoding="utf-8"))
        # a folder recorded before the index's content was (index_content) is judged on the rest
        if recorded != {key: value for key, value in producer.items() if key in recorded or key != "index_content"}:
            raise ResumeMismatch(f"{path} holds answers of {_describe_producer(recorded)}, not of "
                                 f"{_describe_producer(producer)}: rerun without --resume, or use another --out")
    if producer is not None:
        producer_path.write_text(json.dumps(producer, indent=2), encoding="utf-8")
    # An answer is reused only for the same question: the file may come from an edited or another dataset.
    questions = {item.id: item.question for item in items}
    done = {id_: r for id_, r in read_results(path).items()
            if r.answer is not None and r.answer.question == questions.get(id_)} if resume else {}
    if not resume:
        path.write_text("", encoding="utf-8")
    pending = [item for item in items if item.id not in done]
    results = dict(done)
    if not pending:
        return results
    if warm_up:
        _run_one(pending[0], answer_fn)

    lock = threading.Lock()
    with path.open("a", encoding="utf-8") as items_file, _progress_bar(progress_label, len(items), len(items) - len(pending)) as advance:

        def record(result: ItemResult) -> None:
            with lock:
                items_file.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
                items_file.flush()
                results[result.id] = result
                advance()

        if workers <= 1:
            for item in pending:
                record(_run_one(item, answer_fn))
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                futures = [pool.submit(_run_one, item, answer_fn) for item in pending]
                try:
                    for future in as_completed(futures):
                        record(future.result())
                except BaseException:
                    pool.shutdown(wait=False, cancel_futures=True)
                    raise
    return results


@contextmanager
def _progress_bar(label: str | None, total: int, completed: int) -> Iterator[Callable[[], None]]:
    """A rich progress bar on stderr; yields the function that advances it (no bar for None)."""
    if label is None:
        yield lambda: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task(label, total=total, completed=completed)
        yield lambda: bar.advance(task)
