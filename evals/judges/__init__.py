"""Judges decide whether evidence supports a claim; pick one by name (``--judge``).

- ``offline`` (default): content-word, entity and number coverage with embedding similarity.
- ``llm``: an OpenAI-compatible chat model (``EXORAG_LLM_BASE_URL``).
- ``nli``: a cross-encoder NLI model from a local folder (``EXORAG_NLI_MODEL``).
"""

from __future__ import annotations

from collections.abc import Callable

from evals.judges.base import Judge, JudgeError
from exorag.config import Settings


def _offline(settings: Settings) -> Judge:
    from evals.judges.offline import OfflineJudge

    return OfflineJudge(settings)


def _llm(settings: Settings) -> Judge:
    from evals.judges.llm import LLMJudge

    return LLMJudge(settings)


def _nli(settings: Settings) -> Judge:
    from evals.judges.nli import NLIJudge

    return NLIJudge()


JUDGES: dict[str, Callable[[Settings], Judge]] = {"offline": _offline, "llm": _llm, "nli": _nli}


def get_judge(name: str, settings: Settings) -> Judge:
    """The judge called ``name``; JudgeError lists the known names, or says what the judge lacks."""
    if name not in JUDGES:
        raise JudgeError(f"unknown judge {name!r}; choose one of: {', '.join(JUDGES)}")
    return JUDGES[name](settings)


__all__ = ["JUDGES", "Judge", "JudgeError", "get_judge"]
