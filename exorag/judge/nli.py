"""The NLI judge: a cross-encoder natural-language-inference model from a local folder.

Set ``EXORAG_NLI_MODEL`` (``Settings.nli_model``) to a folder holding a sentence-transformers CrossEncoder trained for NLI
(labels such as contradiction / entailment / neutral), for example a saved
``cross-encoder/nli-deberta-v3-small``. The score of a pair is the model's probability of
*entailment* with the evidence as premise and the claim as hypothesis, on the few evidence
windows that share most words with the claim; the verdict is the best window's most probable
label (entailment: supported, contradiction: contradicted, neutral: not_found). MiniCheck,
AlignScore or any other cross-encoder saved with such labels plugs in the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from exorag.judge.base import Judge, JudgeError, JudgeResult, Verdict, best_sentence, evidence_windows

SETTING = "EXORAG_NLI_MODEL"


class NLIJudge(Judge):
    """Entailment probability from a local cross-encoder NLI model."""

    name = "nli"
    threshold = 0.5

    def __init__(self, model_path: str | Path | None, batch_size: int = 16) -> None:
        super().__init__()
        path = str(model_path or "")
        if not path:
            raise JudgeError(
                f"the nli judge needs a local cross-encoder NLI model: set {SETTING}=/path/to/model "
                "(a folder saved by sentence-transformers' CrossEncoder, e.g. nli-deberta-v3-small)"
            )
        if not Path(path).is_dir():
            raise JudgeError(f"{SETTING}={path}: no such model folder")
        from sentence_transformers import CrossEncoder

        try:
            self._model = CrossEncoder(path, device="cpu", local_files_only=True)
        except Exception as error:  # transformers raises OSError/ValueError/KeyError for bad folders
            raise JudgeError(f"{SETTING}={path}: not a loadable cross-encoder ({error})") from error
        labels = {int(index): str(label).lower() for index, label in self._model.config.id2label.items()}
        entailment = [index for index, label in labels.items() if label.startswith("entail")]
        if not entailment:
            raise JudgeError(f"{SETTING}={path}: the model has no 'entailment' label (its labels: {sorted(labels.values())})")
        self._entailment = entailment[0]
        self._contradiction = next((index for index, label in labels.items() if label.startswith("contradict")), None)
        self._batch_size = batch_size

    def judge_many(self, items: Sequence[tuple[str, Sequence[str]]]) -> list[JudgeResult]:
        windows = [evidence_windows(claim, passages) for claim, passages in items]
        pairs = [(window.text, claim) for (claim, _), found in zip(items, windows) for window in found]
        rows = self._model.predict(pairs, batch_size=self._batch_size, apply_softmax=True) if pairs else []
        results, position = [], 0
        for (claim, _), found in zip(items, windows):
            if not found:
                results.append(JudgeResult("not_found", 0.0))
                continue
            scored = rows[position : position + len(found)]
            position += len(found)
            best = max(range(len(found)), key=lambda i: float(scored[i][self._entailment]))
            row = scored[best]
            score = float(row[self._entailment])
            label = int(row.argmax())
            verdict: Verdict = (
                "supported" if score >= self.threshold
                else "contradicted" if label == self._contradiction
                else "not_found"
            )
            results.append(JudgeResult(verdict, score, best_sentence(claim, found[best].text), found[best].passage))
        return results
