"""The learned judge: a classifier trained on synthetic pairs from the corpus's own sentences.

``build_judge`` makes pairs (``exorag.judge.synthetic``: FactCC/MiniCheck-style perturbations
that need no labelled data), describes each pair by what the bundled MiniLM and the rule checks
see in it (embedding similarity, word coverage, the entity/number/negation/direction/swap checks,
whether shared terms come in another order, whether an entity's class noun changed), and fits a
four-way logistic regression (supported, partial, contradicted, not_found) on those features. It
is saved as JSON in ``<index>/judge/``. ``LearnedJudge`` reads the claim against the two evidence
windows that share most words with it and keeps the window with the highest support.

Fine-tuning MiniLM itself as a cross-encoder on the same pairs was tried first: on two shared
cores it could not take enough steps in the time allowed, and it learned to call every
paraphrase a contradiction (README, "Auditing citations").
"""

from __future__ import annotations

import json
import re
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from exorag.atomic import write_text_atomic
from exorag.config import Settings, get_settings
from exorag.judge.base import VERDICTS, Judge, JudgeError, JudgeResult, best_sentence, evidence_windows
from exorag.judge.rules import RulesJudge
from exorag.judge.synthetic import Pair, class_nouns_in, generate_pairs
from exorag.text import named_entities, split_sentences, tokenize

MODEL_FOLDER = "judge"
MODEL_FILE = "judge.json"
WINDOW_SENTENCES = 2
# Support thresholds tried when tuning on labelled pairs (without tuning: the most probable verdict).
TUNE_GRID = (0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)
FEATURES = ("score", "coverage", "similarity", "entity_missing", "number_missing", "negation", "asserts_negated",
            "direction", "term_swapped", "rare_missing", "verbatim", "order_discordance", "class_changed",
            "entity_order_discordance")
_PROBLEM_FEATURES = {"entity not": "entity_missing", "number not": "number_missing", "negation": "negation",
                     "asserts what": "asserts_negated", "direction": "direction", "term swapped": "term_swapped"}


def judge_folder(settings: Settings) -> Path:
    """Where the learned judge of an index lives: ``<index>/judge/``."""
    return settings.index / MODEL_FOLDER


def trained(settings: Settings) -> bool:
    return (judge_folder(settings) / MODEL_FILE).is_file()


def _discordance(claim_order: list[str], evidence_order: list[str]) -> float:
    """The share of pairs of shared items that the claim names in the opposite order."""
    position = {item: index for index, item in enumerate(evidence_order)}
    shared = [item for item in dict.fromkeys(claim_order) if item in position]
    pairs = [(a, b) for i, a in enumerate(shared) for b in shared[i + 1 :]]
    if not pairs:
        return 0.0
    return sum(position[a] > position[b] for a, b in pairs) / len(pairs)


def _closest_sentence(claim_terms: set[str], window: str) -> str:
    sentences = [window[start:end] for start, end in split_sentences(window)] or [window]
    return max(sentences, key=lambda sentence: len(claim_terms & set(tokenize(sentence))))


def pair_features(claim: str, window: str, rules: RulesJudge) -> list[float]:
    """What the encoder and the rule checks see in one (claim, evidence window) pair."""
    reasons = rules.reasons(claim, window)
    values = dict.fromkeys(FEATURES, 0.0)
    values.update(score=reasons.score, coverage=reasons.coverage, similarity=reasons.similarity)
    for problem in reasons.problems:
        for prefix, name in _PROBLEM_FEATURES.items():
            if problem.startswith(prefix):
                values[name] = 1.0
        if problem.startswith("rare words"):
            values["rare_missing"] = min(3, problem.count(",") + 1) / 3
    values["verbatim"] = float(reasons.score == 1.0 and reasons.coverage == 1.0)
    claim_terms = set(tokenize(claim))
    closest = _closest_sentence(claim_terms, window)
    values["order_discordance"] = _discordance(tokenize(claim), tokenize(closest))
    values["entity_order_discordance"] = _discordance([e[2].casefold() for e in named_entities(claim)],
                                                      [e[2].casefold() for e in named_entities(closest)])
    window_classes = {m.group(0).lower().rstrip("s") for m in class_nouns_in(window)}
    claim_classes = {m.group(0).lower().rstrip("s") for m in class_nouns_in(claim)}
    values["class_changed"] = float(bool(claim_classes - window_classes) and bool(window_classes))
    return [values[name] for name in FEATURES]


