"""Judges decide whether evidence supports a claim; every part of exorag that needs that decision
(runtime verification, the eval metrics, ``exorag judge``, the audit) asks one of these.

- ``auto``: the learned judge when one is trained beside the index, else ``rules``.
- ``learned``: MiniLM fine-tuned on synthetic pairs from the corpus (``exorag judge train``).
- ``rules`` (also ``offline``; the default, ``EXORAG_JUDGE``): entity, number, negation and direction checks with word coverage
  and embedding similarity; needs no training.
- ``llm``: an OpenAI-compatible chat model (``EXORAG_LLM_BASE_URL``).
- ``nli``: a cross-encoder NLI model from a local folder (``EXORAG_NLI_MODEL``): MiniCheck,
  AlignScore or any NLI cross-encoder a user has on disk.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from exorag.config import Settings
from exorag.judge.base import VERDICTS, Judge, JudgeError, JudgeResult, Verdict


def _rules(settings: Settings) -> Judge:
    from exorag.judge.rules import RulesJudge

    return RulesJudge(settings)


def _learned(settings: Settings) -> Judge:
    from exorag.judge.learned import LearnedJudge, judge_folder

    return LearnedJudge(judge_folder(settings))


def _auto(settings: Settings) -> Judge:
    from exorag.judge.learned import trained

    return _learned(settings) if trained(settings) else _rules(settings)


def _llm(settings: Settings) -> Judge:
    from exorag.judge.llm import LLMJudge

    return LLMJudge(settings)


def _nli(settings: Settings) -> Judge:
    from exorag.judge.nli import NLIJudge

    return NLIJudge(settings.nli_model)


JUDGES: dict[str, Callable[[Settings], Judge]] = {
    "auto": _auto, "learned": _learned, "rules": _rules, "offline": _rules, "llm": _llm, "nli": _nli,
}


_runtime: dict[str, Judge] = {}
_runtime_lock = threading.Lock()


def runtime_judge(settings: Settings) -> Judge:
    """The judge that verifies answers for ``settings.index`` (``settings.judge``), loaded once per process."""
    key = f"{settings.index.resolve()}:{settings.judge}"
    with _runtime_lock:
        if key not in _runtime:
            _runtime[key] = get_judge(settings.judge, settings)
        return _runtime[key]


def get_judge(name: str, settings: Settings) -> Judge:
    """The judge called ``name``; JudgeError lists the known names, or says what the judge lacks."""
    if name not in JUDGES:
        raise JudgeError(f"unknown judge {name!r}; choose one of: {', '.join(JUDGES)}")
    return JUDGES[name](settings)


__all__ = ["JUDGES", "VERDICTS", "Judge", "JudgeError", "JudgeResult", "Verdict", "get_judge", "runtime_judge"]
