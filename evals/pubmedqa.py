"""Answerability off the home corpus: PubMedQA abstracts laid out as a corpus, some left out.

Each PubMedQA item is a question written from an article's title and that article's abstract
(without its conclusion). The harness writes the abstracts as ``literature/NNNN_pmidX.txt``,
leaves a fixed share of them out, and asks every question: one whose abstract is present should
be answered from it (retrieval recall, false abstention), one whose abstract is absent should be
abstained on, since nothing else in the corpus answers it.

The items are split by a hash of their PubMed id into a ``tune`` half and a ``test`` half, so a
rule tuned on one half is reported on the other. The choice of absent abstracts is a hash too:
the same on every machine, independent of the split.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from exorag.models import Answer

DATA_FILE = "pqal_dev.json"
SPLITS = ("tune", "test")


class PubMedQAError(ValueError):
    """A PubMedQA file that cannot be read; the message names the file and the item."""


@dataclass(frozen=True)
class PubMedQAItem:
    pmid: str
    question: str
    contexts: list[str]
    long_answer: str
    decision: str
    # Each context's section heading (RESULTS, METHODS, …), where the file gives them.
    labels: tuple[str, ...] = ()

    @property
    def results(self) -> list[str]:
        """The abstract's results sections: headed RESULTS, MAIN RESULTS, PRINCIPAL FINDINGS, … (not METHODS AND RESULTS)."""
        return [context for context, label in zip(self.contexts, self.labels, strict=False) if _RESULTS_HEADING.search(label)]

    @property
    def file_name(self) -> str:
        return f"pmid{self.pmid}.txt"

    @property
    def split(self) -> str:
        return SPLITS[_hash_share(self.pmid, "split") >= 0.5]

    def is_absent(self, share: float) -> bool:
        return _hash_share(self.pmid, "absent") < share


_RESULTS_HEADING = re.compile(r"^(?!.*\bMETHODS?\b).*\b(?:RESULTS?|FINDINGS)\b", re.IGNORECASE)