@dataclass
class TrainingReport:
    pairs: int
    seconds: float
    kinds: dict[str, int]
    folder: str


def train_judge(pairs: Sequence[Pair], folder: Path, settings: Settings | None = None,
                progress: Callable[[int, int], None] | None = None) -> TrainingReport:
    """Fit the judge on ``pairs`` and save it in ``folder``; ``progress(done, total)`` as pairs are read."""
    from sklearn.linear_model import LogisticRegression

    if not pairs:
        raise JudgeError("no training pairs: the corpus has no sentences to make them from (is it ingested?)")
    started = time.perf_counter()
    rules = RulesJudge(settings or get_settings())
    # Embedding every text in a few large batches is what makes reading the pairs fast.
    rules.embed_sentences([text for pair in pairs for text in (pair.claim, pair.evidence)])
    rows = []
    for done, pair in enumerate(pairs, start=1):
        rows.append(pair_features(pair.claim, pair.evidence, rules))
        if progress and (done % 50 == 0 or done == len(pairs)):
            progress(done, len(pairs))
    labels = [VERDICTS.index(pair.label) for pair in pairs]
    model = LogisticRegression(max_iter=2000, C=4.0, class_weight="balanced").fit(np.asarray(rows), labels)
    coefficients = np.zeros((len(VERDICTS), len(FEATURES)))
    intercepts = np.full(len(VERDICTS), -30.0)  # a verdict absent from the pairs is never predicted
    for row, label in enumerate(model.classes_):
        coefficients[label] = model.coef_[row] if len(model.classes_) > 2 else (model.coef_[0] * (1 if row else -1))
        intercepts[label] = model.intercept_[row] if len(model.classes_) > 2 else model.intercept_[0] * (1 if row else -1)
    kinds: dict[str, int] = {}
    for pair in pairs:
        kinds[pair.kind] = kinds.get(pair.kind, 0) + 1
    folder.mkdir(parents=True, exist_ok=True)
    report = TrainingReport(len(pairs), round(time.perf_counter() - started, 1), kinds, str(folder))
    (folder / MODEL_FILE).write_text(json.dumps({
        "features": list(FEATURES), "verdicts": list(VERDICTS), "coefficients": coefficients.tolist(),
        "intercepts": intercepts.tolist(), "training": asdict(report)}, indent=1), encoding="utf-8")
    return report


def corpus_texts(settings: Settings) -> list[str]:
    """The text of every source in the index, its chunks joined in order."""
    from exorag.store.chroma import VectorStore

    by_source: dict[str, list] = {}
    for chunk in VectorStore(settings).all_chunks():
        by_source.setdefault(chunk.source_id, []).append(chunk)
    texts = []
    for chunks in by_source.values():
        chunks.sort(key=lambda chunk: chunk.char_start)
        # Overlapping chunks repeat a sentence; keep each chunk's text from where the last one ended.
        pieces, reached = [], 0
        for chunk in chunks:
            skip = max(0, reached - chunk.char_start)
            pieces.append(chunk.text[skip:] if skip < len(chunk.text) else "")
            reached = max(reached, chunk.char_end)
        texts.append(" ".join(piece for piece in pieces if piece))
    return texts