def _hash_share(pmid: str, salt: str) -> float:
    """A stable number in [0, 1) for ``pmid``: the same on every machine and Python version."""
    digest = hashlib.sha256(f"{salt}:{pmid}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def load_pubmedqa(path: Path) -> list[PubMedQAItem]:
    """The items of a PubMedQA file (``{pmid: {"QUESTION", "CONTEXTS", ...}}``) or of the folder holding one."""
    file = path / DATA_FILE if path.is_dir() else path
    try:
        raw = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise PubMedQAError(f"{file}: cannot read PubMedQA items ({error})") from error
    if not isinstance(raw, dict):
        raise PubMedQAError(f"{file}: expected an object of PubMed ids, found {type(raw).__name__}")
    items = []
    for pmid, entry in raw.items():
        try:
            question, contexts = entry["QUESTION"], entry["CONTEXTS"]
            if not (isinstance(question, str) and question.strip()):
                raise PubMedQAError(f"{file}: item {pmid}: QUESTION must be a non-empty string")
            if not (isinstance(contexts, list) and contexts and all(isinstance(c, str) for c in contexts)):
                raise PubMedQAError(f"{file}: item {pmid}: CONTEXTS must be a list of strings (the abstract's sections)")
            labels = entry.get("LABELS", [])
            if not (isinstance(labels, list) and all(isinstance(label, str) for label in labels)
                    and len(labels) in (0, len(contexts))):
                raise PubMedQAError(f"{file}: item {pmid}: LABELS must be a list of strings, one heading per context")
            items.append(PubMedQAItem(str(pmid), question, contexts, entry.get("LONG_ANSWER", ""),
                                      entry.get("final_decision", ""), tuple(labels)))
        except (KeyError, TypeError) as error:
            raise PubMedQAError(f"{file}: item {pmid}: missing or malformed field {error}") from error
    return items


_ABSTRACT_FILE = re.compile(r"pmid\w+\.txt")


def lay_out_corpus(items: list[PubMedQAItem], corpus: Path, absent_share: float) -> set[str]:
    """Write the present abstracts to ``corpus/literature/``; returns the PubMed ids left out.

    Files are rewritten only when their text changed, so a re-run syncs the index as a no-op. A
    folder holding anything else (a real corpus) is refused: its index would be synced to these
    abstracts, and stale abstracts are deleted.
    """
    literature = corpus / "literature"
    others = sorted(str(path.relative_to(corpus)) for path in corpus.rglob("*")
                    if path.is_file() and not (path.parent == literature and _ABSTRACT_FILE.fullmatch(path.name)))
    if others:
        raise PubMedQAError(f"{corpus} holds files the PubMedQA harness did not write ({', '.join(others[:3])}"
                            f"{', …' if len(others) > 3 else ''}): choose an empty --out")
    literature.mkdir(parents=True, exist_ok=True)
    absent = {item.pmid for item in items if item.is_absent(absent_share)}
    wanted = {item.file_name: "\n\n".join(item.contexts) for item in items if item.pmid not in absent}
    for stale in literature.glob("pmid*.txt"):
        if stale.name not in wanted:
            stale.unlink()
    for name, text in wanted.items():
        path = literature / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    return absent


@dataclass
class SplitScores:
    present: int = 0
    absent: int = 0
    found_at_5: int = 0
    false_abstentions: int = 0
    abstentions_on_absent: int = 0
    # Answered questions whose abstract has a results section, and those whose answer quotes it.
    with_results: int = 0
    results_quoted: int = 0

    def as_dict(self) -> dict[str, float | int | None]:
        def share(count: int, total: int) -> float | None:
            return round(count / total, 3) if total else None

        return {
            "present": self.present,
            "absent": self.absent,
            "retrieval_recall@5": share(self.found_at_5, self.present),
            "false_abstention_rate": share(self.false_abstentions, self.present),
            "abstention_on_absent": share(self.abstentions_on_absent, self.absent),
            "results_quoted": share(self.results_quoted, self.with_results),
        }


def _words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


def quotes_results(item: PubMedQAItem, answer: Answer) -> bool:
    """Whether ``answer`` quotes a sentence of the results section of ``item``'s own abstract."""
    results = [f" {_words(section)} " for section in item.results]
    own = {e.id for e in answer.evidence if Path(e.source_path).name == item.file_name}
    return any(f" {_words(sentence.text)} " in section for sentence in answer.sentences
               if own.intersection(sentence.evidence_ids) for section in results)


def score_answers(items: list[PubMedQAItem], answers: dict[str, Answer], absent: set[str]) -> dict:
    """Per split: recall@5, false abstention and the answers quoting the abstract's results where the
    abstract is present, abstention where it is absent."""
    scores = {split: SplitScores() for split in (*SPLITS, "all")}
    reasons: Counter[str] = Counter()
    for item in items:
        answer = answers[item.pmid]
        for split in (item.split, "all"):
            score = scores[split]
            if item.pmid in absent:
                score.absent += 1
                score.abstentions_on_absent += answer.abstained
            else:
                score.present += 1
                score.false_abstentions += answer.abstained
                score.found_at_5 += any(Path(e.source_path).name == item.file_name for e in answer.evidence[:5])
                if item.results and not answer.abstained:
                    score.with_results += 1
                    score.results_quoted += quotes_results(item, answer)
        if answer.abstained:
            reasons[f"{'absent' if item.pmid in absent else 'present'}:{answer.reason_code}"] += 1
    return {"splits": {name: score.as_dict() for name, score in scores.items()}, "abstention_reasons": dict(reasons)}


def run_harness(items: list[PubMedQAItem], absent: set[str], answer_fn: Callable[[str], Answer], run_dir: Path,
                workers: int = 1) -> dict:
    """Ask every item's question (answers go to ``run_dir/items.jsonl``); returns the scores."""
    from evals.dataset import EvalItem
    from evals.harness import run_items

    questions = [EvalItem(id=item.pmid, question=item.question, answerable=item.pmid not in absent) for item in items]
    results = run_items(questions, answer_fn, run_dir, workers=workers, progress_label="PubMedQA: asking")
    failed = {pmid: result.error for pmid, result in results.items() if result.answer is None}
    answered = [item for item in items if item.pmid not in failed]
    report = score_answers(answered, {pmid: r.answer for pmid, r in results.items() if r.answer}, absent)
    report["failed"] = failed
    return report