def build_judge(settings: Settings, extra_texts: Iterable[str] = (), max_pairs: int = 4000,
                tune: Sequence[tuple[str, list[str], bool]] = (),
                progress: Callable[[int, int], None] | None = None) -> TrainingReport:
    """Train the learned judge of ``settings.index`` on pairs from the indexed corpus (and
    ``extra_texts``), at most ``max_pairs`` of them, and save it beside the index; with ``tune``
    pairs (claim, passages, supported?), set its support threshold to the one most accurate on them."""
    own = generate_pairs(corpus_texts(settings), seed=1)
    extra = list(extra_texts)
    others = generate_pairs(extra, seed=2) if extra else []
    # The corpus's own pairs first; other texts fill up to max_pairs.
    pairs = (own + others[: max(0, max_pairs - len(own))])[:max_pairs]
    folder = judge_folder(settings)
    # Trained and tuned aside, then put in place whole: an interrupted training leaves the old judge.
    staging = folder.with_name(f".{folder.name}.training")
    report = train_judge(pairs, staging, settings, progress=progress)
    saved = json.loads((staging / MODEL_FILE).read_text(encoding="utf-8"))
    if tune:
        judge = LearnedJudge(staging, settings)
        scores = [result.score for result in judge.judge_many([(claim, passages) for claim, passages, _ in tune])]
        labels = [label for _, _, label in tune]
        saved["threshold"] = max(TUNE_GRID, key=lambda t: sum((score >= t) == label for score, label in zip(scores, labels)))
    saved["training"]["folder"] = str(folder)
    folder.mkdir(parents=True, exist_ok=True)
    write_text_atomic(folder / MODEL_FILE, json.dumps(saved, indent=1))
    shutil.rmtree(staging)
    return replace(report, folder=str(folder))


class LearnedJudge(Judge):
    """The trained classifier's most probable verdict, or ``supported`` from a tuned threshold on
    its probability (the score)."""

    name = "learned"
    threshold: float | None = None

    def __init__(self, folder: str | Path, settings: Settings | None = None, windows: int = 2) -> None:
        super().__init__()
        path = Path(folder) / MODEL_FILE
        if not path.is_file():
            raise JudgeError(f"{folder}: no learned judge here; run `exorag judge train` first")
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
            if saved["features"] != list(FEATURES) or saved["verdicts"] != list(VERDICTS):
                raise ValueError("made by another version of exorag")
            self._coefficients = np.asarray(saved["coefficients"], dtype=np.float64)
            self._intercepts = np.asarray(saved["intercepts"], dtype=np.float64)
            self.threshold = saved.get("threshold")
        except (ValueError, KeyError, TypeError) as error:
            raise JudgeError(f"{path}: not a learned judge exorag can read ({error}); run `exorag judge train` again") from error
        self._rules = RulesJudge(settings)
        self._windows = windows

    def probabilities(self, claim: str, window: str) -> np.ndarray:
        logits = self._coefficients @ np.asarray(pair_features(claim, window, self._rules)) + self._intercepts
        logits = np.exp(logits - logits.max())
        return logits / logits.sum()

    def judge_many(self, items: Sequence[tuple[str, Sequence[str]]]) -> list[JudgeResult]:
        found = [evidence_windows(claim, passages, size=WINDOW_SENTENCES, keep=self._windows) for claim, passages in items]
        self._rules.embed_sentences([text for (claim, _), windows in zip(items, found) for text in (claim, *(w.text for w in windows))])
        results = []
        for (claim, _), windows in zip(items, found):
            if not windows or not re.search(r"\w", claim):
                results.append(JudgeResult("not_found", 0.0))
                continue
            scored = [self.probabilities(claim, window.text) for window in windows]
            best = max(range(len(windows)), key=lambda i: scored[i][0])
            row = scored[best]
            verdict = VERDICTS[int(row.argmax())]
            if self.threshold is not None:
                verdict = "supported" if row[0] >= self.threshold else VERDICTS[1 + int(row[1:].argmax())]
            results.append(JudgeResult(verdict, float(row[0]), best_sentence(claim, windows[best].text), windows[best].passage))
        return results
